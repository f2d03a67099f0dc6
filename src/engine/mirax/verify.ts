import { plural } from '../../shared/plural.ts';
import { toSlideError } from '../../shared/errors.ts';
import { SegmentScrubber } from '../codecs/segment-scrubber.ts';
import type { OutputCheckOptions } from '../formats/slide-format.ts';
import { complement, RangeSet } from '../redact/ranges.ts';
import { scanOutside } from '../redact/scan-outside.ts';
import { serializeIni } from './ini.ts';
import { indexStructure } from './index-file.ts';
import { codestreams, dataHeader, keptDataRanges } from './data-files.ts';
import type { MiraxSlide } from './slide.ts';

/**
 * The output-alone check of a MIRAX slide opened from a de-identified output: Slidedat.ini in the
 * canonical form the plan writes (no comments, no other layout) holding only allowlisted keys and
 * those the user kept; no label, macro or thumbnail named; Index.dat with no record but the zoom
 * levels and the position record and every other byte zero; every Data file zero outside its
 * header and the kept images, with no unblanked text segment inside those JPEGs; an empty .mrxs;
 * no file the slide does not name. Problems in words, never a value.
 */
export async function verifyMiraxOutput(slide: MiraxSlide, opts: OutputCheckOptions): Promise<string[]> {
  const { signal } = opts;
  const m = slide.model;
  const { layout } = m;
  const kept = opts.keptFields ?? new Set<string>();
  const problems: string[] = [];
  const phi = slide.fields.filter((f) => f.class === 'phi' && !kept.has(f.id)).length;
  if (phi > 0) problems.push(`Slidedat.ini holds ${phi} identifying or unknown entr${phi > 1 ? 'ies' : 'y'}`);
  const ini = await slide.parts[m.slidedat]!.read(0, slide.parts[m.slidedat]!.size, signal);
  const canonical = serializeIni([...m.ini.groups].map(([name, keys]) => ({ name, entries: [...keys] })));
  if (ini.length !== canonical.length || ini.some((b, i) => b !== canonical[i])) problems.push('Slidedat.ini holds text outside its keys (comments, blank lines or another layout)');
  if (layout.associated.length > 0) problems.push(`the output still names ${layout.associated.map((a) => `a ${a.name}`).join(', ')} image`);
  if (m.otherHier > 0) problems.push(`Index.dat holds ${plural(m.otherHier, 'record')} beyond the zoom levels`);
  const extraNonhier = m.index.nonhierEntries.filter((e, i) => e !== 0 && layout.position?.record !== i).length;
  if (extraNonhier > 0) problems.push(`Index.dat holds ${plural(extraNonhier, 'record')} besides the tile positions`);
  if (slide.parts[m.mrxs]!.size !== 0) problems.push('the .mrxs file is not empty');
  const named = new Set([m.mrxs, m.slidedat, m.indexPart, ...m.data.filter((d): d is number => d !== undefined)]);
  const extra = slide.parts.length - named.size;
  if (extra > 0) problems.push(`${plural(extra, 'file')} in the output ${extra === 1 ? 'is' : 'are'} not part of the slide`);

  const hier = m.index.hierEntries.map((_, i) => (i < layout.levels.length ? m.zoom[i]! : null));
  const nonhier = m.index.nonhierEntries.map((_, i) => (layout.position?.record === i ? m.nonhier[i]! : null));
  try {
    const idx = new RangeSet();
    for (const r of indexStructure(m.index, hier, nonhier)) idx.add(r.start, r.end);
    const idxOutside = complement(idx.merged(), m.indexBytes.length);
    let nonZero = 0;
    for (const r of idxOutside) for (let i = r.start; i < r.end; i++) if (m.indexBytes[i] !== 0) nonZero++;
    if (nonZero > 0) problems.push(`${plural(nonZero, 'byte')} of Index.dat outside its records ${nonZero === 1 ? 'is' : 'are'} not blank`);

    const keptRanges = keptDataRanges(layout, hier, nonhier);
    for (let fileno = 0; fileno < layout.dataFiles.length; fileno++) {
      const p = m.data[fileno];
      if (p === undefined) continue;
      const part = slide.parts[p]!;
      const header = await dataHeader(part, layout.slideId, signal);
      const k = keptRanges.get(fileno) ?? { images: [], other: [] };
      const set = new RangeSet();
      if (header) set.add(0, header.length);
      for (const r of [...k.images, ...k.other]) set.add(r.start, r.end);
      const { nonZero: nz, textSegments } = await scanOutside(part, complement(set.merged(), part.size), new SegmentScrubber(codestreams(k.images), 'check'), signal, opts.deferByteScan);
      if (nz > 0) problems.push(`${plural(nz, 'byte')} of ${layout.dataFiles[fileno]} outside its images ${nz === 1 ? 'is' : 'are'} not blank`);
      if (textSegments > 0) problems.push(`${plural(textSegments, 'text segment')} inside JPEG data of ${layout.dataFiles[fileno]} ${textSegments === 1 ? 'is' : 'are'} not blank`);
    }
  } catch (e) {
    if (signal?.aborted) throw e;
    problems.push(`the output's structure cannot be mapped (${toSlideError(e).code})`);
  }
  return problems;
}
