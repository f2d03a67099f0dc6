import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

/** A signed-in HTTP client for tests that need server state without going through the UI. */
export class ApiClient {
  private cookie = '';
  constructor(readonly baseUrl: string) {}

  static async login(baseUrl: string, username: string, password: string): Promise<ApiClient> {
    const c = new ApiClient(baseUrl);
    const res = await fetch(`${baseUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (!res.ok) throw new Error(`login failed: ${res.status}`);
    c.cookie = (res.headers.getSetCookie?.() ?? [res.headers.get('set-cookie') ?? '']).map((s) => s.split(';')[0]).join('; ');
    return c;
  }

  /** The session cookie, e.g. to put into a browser context. */
  get sessionCookie(): { name: string; value: string } {
    const [name, ...rest] = this.cookie.split('=');
    return { name, value: rest.join('=') };
  }

  async json<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { cookie: this.cookie, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Uploads one file as a one-part slide with the raw tus 1.0 protocol; returns the scan id. */
  async uploadFile(path: string, opts: { format: string; mode?: 'deidentified' | 'direct' }): Promise<number> {
    const bytes = await readFile(path);
    const slideId = randomUUID();
    const meta: Record<string, string> = {
      filename: basename(path),
      slideId,
      part: '0',
      parts: '1',
      format: opts.format,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      mode: opts.mode ?? 'direct',
      batchId: randomUUID(),
    };
    const header = Object.entries(meta).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',');
    const created = await fetch(`${this.baseUrl}/files/`, {
      method: 'POST',
      headers: { cookie: this.cookie, 'Tus-Resumable': '1.0.0', 'Upload-Length': String(bytes.length), 'Upload-Metadata': header },
    });
    if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
    const location = new URL(created.headers.get('location')!, this.baseUrl).href;
    const patched = await fetch(location, {
      method: 'PATCH',
      headers: { cookie: this.cookie, 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: bytes,
    });
    if (patched.status !== 204) throw new Error(`tus patch: ${patched.status} ${await patched.text()}`);
    for (let i = 0; i < 200; i++) {
      const s = await this.json<{ parts: { part: number; status: string; scanId?: number }[]; scanId?: number }>(`/api/uploads/slide/${slideId}`);
      const p = s.parts.find((x) => Number(x.part) === 0);
      const scanId = p?.scanId ?? s.scanId;
      if (p?.status === 'complete' && scanId) return scanId;
      if (p?.status === 'corrupt') throw new Error('server reported the upload corrupt');
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('upload not confirmed');
  }
}
