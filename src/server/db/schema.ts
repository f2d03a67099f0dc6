import type { Generated } from 'kysely';

/**
 * The tables as the repositories see them, on both databases. Integers are JS numbers on both
 * (PostgreSQL's BIGINT and numeric sums are parsed as numbers: database.ts); flags are 0/1
 * integers on both, never booleans; timestamps are TEXT in one format ('YYYY-MM-DDTHH:MM:SS.sssZ',
 * UTC) on both, so responses are byte-identical; sessions and invitations keep ms since epoch.
 */
export interface Schema {
  labs: { id: Generated<number>; name: string; created_at: Generated<string>; storage_quota_bytes: number | null };
  lab_features: { lab_id: number; feature: string };
  users: {
    id: Generated<number>;
    username: string;
    display_name: string;
    password_hash: string;
    created_at: Generated<string>;
    platform_admin: Generated<number>;
    current_lab_id: number | null;
    must_change_password: Generated<number>;
    temporary_password_expires_at: number | null;
    deactivated_at: string | null;
  };
  memberships: { user_id: number; lab_id: number; role: string };
  sessions: { token_hash: string; user_id: number; current_lab_id: number | null; created_at: number; expires_at: number };
  scans: {
    id: Generated<number>;
    lab_id: number;
    slide_id: string;
    batch_id: string;
    status: string;
    mode: string;
    parts: number;
    claimed_format: string;
    format: string | null;
    width: number | null;
    height: number | null;
    levels: number | null;
    mpp_x: number | null;
    mpp_y: number | null;
    mpp_source: string | null;
    original_filename: string;
    total_bytes: Generated<number>;
    error: string | null;
    uploaded_by: number | null;
    created_at: Generated<string>;
    updated_at: Generated<string>;
    source_scan_id: number | null;
    source_slide: number | null;
    verify_problems: string | null;
    files_removed_at: string | null;
    files_removed_by: number | null;
    name: Generated<string>;
    thumbnail_path: string | null;
    in_case: Generated<number>;
    case_number: string | null;
    create_case: Generated<number>;
    case_link_state: string | null;
  };
  uploads: {
    id: string;
    lab_id: number;
    user_id: number;
    slide_id: string;
    batch_id: string;
    part: number;
    parts: number;
    filename: string;
    format: string;
    sha256: string;
    mode: string;
    size: number;
    status: string;
    scan_id: number | null;
    created_at: Generated<string>;
    finished_at: string | null;
    kept_fields: Generated<string>;
    part_path: string | null;
    scan_name: string | null;
    case_number: string | null;
    create_case: Generated<number>;
  };
  scan_files: { scan_id: number; part: number; path: string; size: number; sha256: string; upload_id: string; name: string | null };
  cases: { id: Generated<number>; lab_id: number; case_number: string; description: Generated<string>; created_by: number | null; created_at: Generated<string> };
  case_scans: { case_id: number; scan_id: number; lab_id: number; linked_at: Generated<string> };
  ingest_jobs: { scan_id: number; lab_id: number; queued_at: number; attempts: number; owner: string | null; lease_until: number | null; again: number; request_id: string | null };
  scan_instances: { scan_id: number; part: number; path: string; size: number; sha256: string };
  invitations: {
    id: Generated<number>;
    lab_id: number;
    username: string;
    role: string;
    invited_by: number | null;
    created_at: Generated<string>;
    expires_at: number;
  };
  api_tokens: {
    id: Generated<number>;
    user_id: number;
    lab_id: number;
    name: string;
    token_hash: string;
    created_at: Generated<string>;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  batches: {
    lab_id: number;
    id: string;
    client: string;
    slides: number | null;
    created_by: number | null;
    created_at: Generated<string>;
    finished_at: string | null;
  };
}
