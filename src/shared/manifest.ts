/**
 * The batch manifest: a CSV file (comma, semicolon or tab) or a table pasted from a spreadsheet
 * that maps slides — by file name or barcode — to a case and a display name. Runs in the page and
 * in the CLI, so plain TypeScript only.
 *
 * Every problem is a sentence for lab staff with its line number ("Line 4: the case is empty.").
 * Problems never quote a value from a row (values are barcodes, file names, case numbers); they do
 * name a column header, which is not PHI — except when the first line does not look like a header
 * at all (no known column), because then it is probably data.
 *
 * Rules decided here (the issue leaves them open):
 * - Values are trimmed; a line whose values are all empty is skipped (spreadsheets export those).
 * - A row must say something about its slide: a case or a name. A row with an empty case but a
 *   name is allowed — it names the scan and links no case; with both empty it is "the case is empty".
 * - Duplicate keys (the same file name — compared as the matcher compares them — or the same
 *   barcode on two lines): every row of the group is left out, since which one is right is unknown.
 * - Missing trailing values are empty; extra values are allowed only when empty (trailing separators).
 * - Whole-file problems (empty file, too many rows) have line 0.
 * - A line break inside a quoted name becomes a space; anywhere else it is a control character.
 */
import { validateCaseNumber } from './case-number.ts';
import { validateScanName } from './scan-name.ts';
import { plural } from './plural.ts';

export type ManifestColumn = 'file' | 'barcode' | 'case' | 'name';

export interface ManifestRow {
  line: number;
  file?: string;
  barcode?: string;
  caseNumber?: string;
  name?: string;
}
export interface ManifestProblem {
  /** The line the problem is on (the first line of a quoted value spanning lines); 0: the whole file. */
  line: number;
  /** A complete sentence, starting with the line: "Line 4: the case is empty." */
  message: string;
}
export interface Manifest {
  columns: ManifestColumn[];
  rows: ManifestRow[];
  problems: ManifestProblem[];
}

/** Most data rows one manifest may have (a bulk import is hundreds of slides, not tens of thousands). */
export const MAX_MANIFEST_ROWS = 10_000;

/** Header spellings accepted for each column, after lower-casing and turning `_`/`-`/spaces into one space. */
const ALIASES: Readonly<Record<ManifestColumn, readonly string[]>> = {
  file: ['file', 'filename', 'file name', 'file path', 'path', 'slide file'],
  barcode: ['barcode', 'bar code', 'slide barcode', 'label barcode'],
  case: ['case', 'case number', 'case no', 'case id', 'accession', 'accession number'],
  name: ['name', 'display name', 'scan name', 'new name', 'slide name'],
};
const COLUMN_BY_ALIAS = new Map<string, ManifestColumn>(
  (Object.entries(ALIASES) as [ManifestColumn, readonly string[]][]).flatMap(([c, names]) => names.map((n) => [n, c] as const)),
);
const COLUMN_WORDS: Readonly<Record<ManifestColumn, string>> = { file: 'file', barcode: 'barcode', case: 'case', name: 'name' };

