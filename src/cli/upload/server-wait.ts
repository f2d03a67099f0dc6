import { isAuthRefused, type ServerApi, type ScanView } from './server-api.ts';

/** Scan states the server is still working on. */
export const SETTLING = ['uploading', 'processing'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's view of a slide; a passing network error is "don't know yet", a refused token is not. */
async function slideOrNothing(api: ServerApi, slideId: string) {
  return api.slide(slideId).catch((err: unknown) => {
    if (isAuthRefused(err)) throw err;
    return undefined;
  });
}

/**
 * The server finishes a part's hash after its last byte: poll until it says complete or corrupt.
 * Quick at first (the answer is usually there within a few hundred ms), then every 2 s, ~8 min in all.
 */
export async function waitForPart(api: ServerApi, slideId: string, part: number): Promise<{ status: string; sha256?: string } | undefined> {
  for (let i = 0; i < 240; i++) {
    const p = (await slideOrNothing(api, slideId))?.parts.find((x) => x.part === part);
    if (p && p.status !== 'uploading') return p;
    await sleep(Math.min(100 * (i + 1), 2000));
  }
  return undefined;
}

/**
 * Wait until the slide's scan has left the settling states (ingest done: ready, needs-mpp,
 * quarantined, failed) or `limitMs` passed. `scanId` is what an earlier run learnt; `onScanId`
 * hears of one found now (the caller keeps it in its state file). Undefined: no scan yet.
 */
export async function waitForScan(api: ServerApi, slideId: string, scanId: number | undefined, limitMs: number, onScanId: (id: number) => Promise<void>): Promise<ScanView | undefined> {
  const until = Date.now() + limitMs;
  let scan: ScanView | undefined;
  for (let n = 0; ; n++) {
    if (scanId === undefined) {
      const s = await api.slide(slideId);
      if (s.scan) {
        scanId = s.scan.id;
        await onScanId(scanId);
      }
    }
    if (scanId !== undefined) {
      scan = await api.scan(scanId);
      if (!SETTLING.includes(scan.status)) return scan;
    }
    if (Date.now() > until) return scan;
    await sleep(Math.min(200 * (n + 1), 3000));
  }
}
