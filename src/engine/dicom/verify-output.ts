import { plural } from '../../shared/plural.ts';
import type { ByteSource } from '../io/byte-source.ts';
import type { OutputCheckOptions } from '../redact/verify-output.ts';
import { sameBytes } from '../../shared/bytes.ts';
import { toSlideError } from '../../shared/errors.ts';
import type { DicomDataset, DicomElement } from './dataset.ts';
import { findElement, textOf } from './dataset.ts';
import type { ProfileOptions } from './deid-profile.ts';
import { decide, isOpaque, unvouchedKind } from './deid-profile.ts';
import { deidentificationMethodText } from './deidentify.ts';
import { fieldId, fieldLabel } from './fields.ts';
import type { Part10Header } from './part10.ts';
import { readFileMeta, readPart10Header, TS_DEFLATED_LE, TS_IMPLICIT_LE } from './part10.ts';
import { walkPixelData } from './pixel-data.ts';
import { encodeDataset, encodeFileMeta, encodePixelDataHeader } from './writer.ts';

/** The file meta elements the writer puts in every output (encodeFileMeta), and nothing else. */
const WRITTEN_META = new Set(['00020000', '00020001', '00020002', '00020003', '00020010', '00020012', '00020013']);

/**
 * DICOM half of verifyOutputAlone: one de-identified instance, checked from its bytes alone (no
 * input, no plan). Problems name the file and tag numbers, never a value; empty = verified.
 *
 * It fails closed on anything it cannot account for:
 *  - the header must be exactly what the engine's writer produces for the elements parsed from it
 *    (zero preamble, the standard file meta only, explicit VR little endian with defined lengths):
 *    re-encoding the parsed tree must give the same bytes, so no padding, group length, duplicate
 *    or unparsed byte can hide between elements;
 *  - every element at every depth must be allowed by the profile, the WSI IOD or the reviewed
 *    allowlist, or have been kept by the user (its field id in `keptFields`); an element the rules
 *    remove may only be there empty; private and unknown elements only when kept; command (0000)
 *    and file meta (0002) elements inside the data set never, nor a standard element whose VR
 *    contradicts the dictionary (opaque: a sequence as OW/UT/UN, text as OB…);
 *  - the file must end exactly where the Pixel Data element ends.
 */
export async function verifyDicomOutput(part: ByteSource, opts: OutputCheckOptions): Promise<string[]> {
  const name = part.name;
  let header: Part10Header;
  let end: number;
  try {
    const meta = await readFileMeta(part, opts.signal);
    header = await readPart10Header(part, opts.signal, meta, { raw: true });
    end = (await walkPixelData(header.pixelSource, header.pixel, opts.signal)).end;
  } catch (e) {
    const err = toSlideError(e);
    if (err.code === 'ABORTED') throw err;
    return [`${name}: the DICOM output cannot be parsed (${err.code})`];
  }
  if (header.inflated || header.transferSyntax === TS_IMPLICIT_LE || header.transferSyntax === TS_DEFLATED_LE) {
    // The engine writes explicit VR little endian only; anything else was not written by it.
    return [`${name}: the transfer syntax is not one the engine writes`];
  }
  const problems: string[] = [];
  problems.push(...(await checkLayout(part, header, end)));
  problems.push(...checkElements(header.dataset, opts.keptFields ?? new Set(), name));
  return problems;
}

