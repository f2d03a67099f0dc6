// The request helper lives in the upload layer (the upload queue asks the server too); the app
// imports it from here with the server's response types.
import { api } from '../upload/api-request.ts';

export { api };

export type Role = 'lab-admin' | 'lab-user' | 'viewer';

export interface Me {
  user: { id: number; username: string; displayName?: string };
  labs: { id: number; name: string; role: Role; features: string[] }[];
  /** Null when the user belongs to several labs and has not chosen one yet. */
  currentLabId: number | null;
  canImport: boolean;
  /** A role above labs: administers every lab's members. */
  platformAdmin?: boolean;
  /** Signed in with a reset's temporary password: only choosing a new one is allowed. */
  mustChangePassword?: boolean;
  /** Invitations to other labs waiting for an answer. */
  pendingInvitations?: number;
}

export interface LabMember {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  /** When an admin deactivated the account (null or absent: active). */
  deactivatedAt?: string | null;
}

/** A lab as platform admins see it (GET /api/labs). */
export interface LabSummary {
  id: number;
  name: string;
  members: number;
  features: string[];
}

export interface Invitation {
  id: number;
  lab: { id: number; name: string };
  username: string;
  role: Role;
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
}

/** A scan as the server's scan routes return it. */
export interface ScanSummary {
  id: number;
  /** What the lab calls the scan (editable); absent from older servers: use originalFilename. */
  name?: string;
  /** The upload batch it came in and its place there (1-based, by arrival). */
  batch?: { id: string; position: number; size: number; createdAt: string };
  /** The worklist thumbnail (made at ingest from the stored file), null when there is none. */
  thumbnailUrl?: string | null;
  slideId: string;
  status: 'uploading' | 'corrupt' | 'processing' | 'ready' | 'needs-mpp' | 'failed' | 'quarantined';
  mode: 'deidentified' | 'direct';
  parts: number;
  format: string | null;
  width: number | null;
  height: number | null;
  levels: number | null;
  mpp: { x: number; y: number; source?: string | null } | null;
  originalFilename: string;
  totalBytes: number;
  error: string | null;
  uploadedBy: { id: number; username: string | null } | null;
  /**
   * Set when the server's verification of a de-identified upload failed: why (words, never
   * values) and, once a lab admin removed the bytes, by whom and when. Never viewable.
   */
  quarantine?: { problems: string[]; filesRemoved: { at: string; by: { id: number; username: string | null } | null } | null } | null;
  createdAt: string;
  cases: { id: number; caseNumber: string }[];
  /** The case the upload asked for and what became of it (issue 14); null: none asked, or not settled yet. */
  caseLink?: { caseNumber: string; state: 'linked' | 'created' | 'not-found' | 'not-linked' } | null;
  /** `name`: the part's path inside a slide opened by its parts' names (MIRAX `X/Slidedat.ini`). */
  files?: { part: number; name?: string; size: number; sha256: string; url: string }[];
  /** Slide k (>= 1) of a zip uploaded as that scan. */
  sourceScanId?: number | null;
  /** Scan details only: the other slides of this scan's zip. */
  derived?: { id: number; originalFilename: string; status: ScanSummary['status'] }[];
}

/** A per-user API token for automated uploads (`wsi-import upload --token-file`), as listed. */
export interface ApiToken {
  id: number;
  name: string;
  labId: number;
  labName: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A token just made: the only time the server shows the token itself (it keeps a hash). */
export interface NewApiToken extends Omit<ApiToken, 'lastUsedAt'> {
  token: string;
}

export const listApiTokens = async (): Promise<ApiToken[]> => (await api<{ tokens: ApiToken[] }>('/api/me/tokens')).tokens;
export const createApiToken = (name: string): Promise<NewApiToken> => api<NewApiToken>('/api/me/tokens', { body: { name } });
export const revokeApiToken = (id: number): Promise<void> => api<void>(`/api/me/tokens/${id}`, { method: 'DELETE' });
