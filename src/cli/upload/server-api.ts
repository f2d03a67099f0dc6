import { SlideError } from '../../shared/errors.ts';
import { readApiResponse } from '../../shared/api-response.ts';

/** SlideError detail of a request the server refused as unauthenticated (401): the token is bad. */
export const AUTH_REFUSED = 'AUTH_REFUSED';

export function isAuthRefused(e: unknown): boolean {
  return e instanceof SlideError && e.detail === AUTH_REFUSED;
}

/** The message for a refused token; never shows the token. */
export const AUTH_REFUSED_MESSAGE = 'The server refused the API token (it is wrong, revoked, or its user no longer belongs to the lab). Create a new token on the Account page.';

export interface Me {
  user: { id: number; username: string; displayName: string };
  labs: { id: number; name: string; role: string; features: string[] }[];
  currentLabId: number | null;
  canImport: boolean;
}

/** GET /api/uploads/slide/:slideId (src/server/routes/uploads.ts). */
export interface SlideStatus {
  scan: { id: number; status: string } | null;
  parts: { part: number; status: 'complete' | 'corrupt' | 'uploading' | 'missing'; sha256?: string; uploads: { url?: string; status: string; sha256: string; offset: number | null }[] }[];
}

/** The fields of GET /api/scans/:id the CLI reads. */
export interface ScanView {
  id: number;
  status: string;
  error: string | null;
  quarantine: { problems: string[] } | null;
  caseLink?: { caseNumber: string; state: string } | null;
  cases?: { id: number; caseNumber: string }[];
}

/** JSON requests to the server with the bearer token (only ever in the Authorization header). */
export class ServerApi {
  constructor(readonly origin: string, private readonly token: string) {}

  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  async request<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.origin), {
        method: init.method ?? 'GET',
        headers: { authorization: this.authorization, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (e) {
      throw new SlideError('NETWORK', `Cannot reach the server at ${this.origin}.`, { cause: e });
    }
    if (res.status === 401) throw new SlideError('FORBIDDEN', AUTH_REFUSED_MESSAGE, { detail: AUTH_REFUSED });
    return readApiResponse<T>(res);
  }

  me(): Promise<Me> {
    return this.request<Me>('/api/me');
  }

  slide(slideId: string): Promise<SlideStatus> {
    return this.request<SlideStatus>(`/api/uploads/slide/${encodeURIComponent(slideId)}`);
  }

  async scan(id: number): Promise<ScanView> {
    return (await this.request<{ scan: ScanView }>(`/api/scans/${id}`)).scan;
  }

  /** C3: what the client says about its batch (creates the server's row when missing). */
  async putBatch(id: string, body: { client: 'cli'; slides: number; finished?: boolean }): Promise<void> {
    await this.request(`/api/batches/${encodeURIComponent(id)}`, { method: 'PUT', body });
  }
}