async function checkLayout(part: ByteSource, header: Part10Header, end: number): Promise<string[]> {
  const name = part.name;
  const problems: string[] = [];
  for (const el of header.meta) {
    if (!WRITTEN_META.has(el.tag)) problems.push(`${name}: the file meta holds ${fieldLabel([], el.tag)}, which the engine does not write`);
  }
  const metaText = (tag: string): string => textOf(findElement(header.meta, tag)) ?? '';
  const sopInstance = metaText('00020003');
  if (sopInstance !== (textOf(findElement(header.dataset, '00080018')) ?? '')) problems.push(`${name}: Media Storage SOP Instance UID (0002,0003) differs from SOP Instance UID (0008,0018)`);
  const expected = [
    encodeFileMeta(metaText('00020002'), sopInstance, header.transferSyntax),
    encodeDataset(header.dataset),
    encodePixelDataHeader(header.pixel.vr, header.pixel.declaredLength < 0 ? 'undefined' : header.pixel.declaredLength),
  ];
  const length = expected.reduce((a, b) => a + b.length, 0);
  const actual = length === header.pixel.valueOffset ? await part.read(0, length) : undefined;
  const what = ['the preamble or file meta', 'the data set', 'the Pixel Data element header'];
  if (!actual) {
    problems.push(`${name}: the header holds ${plural(header.pixel.valueOffset - length, 'byte')} that no element accounts for`);
  } else {
    let at = 0;
    expected.forEach((bytes, i) => {
      if (!sameBytes(actual.subarray(at, at + bytes.length), bytes)) problems.push(`${name}: ${what[i]} is not in the form the engine writes (bytes no element accounts for)`);
      at += bytes.length;
    });
  }
  if (end !== part.size) problems.push(`${name}: ${plural(part.size - end, 'byte')} ${part.size - end === 1 ? 'follows' : 'follow'} the end of Pixel Data`);
  return problems;
}


/** The PS3.15 options the output's de-identification record says were used (CID 7050 codes). */
function recordedOptions(ds: DicomDataset): ProfileOptions {
  const codes = new Set((findElement(ds, '00120064')?.items ?? []).map((item) => textOf(findElement(item, '00080100')) ?? ''));
  return { retainDeviceIdentity: codes.has('113109'), cleanDescriptors: codes.has('113105') };
}

function isEmpty(el: DicomElement): boolean {
  return el.vr === 'SQ' ? (el.items?.length ?? 0) === 0 : (el.value?.length ?? 0) === 0;
}

function checkElements(dataset: DicomDataset, kept: ReadonlySet<string>, name: string): string[] {
  const problems: string[] = [];
  const options = recordedOptions(dataset);
  const method = textOf(findElement(dataset, '00120063'));
  if (method !== undefined && method !== deidentificationMethodText(options)) problems.push(`${name}: De-identification Method (0012,0063) is not the text the engine writes`);
  if ((textOf(findElement(dataset, '00120062')) ?? 'YES') !== 'YES') problems.push(`${name}: Patient Identity Removed (0012,0062) is not YES`);
  const visit = (ds: DicomDataset, parents: string[]): void => {
    for (const el of ds) {
      const id = fieldId(parents, el.tag);
      const where = fieldLabel(parents, el.tag);
      const kind = unvouchedKind(parents, el.tag);
      if (kind === 'command' || kind === 'meta') {
        problems.push(`${name}: ${where} is present (${kind === 'command' ? 'a command element' : 'a file meta element'} inside the data set)`);
        continue;
      }
      // The writer only writes the dictionary's VR (an emptied opaque element included): another
      // kind of value is bytes no rule judged, kept or not, empty or not.
      if (!kind && isOpaque(el.tag, el.vr)) {
        problems.push(`${name}: ${where} is present with a value representation the DICOM dictionary does not allow for it (its content cannot be interpreted)`);
        continue;
      }
      let allowed = kept.has(id);
      let why = '';
      if (!allowed && kind) {
        why = kind === 'private' ? 'a private element the user did not keep' : 'an unknown element the user did not keep';
      } else if (!allowed) {
        const d = decide(parents, el.tag, el.vr, options, el.vr === 'UI' ? textOf(el) : undefined);
        // Removed or emptied by the rules: tolerated only without a value (it then carries nothing).
        allowed = d.action === 'remove' || d.action === 'empty' ? isEmpty(el) : true;
        why = d.action === 'empty' ? 'it must be empty' : `not allowed: ${d.reason}`;
      }
      if (!allowed) {
        problems.push(`${name}: ${where} is present (${why})`);
        continue;
      }
      if (el.vr === 'SQ') for (const item of el.items ?? []) visit(item, [...parents, el.tag]);
    }
  };
  visit(dataset, []);
  return problems;
}
