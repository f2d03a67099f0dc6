import { UidRemapper } from '../dicom/uid-remap.ts';
import { SlideError, throwIfAborted } from '../../shared/errors.ts';
import { uniqueBytes } from '../../shared/bytes.ts';
import type { OutputPlan, Patch, RedactionPlan, RedactionRequest } from '../redact/plan-types.ts';
import { complement, RangeSet, type Range } from '../redact/ranges.ts';
import { isNumber, serializeIni } from './ini.ts';
import { isKnownName, type MiraxField } from './fields.ts';
import { type HierRecord, type NonHierRecord, writeIndex } from './index-file.ts';
import { outputIni } from './output-ini.ts';
import { dataFileName } from './parts.ts';
import { codestreams, dataHeader, keptDataRanges } from './data-files.ts';
import type { MiraxSlide } from './slide.ts';

/**
 * The plan of a MIRAX slide, by allowlist. Outputs: '<name>.mrxs' (empty: the input's .mrxs holds
 * a JPEG photo of the slide — its preview, label included — and OpenSlide only needs the file to
 * exist), '<name>/Slidedat.ini' (rewritten: output-ini.ts), '<name>/Index.dat' (rebuilt in place:
 * only the zoom-level records and the position record; index-file.ts), and every Data file given,
 * copied with every byte outside the kept images zero-filled in place (tile bytes never move):
 * kept are the JPEG images of the zoom levels, the position buffer, and the Data file header
 * (version, slide id, file number, '0' padding) rewritten with the output's slide id. Label,
 * macro (ScanDataLayer_SlideThumbnail) and thumbnail (ScanDataLayer_SlidePreview) are always
 * removed — each is a photograph of the glass, the printed label included — as is every other
 * record (maps, XML, histograms, profiles): their bytes are zeroed and their index entries
 * emptied. Text segments inside kept JPEGs are blanked while streaming.
 */
