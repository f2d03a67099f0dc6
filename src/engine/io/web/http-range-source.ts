import type { ByteSource } from '../byte-source.ts';
import { SlideError } from '../../../shared/errors.ts';

/**
 * A file on the server read with HTTP Range requests (the scan viewer reads the stored slide this
 * way, with the same engine as the import). Wrap it in a BlockedSource: parsers make many small reads.
 */
export class HttpRangeSource implements ByteSource {
  private constructor(private readonly url: string, readonly size: number, readonly name: string, private readonly init: RequestInit) {}

  /** Learns the size with a one-byte range request (HEAD may be answered without Content-Length). */
  static async open(url: string, name: string, init: RequestInit = { credentials: 'same-origin' }): Promise<HttpRangeSource> {
    const res = await fetchOrThrow(url, { ...init, headers: { Range: 'bytes=0-0' } }, name);
    const range = res.headers.get('content-range');
    await res.body?.cancel();
    const total = range ? Number(range.split('/')[1]) : Number(res.headers.get('content-length'));
    if (!Number.isFinite(total)) throw new SlideError('IO', `${name}: server did not report the file size`);
    return new HttpRangeSource(url, total, name, init);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const res = await fetchOrThrow(this.url, { ...this.init, signal, headers: { Range: `bytes=${offset}-${end - 1}` } }, this.name);
    const bytes = new Uint8Array(await res.arrayBuffer());
    // A server that ignores Range answers 200 with the whole file: take the slice we asked for.
    return res.status === 206 ? bytes : bytes.subarray(offset, end);
  }
}

async function fetchOrThrow(url: string, init: RequestInit, name: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (init.signal?.aborted) throw new SlideError('ABORTED', 'cancelled', { cause: e });
    throw new SlideError('NETWORK', `${name}: cannot reach the server`, { cause: e });
  }
  if (res.status === 404) throw new SlideError('NOT_FOUND', `${name}: not found on the server`);
  if (res.status === 401 || res.status === 403) throw new SlideError('FORBIDDEN', `${name}: not allowed`);
  if (!res.ok) throw new SlideError('IO', `${name}: server answered ${res.status}`);
  return res;
}
