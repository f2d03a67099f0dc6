import type { Repos } from '../db/repos/index.ts';
import type { CaseLinkState } from '../db/repos/scans.ts';

/**
 * Link a scan to the case its upload asked for (tus metadata caseNumber, issue 14), once its
 * ingest has settled: a scan that became viewable (ready, needs-mpp) is linked to the lab's case
 * with that number — created first when missing and the upload allowed it; a failed or quarantined
 * one is recorded as not linked. One transaction, and a scan already linked (or whose case was
 * created) is left alone: a retried ingest or reprocess never links twice or creates a second case,
 * and a link the lab removed afterwards is not put back. Returns the state, or null when the scan
 * asked for no case or has not settled.
 */
export function settleCaseLink(repos: Repos, labId: number, scanId: number): Promise<CaseLinkState | null> {
  return repos.transaction(async (tx): Promise<CaseLinkState | null> => {
    // Scans of one lab settling at once (PostgreSQL) take turns: one creates the case, the rest find it.
    await tx.labs.lock(labId);
    const scan = await tx.scans.byId(labId, scanId);
    if (!scan?.caseNumber) return null;
    if (scan.caseLinkState === 'linked' || scan.caseLinkState === 'created') return scan.caseLinkState;
    if (scan.status === 'uploading' || scan.status === 'processing') return null;
    let state: CaseLinkState;
    if (scan.status !== 'ready' && scan.status !== 'needs-mpp') state = 'not-linked';
    else {
      let c = await tx.cases.byNumber(labId, scan.caseNumber);
      state = 'linked';
      if (!c && scan.createCase) {
        c = await tx.cases.create(labId, scan.caseNumber, '', scan.uploadedBy);
        state = 'created';
      }
      // The same link the cases API makes (POST /api/cases/:id/scans).
      if (c) await tx.cases.link(labId, c.id, [scan.id]);
      else state = 'not-found';
    }
    await tx.scans.setCaseLinkState(labId, scan.id, state);
    return state;
  });
}