const normaliseHeader = (h: string): string => h.trim().toLowerCase().replace(/[\s_-]+/g, ' ').replace(/[.:#]+$/, '').trim();

/**
 * The key a manifest `file` value and a slide's file name are compared by: the base name (after
 * the last `/` or `\`), lower-case. Shared with case-match.ts so duplicates here are exactly the
 * rows that would fight over a slide there.
 */
export function fileKey(pathOrName: string): string {
  const t = pathOrName.trim().replace(/[\\/]+$/, '');
  return t.slice(Math.max(t.lastIndexOf('/'), t.lastIndexOf('\\')) + 1).toLowerCase();
}

/** "Lines 3 and 7", "Lines 3, 7 and 9". */
export function linesWords(lines: readonly number[]): string {
  if (lines.length === 1) return `Line ${lines[0]}`;
  return `Lines ${lines.slice(0, -1).join(', ')} and ${lines[lines.length - 1]}`;
}

interface RawRecord {
  line: number;
  values: string[];
}

/** The separator, from the first line: tab wins (a pasted table), else the more frequent of ';' and ','. */
function detectSeparator(text: string): string {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c === '\n' || c === '\r') break;
    else if (c === '\t') return '\t';
    else if (c === ',') commas++;
    else if (c === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

/**
 * RFC 4180 records with their starting line numbers. Lenient where spreadsheets are sloppy (a quote
 * inside an unquoted value is kept as a character; text after a closing quote is appended); the
 * one fatal case is a quote that is never closed — it swallows the rest of the file.
 * Stops after `limit` non-empty records (the caller reports "too many rows").
 */
function readRecords(text: string, sep: string, limit: number): { records: RawRecord[]; unterminatedAt?: number; truncated: boolean } {
  const records: RawRecord[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const values: string[] = [];
    let value = '';
    let quotedAt = 0;
    let endOfRecord = false;
    while (!endOfRecord) {
      if (i >= n) {
        values.push(value);
        break;
      }
      const c = text[i];
      if (c === '"' && value.trim() === '') {
        // A quoted value: read to the closing quote; "" is a quote; newlines count as lines.
        quotedAt = line;
        value = '';
        i++;
        let closed = false;
        while (i < n) {
          const q = text[i];
          if (q === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (q === '\r' && text[i + 1] === '\n') {
            value += '\n';
            i += 2;
            line++;
            continue;
          }
          if (q === '\n' || q === '\r') line++;
          value += q === '\r' ? '\n' : q;
          i++;
        }
        if (!closed) return { records, unterminatedAt: quotedAt, truncated: false };
        continue;
      }
      if (c === sep) {
        values.push(value);
        value = '';
        i++;
        continue;
      }
      if (c === '\r' || c === '\n') {
        values.push(value);
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        endOfRecord = true;
        continue;
      }
      value += c;
      i++;
    }
    const trimmed = values.map((v) => v.trim());
    if (trimmed.some((v) => v !== '')) {
      // The header plus `limit` data rows is allowed; one more means the file is too long.
      if (records.length > limit) return { records, truncated: true };
      records.push({ line: start, values: trimmed });
    }
  }
  return { records, truncated: false };
}

interface HeaderResult {
  /** Column index → which manifest column it is (undefined: ignored). */
  map: (ManifestColumn | undefined)[];
  columns: ManifestColumn[];
  width: number;
  problems: ManifestProblem[];
  fatal: boolean;
}

function readHeader(header: RawRecord): HeaderResult {
  const problems: ManifestProblem[] = [];
  const at = header.line;
  // Trailing empty header cells are a spreadsheet's trailing separators, not columns.
  let width = header.values.length;
  while (width > 0 && header.values[width - 1] === '') width--;
  const map: (ManifestColumn | undefined)[] = [];
  const columns: ManifestColumn[] = [];
  const unknown: number[] = [];
  const firstIndex = new Map<ManifestColumn, number>();
  for (let i = 0; i < width; i++) {
    const raw = header.values[i];
    const col = COLUMN_BY_ALIAS.get(normaliseHeader(raw));
    if (raw === '') {
      problems.push({ line: at, message: `Line ${at}: column ${i + 1} has no name, so its values are not used.` });
      map.push(undefined);
    } else if (!col) {
      unknown.push(i);
      map.push(undefined);
    } else if (firstIndex.has(col)) {
      problems.push({
        line: at,
        message: `Line ${at}: columns ${firstIndex.get(col)! + 1} and ${i + 1} are both the ${COLUMN_WORDS[col]} column; only column ${firstIndex.get(col)! + 1} is used.`,
      });
      map.push(undefined);
    } else {
      firstIndex.set(col, i);
      columns.push(col);
      map.push(col);
    }
  }
  if (columns.length === 0) {
    // Probably no header row at all: its cells are then data, so they are not quoted back.
    problems.push({
      line: at,
      message: `Line ${at} is not a header the import knows: the first line must name the columns — file or barcode, and case or name.`,
    });
    return { map, columns, width, problems, fatal: true };
  }
  for (const i of unknown) {
    const name = header.values[i].length > 40 ? `${header.values[i].slice(0, 40)}…` : header.values[i];
    problems.push({
      line: at,
      message: `Line ${at}: the column "${name}" is not one the import knows, so its values are not used (known columns: file, barcode, case, name).`,
    });
  }
  let fatal = false;
  if (!columns.includes('file') && !columns.includes('barcode')) {
    problems.push({ line: at, message: `Line ${at}: the manifest needs a file or a barcode column to find each slide.` });
    fatal = true;
  }
  if (!columns.includes('case') && !columns.includes('name')) {
    problems.push({ line: at, message: `Line ${at}: the manifest needs a case or a name column — it says nothing about the slides otherwise.` });
    fatal = true;
  }
  return { map, columns, width, problems, fatal };
}

/** CSV (comma, semicolon or tab — detected from the header), quoted fields, BOM, CRLF; also a table pasted from a spreadsheet (tabs). */
export function parseManifest(text: string): Manifest {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const sep = detectSeparator(body);
  const { records, unterminatedAt, truncated } = readRecords(body, sep, MAX_MANIFEST_ROWS);
  const problems: ManifestProblem[] = [];

  if (truncated) {
    return {
      columns: [],
      rows: [],
      problems: [{ line: 0, message: `The manifest has more than ${MAX_MANIFEST_ROWS.toLocaleString('en-US')} rows; split it into smaller files.` }],
    };
  }
  if (records.length === 0) {
    const problem = unterminatedAt !== undefined
      ? { line: unterminatedAt, message: `Line ${unterminatedAt}: a quoted value is not closed — a " is missing.` }
      : { line: 0, message: 'The manifest is empty.' };
    return { columns: [], rows: [], problems: [problem] };
  }

  const header = readHeader(records[0]);
  problems.push(...header.problems);
  if (header.fatal) return { columns: header.columns, rows: [], problems };
  if (records.length === 1 && unterminatedAt === undefined) {
    problems.push({ line: 0, message: 'The manifest has a header but no rows below it.' });
  }

  const candidates: ManifestRow[] = [];
  for (const rec of records.slice(1)) {
    const at = rec.line;
    const extra = rec.values.slice(header.width).filter((v) => v !== '').length;
    if (extra > 0) {
      const used = rec.values.length - [...rec.values].reverse().findIndex((v) => v !== '');
      problems.push({ line: at, message: `Line ${at} has ${plural(used, 'value')} but the header has ${plural(header.width, 'column')}.` });
      continue;
    }
    const row: ManifestRow = { line: at };
    header.map.forEach((col, i) => {
      const v = rec.values[i] ?? '';
      if (!col || v === '') return;
      if (col === 'case') row.caseNumber = v;
      // A line break typed in a spreadsheet cell (Alt+Enter) in a name means a space.
      else if (col === 'name') row.name = v.replace(/\s*[\r\n]+\s*/g, ' ');
      else row[col] = v;
    });
    const problem = rowProblem(row, header.columns);
    if (problem) {
      problems.push({ line: at, message: `Line ${at}: ${problem}` });
      continue;
    }
    candidates.push(row);
  }

  const duplicates = duplicateLines(candidates, problems);
  const rows = candidates.filter((r) => !duplicates.has(r.line));

  if (unterminatedAt !== undefined) {
    problems.push({ line: unterminatedAt, message: `Line ${unterminatedAt}: a quoted value is not closed — a " is missing, so this line and the rest of the file are not used.` });
  }
  problems.sort((a, b) => a.line - b.line);
  return { columns: header.columns, rows, problems };
}

/** What is wrong with one row (without the "Line N: " prefix), or null. */
function rowProblem(row: ManifestRow, columns: ManifestColumn[]): string | null {
  if (row.file === undefined && row.barcode === undefined) {
    if (columns.includes('file') && columns.includes('barcode')) return 'there is neither a file nor a barcode.';
    return columns.includes('file') ? 'the file is empty.' : 'the barcode is empty.';
  }
  if (row.file !== undefined && fileKey(row.file) === '') return 'the file has no file name, only a folder.';
  if (row.caseNumber === undefined && row.name === undefined) {
    return columns.includes('case') ? 'the case is empty.' : 'the name is empty.';
  }
  if (row.caseNumber !== undefined) {
    const p = validateCaseNumber(row.caseNumber);
    if (p) return lowerFirst(p);
  }
  if (row.name !== undefined) {
    const p = validateScanName(row.name);
    if (p) return lowerFirst(p);
  }
  return null;
}

/** Lines of rows that share a file key or a barcode with another row; one problem per group. */
function duplicateLines(rows: ManifestRow[], problems: ManifestProblem[]): Set<number> {
  const out = new Set<number>();
  const groups = (what: 'file' | 'barcode', key: (r: ManifestRow) => string | undefined) => {
    const by = new Map<string, number[]>();
    for (const r of rows) {
      const k = key(r);
      if (k === undefined) continue;
      const list = by.get(k);
      if (list) list.push(r.line);
      else by.set(k, [r.line]);
    }
    for (const lines of by.values()) {
      if (lines.length < 2) continue;
      for (const l of lines) out.add(l);
      const noun = what === 'file' ? 'file name' : 'barcode';
      problems.push({ line: lines[0], message: `${linesWords(lines)} have the same ${noun}, so none of them is used.` });
    }
  };
  groups('file', (r) => (r.file !== undefined ? fileKey(r.file) : undefined));
  groups('barcode', (r) => r.barcode);
  return out;
}

function lowerFirst(s: string): string {
  // "The case number is empty." → "the case number is empty." after "Line 4: ".
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}
