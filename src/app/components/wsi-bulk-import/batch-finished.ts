import { api } from '../../api.ts';
import type { BatchRecord } from '../../state/batch-store.ts';

/**
 * Tell the server the batch ended (C3 `PUT /api/batches/:id`): which client made it and how many
 * slides it held — counts only, nothing read from the files. Once, when the wizard reaches Done;
 * a failure (offline, an older server) is not the user's problem: the server's record still has
 * every scan of the batch from the uploads themselves.
 */
export async function reportBatchFinished(batch: BatchRecord): Promise<void> {
  const slides = batch.slides.filter((s) => !s.error && !s.excluded).length;
  await api(`/api/batches/${encodeURIComponent(batch.id)}`, { method: 'PUT', body: { client: 'web', slides, finished: true } }).catch(() => undefined);
}
