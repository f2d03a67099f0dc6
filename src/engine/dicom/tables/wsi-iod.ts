/**
 * What the VL Whole Slide Microscopy Image IOD (PS3.3 A.32.8, with the modules and functional-group
 * macros it includes) requires to be present in an instance. De-identification consults this before
 * acting on a removal request: an attribute the IOD needs with a value (Type 1/1C) is kept, or given
 * a dummy/remapped value if it identifies; one it needs present (Type 2/2C) is emptied; only
 * the rest (Type 3, unlisted) may be deleted. Without this, "remove every field not needed" turns a
 * valid slide into a file that viewers and archives reject.
 *
 * Conditional types (1C/2C) are treated as unconditional: the condition held when the writer put the
 * attribute there, and keeping or blanking an attribute whose condition does not hold is harmless,
 * whereas deleting one whose condition holds breaks the file.
 */

export type IodType = '1' | '1C' | '2' | '2C';

export interface IodAttribute {
  tag: string;
  /** PS3.6 keyword (checked against the bundled dictionary by the tests). */
  keyword: string;
  type: IodType;
  module: string;
  /**
   * Where it applies: omitted = top level of the data set; a list = directly inside an item of one of
   * these sequences; ANY_ITEM = inside an item of any sequence (macros used in many places).
   */
  in?: readonly string[];
}

export const ANY_ITEM: readonly string[] = ['*'];

/** Functional group sequences (shared and per-frame). */
const FG = ['52009229', '52009230'];
/** Sequences whose items are SR-style content items (Content Item Macro, PS3.3 10.2). */
export const CONTENT_ITEM_SEQUENCES: readonly string[] = ['00400612', '0040A730', '00400555', '0040A375', '0040A504', '00400620'];

