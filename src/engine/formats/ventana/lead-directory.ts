import { SlideError } from '../../../shared/errors.ts';
import type { Patch, RedactionPlan, RedactionRequest } from '../../redact/plan-types.ts';
import { Tag } from '../../tiff/tags.ts';
import { setU64, view, type Ifd, type TiffFile } from '../../tiff/tifflike.ts';
import { ventanaXmp } from './profile.ts';

/**
 * Readers find a BIF by the iScan XMP of the FIRST directory (OpenSlide: detection and objective
 * power/MPP read directory 0 only). Scanners write it on the label ("Label Image", directory 0),
 * which de-identification removes; the next directory (thumbnail, probability map or level 0)
 * has no iScan XMP — and level 0 cannot carry one, its XMP is the EncodeInfo OpenSlide reads for
 * tile placement. So when the first kept directory lacks the iScan XMP, the output gets a lead
 * directory in the removed directory's place: a 1×1 blank grey image whose only text is the
 * iScan XMP rebuilt without its removed parts, written over the old directory block and XMP
 * value (both freed by the removal, so nothing else moves). It has no ImageDescription, so
 * OpenSlide shows it as nothing; our driver recognises it (isLeadDirectory) and lists no image.
 */

const LEAD_ENTRIES = 10;

export function leadDirectorySize(tiff: TiffFile): number {
  return tiff.countSize + LEAD_ENTRIES * tiff.entrySize + tiff.offsetSize;
}

/** The output's lead directory, recognised strictly: exactly the tags written below, 1×1, IFD 0. */
export function isLeadDirectory(tiff: TiffFile, ifd: Ifd): boolean {
  if (ifd.kind !== 'main' || ifd.index !== 0 || ifd.entries.length !== LEAD_ENTRIES || ifd.children.length > 0) return false;
  const want: Record<number, number | undefined> = {
    [Tag.ImageWidth]: 1, [Tag.ImageLength]: 1, [Tag.BitsPerSample]: 8, [Tag.Compression]: 1, [Tag.Photometric]: 1,
    [Tag.SamplesPerPixel]: 1, [Tag.RowsPerStrip]: 1, [Tag.StripByteCounts]: 1, [Tag.StripOffsets]: undefined, [Tag.XMP]: undefined,
  };
  for (const e of ifd.entries) {
    if (!(e.tag in want)) return false;
    const v = want[e.tag];
    if (v !== undefined && (e.count !== 1 || tiff.number(ifd, e.tag) !== v)) return false;
  }
  return ventanaXmp(tiff, ifd)?.kind === 'iscan';
}

/**
 * Add the lead directory to a TIFF plan when the output would otherwise start without the iScan
 * XMP. `first` is the first kept directory, `source` the input's directory 0 (holding the iScan
 * XMP, not kept). Patches go last: they overwrite the zero-fill of the removed directory.
 */
export function addLeadDirectory(plan: RedactionPlan, tiff: TiffFile, first: Ifd, request: RedactionRequest): RedactionPlan {
  if (ventanaXmp(tiff, first)?.kind === 'iscan') return plan;
  const source = tiff.ifds[0]!;
  const xmp = ventanaXmp(tiff, source);
  const entry = tiff.entry(source, Tag.XMP);
  if (source === first || xmp?.kind !== 'iscan' || !entry || entry.inline) throw new SlideError('UNSUPPORTED', 'the Ventana scanner metadata cannot be placed at the start of the output');
  const size = leadDirectorySize(tiff);
  // One blank pixel right after the directory (inside the old block, which was zero-filled); an
  // output's own lead directory (a second redaction) keeps the pixel it already points to.
  const reuse = isLeadDirectory(tiff, source);
  if (source.byteLength < size + (reuse ? 0 : 1)) throw new SlideError('UNSUPPORTED', 'the Ventana label directory is too small to hold the scanner metadata');
  const removed = new Set(request.removeFields);
  const text = xmp.text.rebuild((i) => !removed.has(xmp.text.parts[i]!.id));
  if (text.length <= tiff.offsetSize) throw new SlideError('UNSUPPORTED', 'the Ventana scanner metadata is too short to place');
  if (text.length > entry.byteLength) throw new SlideError('INTERNAL', 'the rebuilt Ventana XMP is longer than the original');
  const pixel = reuse ? tiff.number(source, Tag.StripOffsets)! : source.offset + size;
  const block = leadBlock(tiff, text.length, entry.valueOffset, pixel, first.offset);
  const value = new Uint8Array(entry.byteLength);
  value.set(text);
  const patches: Patch[] = [
    { offset: source.offset, bytes: block },
    { offset: entry.valueOffset, bytes: value },
    { offset: tiff.firstIfdPointerOffset, bytes: tiff.encodeOffset(source.offset) },
  ];
  const [out, ...rest] = plan.outputs;
  if (!out || rest.length > 0) throw new SlideError('INTERNAL', 'a TIFF plan has one output');
  return { ...plan, outputs: [{ ...out, patches: [...out.patches, ...patches] }] };
}

function leadBlock(tiff: TiffFile, xmpLength: number, xmpOffset: number, pixelOffset: number, next: number): Uint8Array {
  const out = new Uint8Array(leadDirectorySize(tiff));
  const dv = view(out);
  const le = tiff.littleEndian;
  const SHORT = 3, LONG = 4, BYTE = 1;
  const offsetType = tiff.bigTiff ? 16 : LONG;
  // Sorted by tag, as TIFF requires.
  const entries: [number, number, number, number][] = [
    [Tag.ImageWidth, LONG, 1, 1],
    [Tag.ImageLength, LONG, 1, 1],
    [Tag.BitsPerSample, SHORT, 1, 8],
    [Tag.Compression, SHORT, 1, 1],
    [Tag.Photometric, SHORT, 1, 1],
    [Tag.StripOffsets, offsetType, 1, pixelOffset],
    [Tag.SamplesPerPixel, SHORT, 1, 1],
    [Tag.RowsPerStrip, LONG, 1, 1],
    [Tag.StripByteCounts, offsetType, 1, 1],
    [Tag.XMP, BYTE, xmpLength, xmpOffset],
  ];
  out.set(tiff.encodeCount(entries.length), 0);
  let p = tiff.countSize;
  for (const [tag, type, count, value] of entries) {
    dv.setUint16(p, tag, le);
    dv.setUint16(p + 2, type, le);
    if (tiff.bigTiff) setU64(dv, p + 4, count, le);
    else dv.setUint32(p + 4, count, le);
    const field = p + (tiff.bigTiff ? 12 : 8);
    if (type === SHORT) dv.setUint16(field, value, le);
    else if (type === LONG) dv.setUint32(field, value, le);
    else out.set(tiff.encodeOffset(value), field);
    p += tiff.entrySize;
  }
  out.set(tiff.encodeOffset(next), p);
  return out;
}
