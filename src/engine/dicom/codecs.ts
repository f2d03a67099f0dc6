import { isWellFormedUid } from './dataset.ts';
import { TS_DEFLATED_LE, TS_EXPLICIT_LE, TS_IMPLICIT_LE } from './part10.ts';

/** How the frames of a transfer syntax are handed out (EncodedTile.codec) and named for people. */
export interface FrameCodec {
  codec: string | undefined;
  name: string;
}

const CODECS: Record<string, FrameCodec> = {
  '1.2.840.10008.1.2.4.50': { codec: 'image/jpeg', name: 'JPEG' },
  '1.2.840.10008.1.2.4.51': { codec: 'image/jpeg', name: 'JPEG' },
  '1.2.840.10008.1.2.4.57': { codec: 'image/jpeg', name: 'JPEG lossless' },
  '1.2.840.10008.1.2.4.70': { codec: 'image/jpeg', name: 'JPEG lossless' },
  '1.2.840.10008.1.2.4.80': { codec: 'image/jls', name: 'JPEG-LS' },
  '1.2.840.10008.1.2.4.81': { codec: 'image/jls', name: 'JPEG-LS' },
  '1.2.840.10008.1.2.4.90': { codec: 'image/jp2', name: 'JPEG 2000' },
  '1.2.840.10008.1.2.4.91': { codec: 'image/jp2', name: 'JPEG 2000' },
  '1.2.840.10008.1.2.4.201': { codec: 'image/jp2', name: 'HTJ2K' },
  '1.2.840.10008.1.2.4.202': { codec: 'image/jp2', name: 'HTJ2K' },
  '1.2.840.10008.1.2.4.203': { codec: 'image/jp2', name: 'HTJ2K' },
  '1.2.840.10008.1.2.4.110': { codec: 'image/jxl', name: 'JPEG XL' },
  '1.2.840.10008.1.2.4.111': { codec: 'image/jxl', name: 'JPEG XL' },
  '1.2.840.10008.1.2.4.112': { codec: 'image/jxl', name: 'JPEG XL' },
  '1.2.840.10008.1.2.5': { codec: 'dicom/rle', name: 'RLE' },
  [TS_IMPLICIT_LE]: { codec: 'raw', name: 'None' },
  [TS_EXPLICIT_LE]: { codec: 'raw', name: 'None' },
  [TS_DEFLATED_LE]: { codec: 'raw', name: 'None' },
};

export function frameCodec(transferSyntax: string): FrameCodec {
  // The name reaches messages and the review: a transfer syntax that is not a well-formed UID is
  // bytes from the file, never repeated.
  return CODECS[transferSyntax] ?? { codec: undefined, name: isWellFormedUid(transferSyntax) ? `DICOM ${transferSyntax}` : 'an unknown DICOM transfer syntax' };
}

/**
 * TIFF-style photometric code of an encapsulated frame's decoded components. OpenJPEG undoes a
 * JPEG 2000 codestream's colour transform (YBR_ICT, YBR_RCT) itself, so colour JPEG 2000 comes out
 * RGB — OpenSlide reads DICOM JPEG 2000 the same way; JPEG-LS keeps what the header says.
 */
export function encapsulatedPhotometric(codec: string, dicomPhotometric: string): number {
  const p = tiffPhotometric(dicomPhotometric);
  return codec === 'image/jp2' && p === 6 ? 2 : p;
}

/** TIFF-style photometric code for raw frames (EncodedTile.layout uses TIFF conventions). */
export function tiffPhotometric(dicomPhotometric: string): number {
  if (dicomPhotometric === 'MONOCHROME1') return 0;
  if (dicomPhotometric === 'MONOCHROME2') return 1;
  if (dicomPhotometric.startsWith('YBR')) return 6;
  return 2;
}
