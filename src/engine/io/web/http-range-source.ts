import { SlideError } from '../../../shared/errors.ts';
import type { ByteSource } from '../byte-source.ts';

/** A remote file read with HTTP Range requests (stored scans in the viewer). Uses fetch only. */
export class HttpRangeSource implements ByteSource {
  private constructor(readonly url: string, readonly size: number, readonly name: string, private readonly init: RequestInit) {}

  static async open(url: string, name: string, init: RequestInit = { credentials: 'same-origin' }): Promise<HttpRangeSource> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, method: 'HEAD' });
    } catch (e) {
      throw new SlideError('NETWORK', `${name}: cannot reach the server`, { cause: e });
    }
    if (res.status === 404) throw new SlideError('NOT_FOUND', `${name}: not found on the server`);
    if (res.status === 401 || res.status === 403) throw new SlideError('FORBIDDEN', `${name}: access denied`);
    const len = Number(res.headers.get('content-length'));
    if (!res.ok || !Number.isFinite(len)) throw new SlideError('NETWORK', `${name}: the server did not report the file size (${res.status})`);
    return new HttpRangeSource(url, len, name, init);
  }

  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    let res: Response;
    try {
      res = await fetch(this.url, { ...this.init, headers: { Range: `bytes=${offset}-${end - 1}` }, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (e instanceof Error && e.name === 'AbortError') throw new SlideError('ABORTED', 'cancelled');
      throw new SlideError('NETWORK', `${this.name}: reading from the server failed`, { cause: e });
    }
    if (res.status !== 206) throw new SlideError('NETWORK', `${this.name}: the server does not support range requests (${res.status})`);
    return new Uint8Array(await res.arrayBuffer());
  }
}
