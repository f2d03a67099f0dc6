import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a run of `wsi-import upload` has done so far, kept in the output folder so that running
 * the same command again (after a kill, a reboot, a network failure) continues instead of
 * starting over: which slides are prepared (outputs and their SHA-256), each part's tus upload
 * URL and whether the server confirmed it. It holds local paths, barcodes and case numbers — it
 * stays on this computer beside the batch record (mode 0600) and is never sent.
 */
export const STATE_FILE = '.wsi-import-state.json';

export interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

/** One file sent for a slide: a de-identified output, or an original with --direct. */
export interface SentFile {
  /** Local file. */
  file: string;
  /** Upload-Metadata `filename` (never the original name of a de-identified slide). */
  name: string;
  /** Upload-Metadata `path` (MIRAX parts). */
  path?: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface PartState {
  /** The tus upload URL once created: resumed from the server's offset by the next run. */
  url?: string;
  /** The server confirmed the part (stored, its hash matched). */
  done: boolean;
}

export interface SlideMatchState {
  caseNumber?: string;
  name?: string;
  how: string;
  line?: number;
  confirmed: boolean;
  warning?: string;
}

/** What the slide itself told us (read once; the record needs it). */
export interface SlideFacts {
  format: string;
  width: number;
  height: number;
  mpp: { x: number; y: number; source?: string } | null;
  barcodes: { value: string; symbology: string; source: string }[];
}

/** De-identification results for the record (labels and roles only, never values). */
export interface PreparedReport {
  removedFields: string[];
  removedImages: string[];
  keptFields: string[];
  keptFieldLabels: string[];
  verification: { ok: boolean; problems: string[] };
  sweep: { valuesSearched: number; hits: number; ok: boolean };
}

export interface SlideState {
  /** The collector's identity of the input (paths, series). */
  key: string;
  input: string;
  files: FileStamp[];
  /** The upload contract's slideId: new whenever the slide is prepared anew. */
  slideId: string;
  facts?: SlideFacts;
  match?: SlideMatchState | null;
  sent?: SentFile[];
  report?: PreparedReport;
  parts: PartState[];
  scanId?: number;
}

export interface UploadState {
  version: 1;
  batchId: string;
  /** Server origin: another server is another batch. */
  server: string;
  /** De-identification settings (options.ts settingsKey): other settings are another batch. */
  settings: string;
  startedAt: string;
  slides: SlideState[];
}

export async function loadState(outDir: string): Promise<UploadState | undefined> {
  const text = await readFile(join(outDir, STATE_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as Partial<UploadState>;
    if (s.version === 1 && typeof s.batchId === 'string' && Array.isArray(s.slides)) return s as UploadState;
  } catch {
    // Unreadable: the run starts a new batch (nothing is lost on the server; a re-sent slide gets a new id).
  }
  return undefined;
}

/**
 * Saves the state whole then renames it into place (a kill leaves the old state or the new one,
 * never half of one). Saves are queued: concurrent callers never interleave their renames.
 */
export class StateWriter {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly outDir: string, readonly state: UploadState) {}

  save(): Promise<void> {
    const text = `${JSON.stringify(this.state, null, 1)}\n`;
    const path = join(this.outDir, STATE_FILE);
    const next = this.chain.then(async () => {
      await mkdir(this.outDir, { recursive: true });
      await writeFile(`${path}.tmp`, text, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}

export async function stampFiles(files: string[]): Promise<FileStamp[]> {
  const out: FileStamp[] = [];
  for (const f of files) {
    const st = await stat(f);
    out.push({ path: f, size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}

export function sameStamps(a: FileStamp[], b: FileStamp[]): boolean {
  return a.length === b.length && a.every((x, i) => x.path === b[i]!.path && x.size === b[i]!.size && x.mtimeMs === b[i]!.mtimeMs);
}

/** The prepared files are still there, unchanged since they were hashed. */
export async function sentFilesIntact(sent: SentFile[]): Promise<boolean> {
  for (const s of sent) {
    const st = await stat(s.file).catch(() => undefined);
    if (!st || st.size !== s.size || st.mtimeMs !== s.mtimeMs) return false;
  }
  return true;
}
