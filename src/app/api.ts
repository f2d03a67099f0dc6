// The request helper lives in the upload layer (the upload queue asks the server too); the app
// imports it from here with the server's response types.
export { api } from '../upload/api-request.ts';

export interface Me {
  user: { id: number; username: string; displayName?: string };
  labs: { id: number; name: string; role: 'lab-admin' | 'lab-user' | 'viewer'; features: string[] }[];
  currentLabId: number | null;
  canImport: boolean;
}

/** A scan as the server's scan routes return it. */
export interface ScanSummary {
  id: number;
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
  files?: { part: number; size: number; sha256: string; url: string }[];
  /** Slide k (>= 1) of a zip uploaded as that scan. */
  sourceScanId?: number | null;
  /** Scan details only: the other slides of this scan's zip. */
  derived?: { id: number; originalFilename: string; status: ScanSummary['status'] }[];
}
