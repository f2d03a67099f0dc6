import { SlideError } from '../../../shared/errors.ts';
import type { ByteSource } from '../byte-source.ts';

/** A Blob or picked File as a ByteSource (reads are slices; nothing is loaded whole). */
export class BlobSource implements ByteSource {
  readonly size: number;
  /** Each read is a new ArrayBuffer from Blob.arrayBuffer(). */
  readonly freshReads = true;
  constructor(readonly blob: Blob, readonly name = blob instanceof File ? blob.name : 'blob') {
    this.size = blob.size;
  }
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (signal?.aborted) throw new SlideError('ABORTED', 'cancelled');
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    try {
      return new Uint8Array(await this.blob.slice(offset, end).arrayBuffer());
    } catch (e) {
      // NotReadableError: the file was moved, changed or its permission revoked after picking.
      throw new SlideError('IO', `${this.name}: the file can no longer be read (moved or changed?)`, { cause: e });
    }
  }
}
