import { currentBatchOf, deleteBatch, isUnfinished, type BatchRecord } from '../../state/batch-store.ts';
import { currentUser, onSessionChange } from '../../state/session.ts';
import { terminateStoredUploads } from '../../../upload/terminate-uploads.ts';
import { ImportController } from './import-controller.ts';
import { workerWizardEngine } from './worker-wizard-engine.ts';

/**
 * The signed-in user's import wizard: one controller per user and page. It outlives the wizard's
 * element, so an upload goes on while the user looks at Scans and is not started a second time when
 * they come back. When the session ends by itself (expired, signed out in another tab) it is
 * suspended: nothing runs, and the same user signing in again continues with the files they had
 * picked. When anyone else signs in it is closed: nothing of one user's batch keeps running,
 * saving or showing under another's session. Signing out here closes it too (endImportSession).
 */
let live: ImportController | undefined;

onSessionChange((me) => {
  if (!live) return;
  if (!me) void live.suspend();
  else if (live.userId === me.user.id) live.resume();
  else {
    void live.close();
    live = undefined;
  }
});

/** The controller of the signed-in user's batch (made on first use). */
export function importController(): ImportController {
  const userId = currentUser()?.user.id;
  if (live && live.userId === userId) return live;
  live = new ImportController(workerWizardEngine(), { userId, zeroCopy: zeroCopyEnabled() });
  return live;
}

/** What sign-out must ask about: the user's unfinished batch, if any (live, or as stored). */
export async function unfinishedBatch(userId: number): Promise<BatchRecord | undefined> {
  const b = live?.userId === userId && live.batch ? live.batch : await currentBatchOf(userId);
  return b && isUnfinished(b) ? b : undefined;
}

/**
 * Before signing out: keep the user's batch for them (stopped and saved), or discard it (server
 * uploads ended while the session is still valid, then everything of it removed from this PC).
 */
export async function endImportSession(userId: number, choice: 'keep' | 'discard'): Promise<void> {
  const ctl = live?.userId === userId ? live : undefined;
  live = ctl ? undefined : live;
  if (choice === 'keep') {
    await ctl?.close();
    return;
  }
  if (ctl?.batch) {
    await ctl.discard();
    return;
  }
  // Not opened in this page (signed in, went to Scans): discard it from storage.
  await ctl?.close();
  const b = await currentBatchOf(userId);
  if (!b) return;
  await terminateStoredUploads(userId, b.id);
  await deleteBatch(b);
}

/**
 * Zero-copy upload (issue 15) is the normal path: each slide whose originals can be read is sent
 * straight from them, the others are staged in OPFS first (per slide, see BatchUploader). The
 * setting `wsi-zero-copy` = '0' in this browser's localStorage turns it off (every slide staged):
 * a way out on a PC where it misbehaves, and what tests of the staged path set before loading.
 */
function zeroCopyEnabled(): boolean {
  try {
    return localStorage.getItem('wsi-zero-copy') !== '0';
  } catch {
    // No localStorage (blocked storage): the default.
    return true;
  }
}