export async function buildMiraxPlan(slide: MiraxSlide, request: RedactionRequest, signal?: AbortSignal): Promise<RedactionPlan> {
  const m = slide.model;
  const { layout } = m;
  if (slide.incomplete && !request.options?.allowIncomplete) throw new SlideError('TRUNCATED', `${slide.incomplete.message}; de-identify what is there only if you agree`);
  const base = request.options?.outputName ?? m.stem;
  if (base === '' || /[\\/]/.test(base) || base === '.' || base === '..') throw new SlideError('BAD_REQUEST', 'invalid output name');

  const remove = new Set(request.removeFields);
  for (const id of remove) {
    const f = slide.fields.find((x) => x.id === id);
    if (!f) throw new SlideError('BAD_REQUEST', `the slide has no field "${id}"`);
    if (f.class === 'critical') throw new SlideError('BAD_REQUEST', `"${f.label}" is needed to read the slide and cannot be removed`);
  }
  for (const id of request.removeImages) {
    const img = slide.images.find((i) => i.id === id);
    if (!img) throw new SlideError('BAD_REQUEST', `the slide has no image "${id}"`);
    if (img.role === 'level') throw new SlideError('BAD_REQUEST', 'pyramid levels cannot be removed');
  }
  const kept = slide.images.filter((i) => (i.role === 'label' || i.role === 'overview') && !request.removeImages.includes(i.id));
  if (kept.length > 0) throw new SlideError('BAD_REQUEST', 'keeping the label or macro image of a MIRAX slide is not supported');

  const keepField = (f: MiraxField): boolean => f.class === 'neutral' || (f.class === 'phi' && !remove.has(f.id));
  const idField = slide.fields.find((f) => f.group === 'GENERAL' && f.key === 'SLIDE_ID')!;
  const slideId = keepField(idField) ? layout.slideId : await generatedId(layout.slideId, request.options?.uidKey);

  const { groups, carried } = outputIni(m.ini, layout, slide.fields, keepField, slideId);
  const iniBytes = serializeIni(groups);

  const hier: (HierRecord | null)[] = m.index.hierEntries.map((_, i) => (i < layout.levels.length ? m.zoom[i]! : null));
  const nonhier: (NonHierRecord | null)[] = m.index.nonhierEntries.map((_, i) => (layout.position?.record === i ? m.nonhier[i]! : null));
  const indexBytes = writeIndex(m.index, slideId, hier, nonhier);

  const outputs: OutputPlan[] = [
    { name: `${base}.mrxs`, size: 0, segments: [], patches: [] },
    { name: `${base}/Slidedat.ini`, size: iniBytes.length, segments: [{ kind: 'bytes', bytes: iniBytes }], patches: [] },
    { name: `${base}/Index.dat`, size: indexBytes.length, segments: [{ kind: 'bytes', bytes: indexBytes }], patches: [] },
  ];

  const keptRanges = keptDataRanges(layout, hier, nonhier);
  // Bytes the plan removes on purpose (label, macro, thumbnail, other records): refused if they
  // share bytes with a kept image, as the kept copy would carry them.
  const removedRanges = new Map<number, Range[]>();
  m.nonhier.forEach((rec, i) => {
    if (!rec || layout.position?.record === i) return;
    const list = removedRanges.get(rec.item.fileno) ?? [];
    list.push({ start: rec.item.offset, end: rec.item.offset + rec.item.length });
    removedRanges.set(rec.item.fileno, list);
  });

  for (let fileno = 0; fileno < layout.dataFiles.length; fileno++) {
    throwIfAborted(signal);
    const partIndex = m.data[fileno];
    if (partIndex === undefined) continue;
    const part = slide.parts[partIndex]!;
    const header = await dataHeader(part, layout.slideId, signal);
    const set = new RangeSet();
    const jpegs = keptRanges.get(fileno) ?? { images: [], other: [] };
    if (header) set.add(0, header.length);
    for (const r of [...jpegs.images, ...jpegs.other]) set.add(r.start, r.end);
    const keep = set.merged();
    const records = [...jpegs.images, ...jpegs.other].filter((r) => r.end > r.start);
    if (header && records.some((r) => r.start < header.length)) throw new SlideError('CORRUPT', `${layout.dataFiles[fileno]}: image data overlaps the file header`);
    for (const r of removedRanges.get(fileno) ?? []) {
      if (records.some((k) => k.start < r.end && r.start < k.end)) throw new SlideError('CORRUPT', `${layout.dataFiles[fileno]}: a removed image shares bytes with kept image data`);
    }
    const patches: Patch[] = complement(keep, part.size).map((r) => ({ offset: r.start, fill: 0, length: r.end - r.start }));
    if (header) patches.push({ offset: 0, bytes: header.rewrite(slideId) });
    outputs.push({
      name: `${base}/${dataFileName(fileno)}`,
      size: part.size,
      segments: part.size > 0 ? [{ kind: 'copy', part: partIndex, offset: 0, length: part.size }] : [],
      patches,
      codestreams: codestreams(jpegs.images),
    });
  }

  const removedFields = slide.fields.filter((f) => !carried.has(f.id)).map((f) => f.id);
  const removedImages = slide.images.filter((i) => i.role !== 'level').map((i) => ({ id: i.id, role: i.role }));
  const sweep = slide.fields.filter((f) => f.class === 'phi' && !carried.has(f.id) && sweepable(f.value)).map((f) => new TextEncoder().encode(f.value));
  return { outputs, removedFields, removedImages, sweepValues: uniqueBytes(sweep) };
}

/** Numbers, booleans and MIRAX's own vocabulary recur in any slide: not worth a sweep hit. */
function sweepable(v: string): boolean {
  return v.length >= 4 && !isNumber(v) && !isKnownName(v) && !/^(true|false|on|off|jpeg|png|graypng|bmp24|default)$/i.test(v);
}

/**
 * The replacement SLIDE_ID: same length as the input's (Index.dat's pointers follow it and nothing
 * moves). With the batch's key it is derived from the original id, so planning the same slide again
 * (a retry, the zero-copy view next to a staged copy) gives the same bytes; without one, random.
 */
async function generatedId(original: string, uidKey: string | undefined): Promise<string> {
  const prefix = 'DEIDENTIFIED';
  const length = original.length;
  if (length < prefix.length) throw new SlideError('UNSUPPORTED', 'MIRAX slide id shorter than 12 characters is not supported');
  const hex = '0123456789ABCDEF';
  const n = length - prefix.length;
  const bytes = uidKey !== undefined ? await new UidRemapper(uidKey).derive('mirax-slide-id', original) : crypto.getRandomValues(new Uint8Array(n));
  // 32 derived bytes give 32 hex digits; a longer id repeats them (still fixed by the key).
  const digits = Array.from({ length: n }, (_, i) => hex[bytes[i % bytes.length]! & 15]).join('');
  return prefix + digits;
}
