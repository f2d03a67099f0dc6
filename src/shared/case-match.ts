/**
 * Which case (and display name) each slide of a batch gets: from the manifest by barcode, from the
 * manifest by file name, or — with no manifest row — the slide's one barcode proposed as the case
 * number, which the user must confirm before it is sent. Runs in the page and in the CLI.
 *
 * Warnings are sentences for lab staff; they cite manifest lines and counts, never a barcode, a
 * file name or a case number.
 */
import { validateCaseNumber } from './case-number.ts';
import { fileKey, linesWords, type Manifest, type ManifestRow } from './manifest.ts';
import { plural } from './plural.ts';

export type MatchHow = 'manifest-barcode' | 'manifest-file' | 'barcode' | 'manual';

export interface SlideMatch {
  caseNumber?: string;
  name?: string;
  how: MatchHow;
  /** Manifest line that matched. */
  line?: number;
  /** Manifest matches and manual entries: true; a barcode merely proposed as the case number: false until the user confirms. */
  confirmed: boolean;
  /** e.g. "Line 5 matches 2 slides." */
  warning?: string;
}

/**
 * One slide as the matcher sees it. `fileNames`: the names a person would write in the manifest —
 * the slide's file(s), a MIRAX .mrxs, a DICOM folder's name; paths are fine (the base name is used).
 */
export interface MatchInput {
  id: string;
  fileNames: string[];
  barcodes: string[];
}

/**
 * True when a match gives the slide a case or a name. A match can be false here and still carry a
 * warning — e.g. a slide with two different barcodes (nothing is proposed; the warning says why).
 */
export function isMatched(m: SlideMatch | null | undefined): boolean {
  return !!m && (m.caseNumber !== undefined || m.name !== undefined);
}

/** Ranks within one slide: lower wins. */
const Rank = { BarcodeExact: 0, BarcodeIgnoringCase: 1, FileWithExtension: 2, FileWithoutExtension: 3 } as const;

interface Candidate {
  row: ManifestRow;
  rank: (typeof Rank)[keyof typeof Rank];
}

/** The file keys a slide's name answers to: "s1.svs" → ["s1.svs", "s1"]; "s1.ome.tiff" → [..., "s1.ome", "s1"]. */
function stems(key: string): string[] {
  const out: string[] = [];
  const ome = /^(.+)\.ome\.tiff?$/.exec(key);
  const dot = key.lastIndexOf('.');
  if (dot > 0) out.push(key.slice(0, dot));
  if (ome) out.push(ome[1]);
  return out;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Per slide id: its match, or null (unmatched: flagged, not blocked). Manifest barcode rows first, then file rows, then a lone barcode proposed as the case number (unconfirmed). */
export function matchSlides(slides: MatchInput[], manifest: Manifest | null): Map<string, SlideMatch | null> {
  const rows = manifest?.rows ?? [];
  const byBarcode = new Map<string, ManifestRow[]>();
  const byBarcodeLower = new Map<string, ManifestRow[]>();
  const byFile = new Map<string, ManifestRow[]>();
  for (const r of rows) {
    const b = r.barcode?.trim();
    if (b) {
      push(byBarcode, b, r);
      push(byBarcodeLower, b.toLowerCase(), r);
    }
    const f = r.file !== undefined ? fileKey(r.file) : '';
    if (f) push(byFile, f, r);
  }

  const out = new Map<string, SlideMatch | null>();
  const warnings = new Map<string, string[]>();
  const slidesOfLine = new Map<number, string[]>();

  for (const slide of slides) {
    const codes = [...new Set(slide.barcodes.map((b) => b.trim()).filter(Boolean))];
    const found: Candidate[] = [];
    for (const b of codes) for (const row of byBarcode.get(b) ?? []) found.push({ row, rank: Rank.BarcodeExact });
    // Tolerate a manifest typed in other case (Code 39 labels decode upper-case) only when no exact match exists.
    if (found.length === 0) {
      for (const b of codes) for (const row of byBarcodeLower.get(b.toLowerCase()) ?? []) found.push({ row, rank: Rank.BarcodeIgnoringCase });
    }
    for (const name of slide.fileNames) {
      const key = fileKey(name);
      if (!key) continue;
      for (const row of byFile.get(key) ?? []) found.push({ row, rank: Rank.FileWithExtension });
      for (const stem of stems(key)) for (const row of byFile.get(stem) ?? []) found.push({ row, rank: Rank.FileWithoutExtension });
    }

    const notes: string[] = [];
    warnings.set(slide.id, notes);
    if (found.length > 0) {
      // Best rank first, then the earlier line; each row once (a row with a file and a barcode may match twice).
      found.sort((a, b) => a.rank - b.rank || a.row.line - b.row.line);
      const seen = new Set<number>();
      const distinct = found.filter((c) => !seen.has(c.row.line) && seen.add(c.row.line));
      const best = distinct[0];
      // Other rows saying the same thing are harmless; rows that disagree are worth a look.
      const disagree = distinct.slice(1).filter((c) => c.row.caseNumber !== best.row.caseNumber || c.row.name !== best.row.name);
      if (disagree.length > 0) {
        const lines = [best.row.line, ...disagree.map((c) => c.row.line)];
        notes.push(`${linesWords(lines)} all match this slide with a different case or name; line ${best.row.line} is used.`);
      }
      push(slidesOfLine, best.row.line, slide.id);
      out.set(slide.id, {
        ...(best.row.caseNumber !== undefined ? { caseNumber: best.row.caseNumber } : {}),
        ...(best.row.name !== undefined ? { name: best.row.name } : {}),
        how: best.rank <= Rank.BarcodeIgnoringCase ? 'manifest-barcode' : 'manifest-file',
        line: best.row.line,
        confirmed: true,
      });
      continue;
    }

    // Barcodes that differ only in case are one barcode read twice (label and metadata, say).
    // The first one read is kept (findSlideBarcodes lists the label before the metadata).
    const byLower = new Map<string, string>();
    for (const b of codes) if (!byLower.has(b.toLowerCase())) byLower.set(b.toLowerCase(), b);
    const distinctCodes = [...byLower.values()];
    if (distinctCodes.length === 0) {
      // Unmatched: null, which the page flags (no record to carry a warning on).
      out.set(slide.id, null);
      continue;
    }
    if (rows.length > 0) notes.push('No line of the manifest matches this slide.');
    if (distinctCodes.length > 1) {
      notes.push(`The slide has ${plural(distinctCodes.length, 'different barcode')}, so none is proposed as its case.`);
      out.set(slide.id, { how: 'barcode', confirmed: false });
    } else {
      const problem = validateCaseNumber(distinctCodes[0]);
      if (problem) {
        notes.push(`The slide's barcode cannot be its case number: ${problem.charAt(0).toLowerCase()}${problem.slice(1)}`);
        out.set(slide.id, { how: 'barcode', confirmed: false });
      } else {
        out.set(slide.id, { caseNumber: distinctCodes[0], how: 'barcode', confirmed: false });
      }
    }
  }

  for (const [line, ids] of slidesOfLine) {
    if (ids.length < 2) continue;
    for (const id of ids) warnings.get(id)!.push(`Line ${line} matches ${plural(ids.length, 'slide')}.`);
  }
  for (const slide of slides) {
    const notes = warnings.get(slide.id) ?? [];
    const m = out.get(slide.id);
    if (notes.length > 0 && m) out.set(slide.id, { ...m, warning: notes.join(' ') });
  }
  return out;
}
