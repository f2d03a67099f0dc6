/**
 * The reviewed allowlist of DICOM attributes that PS3.15 Annex E does not list and the WSI IOD does
 * not require, but that are kept by default because a viewer or a measurement needs them — and
 * whose values cannot carry free text or identifiers: numbers (US, UL, SL, FL, FD, DS, IS), tag
 * pointers (AT), enumerated code strings (CS with defined terms), lookup-table data, and
 * sequences whose items are themselves judged attribute by attribute (so a kept sequence never
 * carries an unknown element through). Everything not on this list, in Annex E or in the IOD is
 * identifying by default (deid-profile.ts).
 *
 * Deliberately NOT listed (free text, removed by default): descriptions and labels (Optical Path
 * Description, Dimension Description Label, Pyramid Label, Rescale Type, Window Explanation,
 * Stack ID), contributing-equipment and coding-scheme-identification sequences (names of sites
 * and organisations), Position Reference Indicator (emptied: Type 2).
 *
 * An entry applies only when the element has the VR PS3.6 gives it: a "Rows" written as text is
 * not the attribute this list vouches for.
 */
export interface AllowedAttribute {
  tag: string;
  /** PS3.6 keyword (the tests check it against the bundled dictionary). */
  keyword: string;
  why: AllowReason;
}

export type AllowReason =
  | 'image pixel'
  | 'multi-frame'
  | 'functional group'
  | 'optical path'
  | 'coded specimen description'
  | 'code sequence'
  | 'content item'
  | 'display'
  | 'de-identification record';