export const WSI_IOD_ATTRIBUTES: readonly IodAttribute[] = [
  // Patient (C.7.1.1)
  { tag: '00100010', keyword: 'PatientName', type: '2', module: 'Patient' },
  { tag: '00100020', keyword: 'PatientID', type: '2', module: 'Patient' },
  { tag: '00100030', keyword: 'PatientBirthDate', type: '2', module: 'Patient' },
  { tag: '00100040', keyword: 'PatientSex', type: '2', module: 'Patient' },
  // General Study (C.7.2.1)
  { tag: '0020000D', keyword: 'StudyInstanceUID', type: '1', module: 'General Study' },
  { tag: '00080020', keyword: 'StudyDate', type: '2', module: 'General Study' },
  { tag: '00080030', keyword: 'StudyTime', type: '2', module: 'General Study' },
  { tag: '00080090', keyword: 'ReferringPhysicianName', type: '2', module: 'General Study' },
  { tag: '00200010', keyword: 'StudyID', type: '2', module: 'General Study' },
  { tag: '00080050', keyword: 'AccessionNumber', type: '2', module: 'General Study' },
  // General Series (C.7.3.1) + Whole Slide Microscopy Series (C.8.12.3): Modality = SM
  { tag: '00080060', keyword: 'Modality', type: '1', module: 'Whole Slide Microscopy Series' },
  { tag: '0020000E', keyword: 'SeriesInstanceUID', type: '1', module: 'General Series' },
  { tag: '00200011', keyword: 'SeriesNumber', type: '2', module: 'General Series' },
  // Frame of Reference (C.7.4.1)
  { tag: '00200052', keyword: 'FrameOfReferenceUID', type: '1', module: 'Frame of Reference' },
  { tag: '00201040', keyword: 'PositionReferenceIndicator', type: '2', module: 'Frame of Reference' },
  // General Equipment (C.7.5.1) as tightened by Enhanced General Equipment (C.7.5.2)
  { tag: '00080070', keyword: 'Manufacturer', type: '1', module: 'Enhanced General Equipment' },
  { tag: '00081090', keyword: 'ManufacturerModelName', type: '1', module: 'Enhanced General Equipment' },
  { tag: '00181000', keyword: 'DeviceSerialNumber', type: '1', module: 'Enhanced General Equipment' },
  { tag: '00181020', keyword: 'SoftwareVersions', type: '1', module: 'Enhanced General Equipment' },
  // Image Pixel (C.7.6.3)
  { tag: '00280002', keyword: 'SamplesPerPixel', type: '1', module: 'Image Pixel' },
  { tag: '00280004', keyword: 'PhotometricInterpretation', type: '1', module: 'Image Pixel' },
  { tag: '00280006', keyword: 'PlanarConfiguration', type: '1C', module: 'Image Pixel' },
  { tag: '00280010', keyword: 'Rows', type: '1', module: 'Image Pixel' },
  { tag: '00280011', keyword: 'Columns', type: '1', module: 'Image Pixel' },
  { tag: '00280100', keyword: 'BitsAllocated', type: '1', module: 'Image Pixel' },
  { tag: '00280101', keyword: 'BitsStored', type: '1', module: 'Image Pixel' },
  { tag: '00280102', keyword: 'HighBit', type: '1', module: 'Image Pixel' },
  { tag: '00280103', keyword: 'PixelRepresentation', type: '1', module: 'Image Pixel' },
  { tag: '00282000', keyword: 'ICCProfile', type: '1C', module: 'Image Pixel' },
  // Acquisition Context (C.7.6.14)
  { tag: '00400555', keyword: 'AcquisitionContextSequence', type: '2', module: 'Acquisition Context' },
  // Multi-frame Functional Groups (C.7.6.16): InstanceNumber and ContentDate/Time are Type 1 here
  { tag: '52009229', keyword: 'SharedFunctionalGroupsSequence', type: '1', module: 'Multi-frame Functional Groups' },
  { tag: '52009230', keyword: 'PerFrameFunctionalGroupsSequence', type: '1C', module: 'Multi-frame Functional Groups' },
  { tag: '00200013', keyword: 'InstanceNumber', type: '1', module: 'Multi-frame Functional Groups' },
  { tag: '00080023', keyword: 'ContentDate', type: '1', module: 'Multi-frame Functional Groups' },
  { tag: '00080033', keyword: 'ContentTime', type: '1', module: 'Multi-frame Functional Groups' },
  { tag: '00280008', keyword: 'NumberOfFrames', type: '1', module: 'Multi-frame Functional Groups' },
  { tag: '00209161', keyword: 'ConcatenationUID', type: '1C', module: 'Multi-frame Functional Groups' },
  { tag: '00209162', keyword: 'InConcatenationNumber', type: '1C', module: 'Multi-frame Functional Groups' },
  { tag: '00209228', keyword: 'ConcatenationFrameOffsetNumber', type: '1C', module: 'Multi-frame Functional Groups' },
  // Multi-frame Dimension (C.7.6.17)
  { tag: '00209221', keyword: 'DimensionOrganizationSequence', type: '1', module: 'Multi-frame Dimension' },
  { tag: '00209222', keyword: 'DimensionIndexSequence', type: '1', module: 'Multi-frame Dimension' },
  { tag: '00209164', keyword: 'DimensionOrganizationUID', type: '1', module: 'Multi-frame Dimension', in: ['00209221'] },
  { tag: '00209165', keyword: 'DimensionIndexPointer', type: '1', module: 'Multi-frame Dimension', in: ['00209222'] },
  { tag: '00209164', keyword: 'DimensionOrganizationUID', type: '1C', module: 'Multi-frame Dimension', in: ['00209222'] },
  { tag: '00209167', keyword: 'FunctionalGroupPointer', type: '1C', module: 'Multi-frame Dimension', in: ['00209222'] },
  // Specimen (C.7.6.22)
  { tag: '00400512', keyword: 'ContainerIdentifier', type: '1', module: 'Specimen' },
  { tag: '00400513', keyword: 'IssuerOfTheContainerIdentifierSequence', type: '2', module: 'Specimen' },
  { tag: '00400518', keyword: 'ContainerTypeCodeSequence', type: '2', module: 'Specimen' },
  { tag: '00400560', keyword: 'SpecimenDescriptionSequence', type: '1', module: 'Specimen' },
  { tag: '00400551', keyword: 'SpecimenIdentifier', type: '1', module: 'Specimen', in: ['00400560'] },
  { tag: '00400562', keyword: 'IssuerOfTheSpecimenIdentifierSequence', type: '2', module: 'Specimen', in: ['00400560'] },
  { tag: '00400554', keyword: 'SpecimenUID', type: '1', module: 'Specimen', in: ['00400560'] },
  { tag: '00400610', keyword: 'SpecimenPreparationSequence', type: '2', module: 'Specimen', in: ['00400560'] },
  { tag: '00400620', keyword: 'SpecimenLocalizationContentItemSequence', type: '1C', module: 'Specimen', in: ['00400560'] },
  { tag: '00400612', keyword: 'SpecimenPreparationStepContentItemSequence', type: '1', module: 'Specimen', in: ['00400610'] },
  // HL7v2 Hierarchic Designator Macro (10.14), in the issuer sequences
  { tag: '00400031', keyword: 'LocalNamespaceEntityID', type: '1C', module: 'HL7v2 Hierarchic Designator', in: ['00400513', '00400562'] },
  { tag: '00400032', keyword: 'UniversalEntityID', type: '1C', module: 'HL7v2 Hierarchic Designator', in: ['00400513', '00400562'] },
  { tag: '00400033', keyword: 'UniversalEntityIDType', type: '1C', module: 'HL7v2 Hierarchic Designator', in: ['00400513', '00400562'] },
  // Whole Slide Microscopy Image (C.8.12.4)
  { tag: '00080008', keyword: 'ImageType', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '0008002A', keyword: 'AcquisitionDateTime', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00189073', keyword: 'AcquisitionDuration', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00089206', keyword: 'VolumetricProperties', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480001', keyword: 'ImagedVolumeWidth', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480002', keyword: 'ImagedVolumeHeight', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480003', keyword: 'ImagedVolumeDepth', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00480006', keyword: 'TotalPixelMatrixColumns', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480007', keyword: 'TotalPixelMatrixRows', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480303', keyword: 'TotalPixelMatrixFocalPlanes', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00480008', keyword: 'TotalPixelMatrixOriginSequence', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480102', keyword: 'ImageOrientationSlide', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480010', keyword: 'SpecimenLabelInImage', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00280301', keyword: 'BurnedInAnnotation', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480011', keyword: 'FocusMethod', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480012', keyword: 'ExtendedDepthOfField', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00480013', keyword: 'NumberOfFocalPlanes', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00480014', keyword: 'DistanceBetweenFocalPlanes', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00209311', keyword: 'DimensionOrganizationType', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00282110', keyword: 'LossyImageCompression', type: '1', module: 'Whole Slide Microscopy Image' },
  { tag: '00282112', keyword: 'LossyImageCompressionRatio', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00282114', keyword: 'LossyImageCompressionMethod', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '20500020', keyword: 'PresentationLUTShape', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00281052', keyword: 'RescaleIntercept', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '00281053', keyword: 'RescaleSlope', type: '1C', module: 'Whole Slide Microscopy Image' },
  { tag: '0040072A', keyword: 'XOffsetInSlideCoordinateSystem', type: '1', module: 'Whole Slide Microscopy Image', in: ['00480008', '0048021A'] },
  { tag: '0040073A', keyword: 'YOffsetInSlideCoordinateSystem', type: '1', module: 'Whole Slide Microscopy Image', in: ['00480008', '0048021A'] },
  { tag: '0040074A', keyword: 'ZOffsetInSlideCoordinateSystem', type: '1', module: 'Plane Position (Slide)', in: ['0048021A'] },
  // Optical Path (C.8.12.5)
  { tag: '00480302', keyword: 'NumberOfOpticalPaths', type: '1C', module: 'Optical Path' },
  { tag: '00480105', keyword: 'OpticalPathSequence', type: '1', module: 'Optical Path' },
  { tag: '00480106', keyword: 'OpticalPathIdentifier', type: '1', module: 'Optical Path', in: ['00480105', '00480207'] },
  { tag: '00220016', keyword: 'IlluminationTypeCodeSequence', type: '1', module: 'Optical Path', in: ['00480105'] },
  { tag: '00480108', keyword: 'IlluminationColorCodeSequence', type: '1C', module: 'Optical Path', in: ['00480105'] },
  { tag: '00220055', keyword: 'IlluminationWaveLength', type: '1C', module: 'Optical Path', in: ['00480105'] },
  { tag: '00282000', keyword: 'ICCProfile', type: '1C', module: 'Optical Path', in: ['00480105'] },
  // Slide Label (C.8.12.8): required for LABEL images, where its attributes are Type 2
  { tag: '22000002', keyword: 'LabelText', type: '2C', module: 'Slide Label' },
  { tag: '22000005', keyword: 'BarcodeValue', type: '2C', module: 'Slide Label' },
  // Functional groups of the WSI IOD (A.32.8-2)
  { tag: '00289110', keyword: 'PixelMeasuresSequence', type: '1', module: 'Pixel Measures', in: FG },
  { tag: '00280030', keyword: 'PixelSpacing', type: '1C', module: 'Pixel Measures', in: ['00289110'] },
  { tag: '00180050', keyword: 'SliceThickness', type: '1C', module: 'Pixel Measures', in: ['00289110'] },
  { tag: '00400710', keyword: 'WholeSlideMicroscopyImageFrameTypeSequence', type: '1', module: 'WSI Image Frame Type', in: FG },
  { tag: '00089007', keyword: 'FrameType', type: '1', module: 'WSI Image Frame Type', in: ['00400710'] },
  { tag: '0048021A', keyword: 'PlanePositionSlideSequence', type: '1', module: 'Plane Position (Slide)', in: FG },
  { tag: '0048021E', keyword: 'ColumnPositionInTotalImagePixelMatrix', type: '1', module: 'Plane Position (Slide)', in: ['0048021A'] },
  { tag: '0048021F', keyword: 'RowPositionInTotalImagePixelMatrix', type: '1', module: 'Plane Position (Slide)', in: ['0048021A'] },
  { tag: '00480207', keyword: 'OpticalPathIdentificationSequence', type: '1', module: 'Optical Path Identification', in: FG },
  { tag: '00209111', keyword: 'FrameContentSequence', type: '1', module: 'Frame Content', in: FG },
  { tag: '00209157', keyword: 'DimensionIndexValues', type: '1C', module: 'Frame Content', in: ['00209111'] },
  { tag: '00189074', keyword: 'FrameAcquisitionDateTime', type: '1C', module: 'Frame Content', in: ['00209111'] },
  { tag: '00189151', keyword: 'FrameReferenceDateTime', type: '1C', module: 'Frame Content', in: ['00209111'] },
  { tag: '00189220', keyword: 'FrameAcquisitionDuration', type: '1C', module: 'Frame Content', in: ['00209111'] },
  // SOP Common (C.12.1)
  { tag: '00080005', keyword: 'SpecificCharacterSet', type: '1C', module: 'SOP Common' },
  { tag: '00080016', keyword: 'SOPClassUID', type: '1', module: 'SOP Common' },
  { tag: '00080018', keyword: 'SOPInstanceUID', type: '1', module: 'SOP Common' },
  { tag: '00080070', keyword: 'Manufacturer', type: '1', module: 'SOP Common', in: ['0018A001'] },
  { tag: '0040A170', keyword: 'PurposeOfReferenceCodeSequence', type: '1', module: 'SOP Common', in: ['0018A001'] },
  // Common Instance Reference (C.12.2)
  { tag: '00081115', keyword: 'ReferencedSeriesSequence', type: '1C', module: 'Common Instance Reference' },
  { tag: '00081200', keyword: 'StudiesContainingOtherReferencedInstancesSequence', type: '1C', module: 'Common Instance Reference' },
  { tag: '0020000D', keyword: 'StudyInstanceUID', type: '1', module: 'Common Instance Reference', in: ['00081200'] },
  { tag: '0020000E', keyword: 'SeriesInstanceUID', type: '1', module: 'Common Instance Reference', in: ['00081115'] },
  { tag: '00081115', keyword: 'ReferencedSeriesSequence', type: '1', module: 'Common Instance Reference', in: ['00081200'] },
  { tag: '0008114A', keyword: 'ReferencedInstanceSequence', type: '1', module: 'Common Instance Reference', in: ['00081115'] },
  // SOP Instance Reference Macro (10.8): wherever an instance is referenced
  { tag: '00081150', keyword: 'ReferencedSOPClassUID', type: '1', module: 'SOP Instance Reference', in: ANY_ITEM },
  { tag: '00081155', keyword: 'ReferencedSOPInstanceUID', type: '1', module: 'SOP Instance Reference', in: ANY_ITEM },
  // Code Sequence Macro (8.8): every item of every code sequence
  { tag: '00080100', keyword: 'CodeValue', type: '1C', module: 'Code Sequence', in: ANY_ITEM },
  { tag: '00080102', keyword: 'CodingSchemeDesignator', type: '1C', module: 'Code Sequence', in: ANY_ITEM },
  { tag: '00080103', keyword: 'CodingSchemeVersion', type: '1C', module: 'Code Sequence', in: ANY_ITEM },
  { tag: '00080104', keyword: 'CodeMeaning', type: '1', module: 'Code Sequence', in: ANY_ITEM },
  { tag: '00080119', keyword: 'LongCodeValue', type: '1C', module: 'Code Sequence', in: ANY_ITEM },
  { tag: '00080120', keyword: 'URNCodeValue', type: '1C', module: 'Code Sequence', in: ANY_ITEM },
  // Content Item Macro (10.2): specimen preparation steps, acquisition context, localization
  { tag: '0040A040', keyword: 'ValueType', type: '1', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A043', keyword: 'ConceptNameCodeSequence', type: '1', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A168', keyword: 'ConceptCodeSequence', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A300', keyword: 'MeasuredValueSequence', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A30A', keyword: 'NumericValue', type: '1C', module: 'Content Item', in: [...CONTENT_ITEM_SEQUENCES, '0040A300'] },
  { tag: '004008EA', keyword: 'MeasurementUnitsCodeSequence', type: '1C', module: 'Content Item', in: [...CONTENT_ITEM_SEQUENCES, '0040A300'] },
  { tag: '0040A160', keyword: 'TextValue', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A120', keyword: 'DateTime', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A121', keyword: 'Date', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A122', keyword: 'Time', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A123', keyword: 'PersonName', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
  { tag: '0040A124', keyword: 'UID', type: '1C', module: 'Content Item', in: CONTENT_ITEM_SEQUENCES },
];

/**
 * Integrity keep list (../shared/reference/README.md "Keep"): never changed, whatever the request or
 * the profile says, because the image cannot be displayed or measured without them. Most are also
 * Type 1 above; some (Extended Offset Table, Dimension Index Values…) are not, and are kept anyway.
 */
export const WSI_INTEGRITY_KEEP: ReadonlySet<string> = new Set([
  '00080008', '00080016', '00280002', '00280004', '00280006', '00280008', '00280010', '00280011', '00280100',
  '00280101', '00280102', '00280103', '00280301', '00282000', '00280030', '00180050', '00209311', '00209221',
  '00209222', '00480001', '00480002', '00480003', '00480006', '00480007', '00480008', '00480010', '00480011',
  '00480012', '00480102', '00480105', '0048021A', '0048021E', '0048021F', '0040072A', '0040073A', '0040074A',
  '00480303', '52009229', '52009230', '00289110', '7FE00001', '7FE00002', '00280120', '00282110', '00282112',
  '00282114', '00209157', '00209165', '00209167',
]);

const byTag = new Map<string, IodAttribute[]>();
for (const a of WSI_IOD_ATTRIBUTES) byTag.set(a.tag, [...(byTag.get(a.tag) ?? []), a]);

/**
 * The requirement on an element at this place (`parents`: enclosing sequence tags, outermost first),
 * or undefined when the IOD does not require it (Type 3 or not part of the IOD).
 */
export function iodRequirement(parents: readonly string[], tag: string): IodAttribute | undefined {
  const entries = byTag.get(tag);
  if (!entries) return undefined;
  const parent = parents[parents.length - 1];
  if (parent === undefined) return entries.find((a) => a.in === undefined);
  return entries.find((a) => a.in?.includes(parent)) ?? entries.find((a) => a.in === ANY_ITEM);
}

export function mustHaveValue(req: IodAttribute | undefined): boolean {
  return req?.type === '1' || req?.type === '1C';
}

export function mustBePresent(req: IodAttribute | undefined): boolean {
  return req !== undefined;
}
