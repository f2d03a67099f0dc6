import type { DataStore } from '@tus/server';

/**
 * Counts the bytes every tus write puts into the store, whatever the store (file or S3): what a
 * write returns is the new offset, so the bytes are its difference from the old one. A write that
 * fails part-way may still have stored some bytes (they count: the upload resumes after them), so
 * the store is asked for the upload's offset then.
 */
export function meterStoreWrites(store: DataStore, onBytes: (bytes: number) => void): void {
  const write = store.write.bind(store);
  store.write = async (readable, id, offset) => {
    let end: number;
    try {
      end = await write(readable, id, offset);
    } catch (e) {
      const after = await store.getUpload(id).then((u) => u.offset, () => offset);
      if (after > offset) onBytes(after - offset);
      throw e;
    }
    if (end > offset) onBytes(end - offset);
    return end;
  };
}