export const WSI_ALLOWLIST: readonly AllowedAttribute[] = [
  // Image Pixel / WSI Image module: numbers and enumerations describing the pixel matrix.
  { tag: '00280034', keyword: 'PixelAspectRatio', why: 'image pixel' },
  { tag: '00280106', keyword: 'SmallestImagePixelValue', why: 'image pixel' },
  { tag: '00280107', keyword: 'LargestImagePixelValue', why: 'image pixel' },
  { tag: '00281101', keyword: 'RedPaletteColorLookupTableDescriptor', why: 'image pixel' },
  { tag: '00281102', keyword: 'GreenPaletteColorLookupTableDescriptor', why: 'image pixel' },
  { tag: '00281103', keyword: 'BluePaletteColorLookupTableDescriptor', why: 'image pixel' },
  { tag: '00281201', keyword: 'RedPaletteColorLookupTableData', why: 'image pixel' },
  { tag: '00281202', keyword: 'GreenPaletteColorLookupTableData', why: 'image pixel' },
  { tag: '00281203', keyword: 'BluePaletteColorLookupTableData', why: 'image pixel' },
  { tag: '00280302', keyword: 'RecognizableVisualFeatures', why: 'image pixel' },
  { tag: '00480015', keyword: 'RecommendedAbsentPixelCIELabValue', why: 'image pixel' },
  { tag: '00480301', keyword: 'PixelOriginInterpretation', why: 'image pixel' },
  { tag: '00200020', keyword: 'PatientOrientation', why: 'image pixel' },
  { tag: '00189004', keyword: 'ContentQualification', why: 'image pixel' },
  // Multi-frame / concatenation bookkeeping.
  { tag: '00200011', keyword: 'SeriesNumber', why: 'multi-frame' },
  { tag: '00209163', keyword: 'InConcatenationTotalNumber', why: 'multi-frame' },
  { tag: '00286010', keyword: 'RepresentativeFrameNumber', why: 'multi-frame' },
  // Functional groups: where each frame is and how large a pixel is.
  { tag: '00209111', keyword: 'FrameContentSequence', why: 'functional group' },
  { tag: '00209057', keyword: 'InStackPositionNumber', why: 'functional group' },
  { tag: '00209128', keyword: 'TemporalPositionIndex', why: 'functional group' },
  { tag: '00209156', keyword: 'FrameAcquisitionNumber', why: 'functional group' },
  { tag: '00400710', keyword: 'WholeSlideMicroscopyImageFrameTypeSequence', why: 'functional group' },
  { tag: '00480207', keyword: 'OpticalPathIdentificationSequence', why: 'functional group' },
  { tag: '00480110', keyword: 'SpecimenReferenceSequence', why: 'functional group' },
  { tag: '00180088', keyword: 'SpacingBetweenSlices', why: 'functional group' },
  { tag: '00480013', keyword: 'NumberOfFocalPlanes', why: 'functional group' },
  { tag: '00480014', keyword: 'DistanceBetweenFocalPlanes', why: 'functional group' },
  // Optical path: illumination, filters and lenses, as numbers and codes.
  { tag: '00480302', keyword: 'NumberOfOpticalPaths', why: 'optical path' },
  { tag: '00220016', keyword: 'IlluminationTypeCodeSequence', why: 'optical path' },
  { tag: '00480108', keyword: 'IlluminationColorCodeSequence', why: 'optical path' },
  { tag: '00480100', keyword: 'IlluminatorTypeCodeSequence', why: 'optical path' },
  { tag: '00220055', keyword: 'IlluminationWaveLength', why: 'optical path' },
  { tag: '00220017', keyword: 'LightPathFilterTypeStackCodeSequence', why: 'optical path' },
  { tag: '00220001', keyword: 'LightPathFilterPassThroughWavelength', why: 'optical path' },
  { tag: '00220002', keyword: 'LightPathFilterPassBand', why: 'optical path' },
  { tag: '00220018', keyword: 'ImagePathFilterTypeStackCodeSequence', why: 'optical path' },
  { tag: '00220003', keyword: 'ImagePathFilterPassThroughWavelength', why: 'optical path' },
  { tag: '00220004', keyword: 'ImagePathFilterPassBand', why: 'optical path' },
  { tag: '00220019', keyword: 'LensesCodeSequence', why: 'optical path' },
  { tag: '0022001A', keyword: 'ChannelDescriptionCodeSequence', why: 'optical path' },
  { tag: '00480111', keyword: 'CondenserLensPower', why: 'optical path' },
  { tag: '00480112', keyword: 'ObjectiveLensPower', why: 'optical path' },
  { tag: '00480113', keyword: 'ObjectiveLensNumericalAperture', why: 'optical path' },
  { tag: '00480120', keyword: 'PaletteColorLookupTableSequence', why: 'optical path' },
  { tag: '00282002', keyword: 'ColorSpace', why: 'optical path' },
  // What the tissue is, as codes (the free-text descriptions are Annex E attributes, removed).
  { tag: '0040059A', keyword: 'SpecimenTypeCodeSequence', why: 'coded specimen description' },
  { tag: '00082228', keyword: 'PrimaryAnatomicStructureSequence', why: 'coded specimen description' },
  { tag: '00082230', keyword: 'PrimaryAnatomicStructureModifierSequence', why: 'coded specimen description' },
  { tag: '00400518', keyword: 'ContainerTypeCodeSequence', why: 'coded specimen description' },
  // Code Sequence Macro attributes beyond those the IOD table names (enumerations and versions).
  { tag: '0008010F', keyword: 'ContextIdentifier', why: 'code sequence' },
  { tag: '00080105', keyword: 'MappingResource', why: 'code sequence' },
  { tag: '00080106', keyword: 'ContextGroupVersion', why: 'code sequence' },
  { tag: '00400033', keyword: 'UniversalEntityIDType', why: 'code sequence' },
  // Content items (specimen preparation steps): their structure; values are handled by rules.
  { tag: '0040A010', keyword: 'RelationshipType', why: 'content item' },
  // Display: windowing as numbers and an enumerated function.
  { tag: '00281050', keyword: 'WindowCenter', why: 'display' },
  { tag: '00281051', keyword: 'WindowWidth', why: 'display' },
  { tag: '00281056', keyword: 'VOILUTFunction', why: 'display' },
  // Written by every plan (recordDeidentification) with the engine's own constant values.
  { tag: '00120062', keyword: 'PatientIdentityRemoved', why: 'de-identification record' },
  { tag: '00120063', keyword: 'DeidentificationMethod', why: 'de-identification record' },
  { tag: '00120064', keyword: 'DeidentificationMethodCodeSequence', why: 'de-identification record' },
];

const byTag = new Map(WSI_ALLOWLIST.map((a) => [a.tag, a]));

export function allowlistEntry(tag: string): AllowedAttribute | undefined {
  return byTag.get(tag);
}
