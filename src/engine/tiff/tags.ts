/** TIFF tag numbers and field types used by the readers, drivers and the redaction planner. */

export const Tag = {
  NewSubfileType: 254,
  SubfileType: 255,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  DocumentName: 269,
  ImageDescription: 270,
  Make: 271,
  Model: 272,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfig: 284,
  PageName: 285,
  ResolutionUnit: 296,
  Software: 305,
  DateTime: 306,
  Artist: 315,
  HostComputer: 316,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SubIFDs: 330,
  JPEGTables: 347,
  JPEGInterchangeFormat: 513,
  JPEGInterchangeFormatLength: 514,
  YCbCrSubsampling: 530,
  XMP: 700,
  ImageDepth: 32997,
  TileDepth: 32998,
  Copyright: 33432,
  IPTC: 33723,
  Photoshop: 34377,
  ExifIFD: 34665,
  ICCProfile: 34675,
  GPSIFD: 34853,
  InteropIFD: 40965,
} as const;

/** Tags whose value is a pointer to a child IFD that belongs to the parent (not in the main chain). */
export const CHILD_IFD_TAGS: ReadonlySet<number> = new Set([Tag.SubIFDs, Tag.ExifIFD, Tag.GPSIFD, Tag.InteropIFD]);

export const TAG_NAMES: Record<number, string> = {
  254: 'NewSubfileType', 255: 'SubfileType', 256: 'ImageWidth', 257: 'ImageLength', 258: 'BitsPerSample',
  259: 'Compression', 262: 'PhotometricInterpretation', 263: 'Threshholding', 264: 'CellWidth', 265: 'CellLength',
  266: 'FillOrder', 269: 'DocumentName', 270: 'ImageDescription', 271: 'Make', 272: 'Model', 273: 'StripOffsets',
  274: 'Orientation', 277: 'SamplesPerPixel', 278: 'RowsPerStrip', 279: 'StripByteCounts', 280: 'MinSampleValue',
  281: 'MaxSampleValue', 282: 'XResolution', 283: 'YResolution', 284: 'PlanarConfiguration', 285: 'PageName',
  286: 'XPosition', 287: 'YPosition', 288: 'FreeOffsets', 289: 'FreeByteCounts', 290: 'GrayResponseUnit',
  291: 'GrayResponseCurve', 292: 'T4Options', 293: 'T6Options', 296: 'ResolutionUnit', 297: 'PageNumber',
  301: 'TransferFunction', 305: 'Software', 306: 'DateTime', 315: 'Artist', 316: 'HostComputer', 317: 'Predictor',
  318: 'WhitePoint', 319: 'PrimaryChromaticities', 320: 'ColorMap', 321: 'HalftoneHints', 322: 'TileWidth',
  323: 'TileLength', 324: 'TileOffsets', 325: 'TileByteCounts', 330: 'SubIFDs', 332: 'InkSet', 333: 'InkNames',
  334: 'NumberOfInks', 336: 'DotRange', 337: 'TargetPrinter', 338: 'ExtraSamples', 339: 'SampleFormat',
  340: 'SMinSampleValue', 341: 'SMaxSampleValue', 342: 'TransferRange', 343: 'ClipPath', 347: 'JPEGTables',
  512: 'JPEGProc', 513: 'JPEGInterchangeFormat', 514: 'JPEGInterchangeFormatLength', 515: 'JPEGRestartInterval',
  517: 'JPEGLosslessPredictors', 518: 'JPEGPointTransforms', 519: 'JPEGQTables', 520: 'JPEGDCTables',
  521: 'JPEGACTables', 529: 'YCbCrCoefficients', 530: 'YCbCrSubsampling', 531: 'YCbCrPositioning',
  532: 'ReferenceBlackWhite', 700: 'XMP', 32781: 'ImageID', 32997: 'ImageDepth', 32998: 'TileDepth',
  33432: 'Copyright', 33723: 'IPTC', 34377: 'Photoshop', 34665: 'ExifIFD', 34675: 'ICCProfile', 34853: 'GPSIFD',
  37724: 'ImageSourceData', 40965: 'InteropIFD', 42016: 'ImageUniqueID', 50341: 'PrintImageMatching',
};

export function tagName(tag: number): string {
  return TAG_NAMES[tag] ?? (tag >= 32768 ? `Private tag ${tag}` : `Unknown tag ${tag}`);
}

/** Bytes per value for each TIFF field type; 0 = unknown type (value never read). */
export function typeSize(type: number): number {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1; // BYTE ASCII SBYTE UNDEFINED
    case 3: case 8: return 2; // SHORT SSHORT
    case 4: case 9: case 11: case 13: return 4; // LONG SLONG FLOAT IFD
    case 5: case 10: case 12: case 16: case 17: case 18: return 8; // RATIONAL SRATIONAL DOUBLE LONG8 SLONG8 IFD8
    default: return 0;
  }
}

export const TYPE_ASCII = 2;

export const COMPRESSION_NAMES: Record<number, string> = {
  1: 'None', 5: 'LZW', 6: 'Old JPEG', 7: 'JPEG', 8: 'Deflate', 32946: 'Deflate', 32773: 'PackBits',
  33003: 'JPEG 2000', 33005: 'JPEG 2000', 34712: 'JPEG 2000', 50000: 'Zstd', 34887: 'LERC', 50001: 'WebP',
};

export function compressionName(c: number): string {
  return COMPRESSION_NAMES[c] ?? `Compression ${c}`;
}
