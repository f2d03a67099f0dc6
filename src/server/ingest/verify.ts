import { verifyOutputAlone } from '../../engine/redact/verify-output.ts';
import { toSlideError } from '../../shared/errors.ts';
import { isKnownFormat } from '../../shared/format-names.ts';
import type { FormatName } from '../../engine/formats/slide-format.ts';
import type { Repos } from '../db/repos/index.ts';
import type { ScanFile, ScanRow } from '../db/repos/scans.ts';
import type { Storage } from '../storage.ts';
import type { ClosableByteSource } from '../storage/object-store.ts';

export type Verdict = { status: 'verified' } | { status: 'aborted' } | { status: 'quarantined'; outcome: { status: 'quarantined'; error: string } };

/** Problems kept on the scan: enough to act on, bounded so one broken file cannot bloat the row. */
const maxStoredProblems = 50;
/** Problems repeated in the one-line summary the worklist shows. */
const maxSummaryProblems = 3;

/**
 * Parts are named neutrally for the engine, whose problems start with the part's name: the
 * client's file name may itself be identifying (it is stored, but never copied into reasons).
 * A slide whose driver finds its parts by name (MIRAX) gets the part's path inside the slide: the
 * client sends the de-identified output's names there (a neutral slide name, the engine's file
 * names), never the original folder name, and the driver cannot open the slide without them.
 */
function partName(f: ScanFile, parts: number): string {
  if (f.name) return f.name;
  return parts === 1 ? 'the file' : `part ${f.part + 1} of ${parts}`;
}

export function quarantineSummary(problems: string[]): string {
  const shown = problems.slice(0, maxSummaryProblems).join('; ');
  const more = problems.length > maxSummaryProblems ? ` (and ${problems.length - maxSummaryProblems} more)` : '';
  return `failed verification on the server: ${shown}${more}`;
}

/**
 * Run the engine's output-alone verification over a de-identified scan's stored parts, tolerating
 * exactly the identifying fields the user kept (sent with the upload as `keptFields`). Anything
 * short of a clean pass — problems found, or a file the verifier cannot walk — quarantines the
 * scan with the problems in words. A shutdown mid-way is 'aborted' (the scan stays 'processing'
 * and is verified again on the next start). Opening a stored file failing is not a verdict: it
 * throws, and ingest records the scan as failed, as for any other missing file.
 */
export async function verifyStoredParts(repos: Repos, storage: Storage, scan: ScanRow, files: ScanFile[], signal?: AbortSignal): Promise<Verdict> {
  const keptFields = new Set(await repos.uploads.keptFieldsOfScan(scan.labId, scan.id));
  const sources: ClosableByteSource[] = [];
  let problems: string[];
  try {
    for (const f of files) sources.push(await storage.open(f.path, partName(f, files.length)));
    try {
      // The format the client's engine read (tus metadata): the stored output must read the same.
      const format = isKnownFormat(scan.claimedFormat) ? { format: scan.claimedFormat as FormatName } : {};
      problems = await verifyOutputAlone(sources, { keptFields, ...format, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) return { status: 'aborted' };
      const err = toSlideError(e);
      // Engine messages are written without values; an unexpected error's text is not vetted.
      problems = [`the file could not be verified (${err.code === 'INTERNAL' ? 'unexpected error' : err.message})`];
    }
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()));
  }
  if (signal?.aborted) return { status: 'aborted' };
  if (problems.length === 0) {
    await repos.scans.clearVerifyProblems(scan.labId, scan.id);
    return { status: 'verified' };
  }
  const summary = quarantineSummary(problems);
  await repos.scans.quarantine(scan.labId, scan.id, problems.slice(0, maxStoredProblems), summary);
  return { status: 'quarantined', outcome: { status: 'quarantined', error: summary } };
}
