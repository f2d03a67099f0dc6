import type { Database } from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { postgresBaseline } from './postgres-baseline.ts';

/**
 * One schema step. A step that rebuilds a table others reference (SQLite cannot change a CHECK in
 * place) needs foreign keys off while it runs: with them on, dropping the old table would cascade
 * its deletes into every child table. `foreignKeysOff` does that the way SQLite's ALTER TABLE page
 * prescribes (off outside the transaction, foreign_key_check before commit, then on again).
 */
export type Migration = string | { sql: string; foreignKeysOff: true };

/**
 * Versioned schema. Entry i brings the database from user_version i to i+1. Never edit a shipped
 * migration: append a new one, because existing databases have already run the old ones.
 */
export const migrations: readonly Migration[] = [
  // 1: labs, users, roles, feature flags, sessions
  `
  CREATE TABLE labs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE lab_features (
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    feature TEXT NOT NULL,
    PRIMARY KEY (lab_id, feature)
  );
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  );
  CREATE TABLE memberships (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('lab-admin', 'lab-user', 'viewer')),
    PRIMARY KEY (user_id, lab_id)
  );
  CREATE INDEX memberships_lab ON memberships(lab_id);
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    current_lab_id INTEGER REFERENCES labs(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_expiry ON sessions(expires_at);
  `,
  // 2: uploads (one row per tus upload = one part of a slide), scans and their stored files
  `
  CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    slide_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('uploading', 'corrupt', 'processing', 'ready', 'needs-mpp', 'failed')),
    mode TEXT NOT NULL CHECK (mode IN ('deidentified', 'direct')),
    parts INTEGER NOT NULL,
    claimed_format TEXT NOT NULL,
    format TEXT,
    width INTEGER,
    height INTEGER,
    levels INTEGER,
    mpp_x REAL,
    mpp_y REAL,
    mpp_source TEXT,
    original_filename TEXT NOT NULL,
    total_bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    uploaded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (lab_id, slide_id)
  );
  CREATE INDEX scans_lab_status ON scans(lab_id, status);
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slide_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    parts INTEGER NOT NULL,
    filename TEXT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    mode TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('uploading', 'complete', 'corrupt', 'duplicate', 'terminated')),
    scan_id INTEGER REFERENCES scans(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    finished_at TEXT
  );
  CREATE INDEX uploads_slide ON uploads(lab_id, slide_id, part);
  CREATE TABLE scan_files (
    scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    part INTEGER NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    PRIMARY KEY (scan_id, part)
  );
  `,
  // 3: cases and the scans linked to them
  `
  CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    case_number TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (lab_id, case_number)
  );
  CREATE TABLE case_scans (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    linked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (case_id, scan_id)
  );
  CREATE INDEX case_scans_scan ON case_scans(scan_id);
  `,
  // 4: files derived from an upload at ingest (the DICOM instances of a zipped folder): what the
  // viewer opens as the scan's parts, while scan_files keeps the uploaded originals.
  `
  CREATE TABLE scan_instances (
    scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
    part INTEGER NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (scan_id, part)
  );
  `,
  // 5: scans derived from another scan's upload: slide k (>= 1) of a zip that held several. The
  // upload belongs to the first slide's scan; the others point to it and own their instances.
  `
  ALTER TABLE scans ADD COLUMN source_scan_id INTEGER REFERENCES scans(id) ON DELETE CASCADE;
  ALTER TABLE scans ADD COLUMN source_slide INTEGER;
  CREATE UNIQUE INDEX scans_source ON scans(source_scan_id, source_slide) WHERE source_scan_id IS NOT NULL;
  `,
  // 6: issue 10, server-side verification of de-identified uploads. Scans may be 'quarantined'
  // (failed verification: never viewable), with the problems found and, once a lab admin removed
  // the bytes, who did it and when. Uploads keep the identifying fields the user chose to keep.
  // The scans table is rebuilt (same columns in the same order, plus the new ones) because a
  // CHECK constraint cannot be altered; children keep pointing at "scans" by name.
  {
    foreignKeysOff: true,
    sql: `
  CREATE TABLE scans_new (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    slide_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('uploading', 'corrupt', 'processing', 'ready', 'needs-mpp', 'failed', 'quarantined')),
    mode TEXT NOT NULL CHECK (mode IN ('deidentified', 'direct')),
    parts INTEGER NOT NULL,
    claimed_format TEXT NOT NULL,
    format TEXT,
    width INTEGER,
    height INTEGER,
    levels INTEGER,
    mpp_x REAL,
    mpp_y REAL,
    mpp_source TEXT,
    original_filename TEXT NOT NULL,
    total_bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    uploaded_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    source_scan_id INTEGER REFERENCES scans(id) ON DELETE CASCADE,
    source_slide INTEGER,
    verify_problems TEXT,
    files_removed_at TEXT,
    files_removed_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    UNIQUE (lab_id, slide_id)
  );
  INSERT INTO scans_new (id, lab_id, slide_id, batch_id, status, mode, parts, claimed_format, format, width, height, levels,
    mpp_x, mpp_y, mpp_source, original_filename, total_bytes, error, uploaded_by, created_at, updated_at, source_scan_id, source_slide)
  SELECT id, lab_id, slide_id, batch_id, status, mode, parts, claimed_format, format, width, height, levels,
    mpp_x, mpp_y, mpp_source, original_filename, total_bytes, error, uploaded_by, created_at, updated_at, source_scan_id, source_slide
  FROM scans;
  DROP TABLE scans;
  ALTER TABLE scans_new RENAME TO scans;
  CREATE INDEX scans_lab_status ON scans(lab_id, status);
  CREATE UNIQUE INDEX scans_source ON scans(source_scan_id, source_slide) WHERE source_scan_id IS NOT NULL;
  ALTER TABLE uploads ADD COLUMN kept_fields TEXT NOT NULL DEFAULT '[]';
  `,
  },
  // issue 11, storage: a lab's own storage quota in bytes (NULL = the server's default,
  // WSI_LAB_QUOTA_BYTES; 0 = no limit), and an index for summing in-flight uploads and for the
  // cleanup of finished and expired uploads.
  `
  ALTER TABLE labs ADD COLUMN storage_quota_bytes INTEGER CHECK (storage_quota_bytes IS NULL OR storage_quota_bytes >= 0);
  CREATE INDEX uploads_status ON uploads(status, lab_id);
  `,
  // issue 11, accounts. A platform admin (a role above labs; existing databases: the first user,
  // whom the server created on first start) may add existing users to any lab; lab admins invite
  // them instead, and the user accepts or declines. Invitations are kept by username, also for
  // names that have no account, so inviting never tells whether an account exists. The lab a user
  // last chose is remembered per user (filled here from their newest session that still points at
  // a lab they belong to). A reset leaves a temporary password that works for one sign-in before
  // its expiry and must then be replaced (must_change_password).
  `
  ALTER TABLE users ADD COLUMN platform_admin INTEGER NOT NULL DEFAULT 0 CHECK (platform_admin IN (0, 1));
  ALTER TABLE users ADD COLUMN current_lab_id INTEGER REFERENCES labs(id) ON DELETE SET NULL;
  ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
  ALTER TABLE users ADD COLUMN temporary_password_expires_at INTEGER;
  UPDATE users SET platform_admin = 1 WHERE id = (SELECT min(id) FROM users);
  UPDATE users SET current_lab_id = (
    SELECT s.current_lab_id FROM sessions s JOIN memberships m ON m.user_id = s.user_id AND m.lab_id = s.current_lab_id
    WHERE s.user_id = users.id ORDER BY s.created_at DESC LIMIT 1
  );
  CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    username TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('lab-admin', 'lab-user', 'viewer')),
    invited_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    expires_at INTEGER NOT NULL,
    UNIQUE (lab_id, username)
  );
  CREATE INDEX invitations_username ON invitations(username);
  `,
  // issue 12, multi-file slides found by their parts' names (MIRAX: X.mrxs + X/Slidedat.ini, …):
  // each part's path inside the slide, as uploaded (tus metadata `path`) and as stored with the
  // scan, so ingest, verification and the viewer open the same slide. NULL: a plain part.
  `
  ALTER TABLE uploads ADD COLUMN part_path TEXT;
  ALTER TABLE scan_files ADD COLUMN name TEXT;
  `,
  // issue 13, administration: an account a lab admin or platform admin deactivated (when; NULL:
  // active). It cannot sign in and its sessions end; reactivating gives it back as it was.
  `
  ALTER TABLE users ADD COLUMN deactivated_at TEXT;
  `,
  // issue 13, a Scans worklist that scales: the scan's display name (the lab may edit it; filled
  // with the name the upload gave it, or a neutral 'slide-<id>' for DICOM's generated instance
  // names, which every DICOM slide shares), its thumbnail (made at ingest from the stored file),
  // and indexes so that every sort, filter and batch count of the list is an index walk even with
  // 100,000 scans (test/bench/scans-query.bench.ts).
  `
  ALTER TABLE scans ADD COLUMN name TEXT NOT NULL DEFAULT '';
  ALTER TABLE scans ADD COLUMN thumbnail_path TEXT;
  UPDATE scans SET name = CASE
    WHEN lower(original_filename) GLOB 'level-[0-9]*.dcm' OR lower(original_filename) IN ('thumbnail.dcm', 'label.dcm', 'overview.dcm')
      OR lower(original_filename) GLOB 'thumbnail-part[0-9]*.dcm' OR lower(original_filename) GLOB 'label-part[0-9]*.dcm' OR lower(original_filename) GLOB 'overview-part[0-9]*.dcm'
      THEN 'slide-' || substr(slide_id, 1, 8)
    ELSE original_filename END;
  CREATE INDEX scans_lab_created ON scans(lab_id, created_at, id);
  CREATE INDEX scans_lab_name ON scans(lab_id, name COLLATE NOCASE, id);
  CREATE INDEX scans_lab_status_created ON scans(lab_id, status, created_at, id);
  CREATE INDEX scans_lab_batch ON scans(lab_id, batch_id, id);
  CREATE INDEX scans_lab_uploader ON scans(lab_id, uploaded_by, created_at, id);
  CREATE INDEX scans_lab_format ON scans(lab_id, coalesce(format, claimed_format), created_at, id);
  CREATE INDEX case_scans_lab_scan ON case_scans(lab_id, scan_id);
  -- Search by any part of a name: a trigram index (LIKE '%x%' would read all 100,000 rows), kept
  -- in step by triggers. A later migration that rebuilds the scans table must recreate these.
  CREATE VIRTUAL TABLE scans_search USING fts5(name, original_filename, slide_id, content='scans', content_rowid='id', tokenize='trigram');
  INSERT INTO scans_search(scans_search) VALUES ('rebuild');
  CREATE TRIGGER scans_search_insert AFTER INSERT ON scans BEGIN
    INSERT INTO scans_search(rowid, name, original_filename, slide_id) VALUES (new.id, new.name, new.original_filename, new.slide_id);
  END;
  CREATE TRIGGER scans_search_delete AFTER DELETE ON scans BEGIN
    INSERT INTO scans_search(scans_search, rowid, name, original_filename, slide_id) VALUES ('delete', old.id, old.name, old.original_filename, old.slide_id);
  END;
  CREATE TRIGGER scans_search_update AFTER UPDATE OF name, original_filename, slide_id ON scans BEGIN
    INSERT INTO scans_search(scans_search, rowid, name, original_filename, slide_id) VALUES ('delete', old.id, old.name, old.original_filename, old.slide_id);
    INSERT INTO scans_search(rowid, name, original_filename, slide_id) VALUES (new.id, new.name, new.original_filename, new.slide_id);
  END;
  `,
  // issue 13, the worklist with 100,000 scans: "not in a case" as a column of the scan (1: linked
  // to at least one case), kept by triggers on case_scans — so also by the cascades when a case or
  // a scan is deleted — and recounted, not incremented, so a link made twice cannot skew it.
  // Filters then read one index instead of gathering the lab's linked scans per request:
  // partial indexes for the scans in no case, by each sort, and one index that holds every
  // filter column, so counting a page's matches under several filters at once (status, not in a
  // case, format, uploader) never reads the table. Checked by test/server/scans-query-plan.test.ts.
  `
  ALTER TABLE scans ADD COLUMN in_case INTEGER NOT NULL DEFAULT 0 CHECK (in_case IN (0, 1));
  UPDATE scans SET in_case = 1 WHERE id IN (SELECT scan_id FROM case_scans);
  CREATE TRIGGER scans_in_case_link AFTER INSERT ON case_scans BEGIN
    UPDATE scans SET in_case = 1 WHERE id = new.scan_id AND in_case = 0;
  END;
  CREATE TRIGGER scans_in_case_unlink AFTER DELETE ON case_scans BEGIN
    UPDATE scans SET in_case = EXISTS (SELECT 1 FROM case_scans WHERE scan_id = old.scan_id) WHERE id = old.scan_id;
  END;
  CREATE TRIGGER scans_in_case_move AFTER UPDATE OF scan_id ON case_scans BEGIN
    UPDATE scans SET in_case = EXISTS (SELECT 1 FROM case_scans WHERE scan_id = scans.id) WHERE id IN (old.scan_id, new.scan_id);
  END;
  CREATE INDEX scans_lab_unlinked_created ON scans(lab_id, created_at, id) WHERE in_case = 0;
  CREATE INDEX scans_lab_unlinked_name ON scans(lab_id, name COLLATE NOCASE, id) WHERE in_case = 0;
  CREATE INDEX scans_lab_unlinked_status ON scans(lab_id, status, created_at, id) WHERE in_case = 0;
  CREATE INDEX scans_lab_filters ON scans(lab_id, status, in_case, coalesce(format, claimed_format), uploaded_by, created_at, id);
  `,
  // issue 14, lab automation and linking at upload:
  // * per-user API tokens (only the SHA-256 of the token is kept; revoked rows stay for the record);
  // * the case and display name an upload asks for (on every part's upload row, and on the scan
  //   it creates), and what linking made of it once the scan was ingested;
  // * the server's PHI-free record of a batch, one row per (lab, batch id); batches that already
  //   have scans get one, from their first scan (the web app was the only client then).
  `
  CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    last_used_at TEXT,
    revoked_at TEXT
  );
  CREATE INDEX api_tokens_user ON api_tokens(user_id, id);
  ALTER TABLE uploads ADD COLUMN scan_name TEXT;
  ALTER TABLE uploads ADD COLUMN case_number TEXT;
  ALTER TABLE uploads ADD COLUMN create_case INTEGER NOT NULL DEFAULT 0 CHECK (create_case IN (0, 1));
  ALTER TABLE scans ADD COLUMN case_number TEXT;
  ALTER TABLE scans ADD COLUMN create_case INTEGER NOT NULL DEFAULT 0 CHECK (create_case IN (0, 1));
  ALTER TABLE scans ADD COLUMN case_link_state TEXT CHECK (case_link_state IN ('linked', 'created', 'not-found', 'not-linked'));
  CREATE TABLE batches (
    lab_id INTEGER NOT NULL REFERENCES labs(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    client TEXT NOT NULL CHECK (client IN ('web', 'cli')),
    slides INTEGER,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    finished_at TEXT,
    PRIMARY KEY (lab_id, id)
  );
  CREATE INDEX batches_lab_created ON batches(lab_id, created_at);
  INSERT INTO batches (lab_id, id, client, created_by, created_at)
    SELECT s.lab_id, s.batch_id, 'web', s.uploaded_by, s.created_at FROM scans s
    WHERE s.id = (SELECT min(b.id) FROM scans b WHERE b.lab_id = s.lab_id AND b.batch_id = s.batch_id);
  `,
];

/**
 * Schema steps after SQLite's list above, in both dialects: step i brings either database from
 * version migrations.length + i to migrations.length + i + 1. PostgreSQL starts at
 * migrations.length with its baseline (postgres-baseline.ts), equal to SQLite's schema there.
 */
export interface DualMigration {
  sqlite: Migration;
  postgres: string;
}
export const laterMigrations: readonly DualMigration[] = [
  // 14: ingest jobs in the database, claimed with a lease, so several instances share ingest and
  // a job whose instance died is taken over (repos/ingest-jobs.ts). Scans already waiting get one.
  {
    sqlite: `
      CREATE TABLE ingest_jobs (
        scan_id INTEGER PRIMARY KEY REFERENCES scans(id) ON DELETE CASCADE,
        lab_id INTEGER NOT NULL,
        queued_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until INTEGER,
        again INTEGER NOT NULL DEFAULT 0,
        request_id TEXT
      );
      CREATE INDEX ingest_jobs_claim ON ingest_jobs (queued_at, scan_id);
      INSERT INTO ingest_jobs (scan_id, lab_id, queued_at) SELECT id, lab_id, 0 FROM scans WHERE status = 'processing';
    `,
    postgres: `
      CREATE TABLE ingest_jobs (
        scan_id BIGINT PRIMARY KEY REFERENCES scans(id) ON DELETE CASCADE,
        lab_id BIGINT NOT NULL,
        queued_at BIGINT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until BIGINT,
        again BIGINT NOT NULL DEFAULT 0,
        request_id TEXT
      );
      CREATE INDEX ingest_jobs_claim ON ingest_jobs (queued_at, scan_id);
      INSERT INTO ingest_jobs (scan_id, lab_id, queued_at) SELECT id, lab_id, 0 FROM scans WHERE status = 'processing';
    `,
  },
  // 15: a lab's scans newest first by id, for the worklist's batch choices (ScanRepo.batches walks
  // it and stops after the newest batches): without it the walk goes down the primary key and
  // steps over every newer scan of the other labs.
  {
    sqlite: `CREATE INDEX scans_lab_id ON scans(lab_id, id);`,
    postgres: `CREATE INDEX scans_lab_id ON scans(lab_id, id);`,
  },
];

/** The newest schema version this server knows (both dialects). */
export const latestVersion = (): number => migrations.length + laterMigrations.length;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Apply every migration newer than the database's user_version, each in its own transaction
 * together with the version bump, so a crash leaves the database at a consistent version.
 * Returns the versions applied. `upTo` and `list` exist so tests can build an old database and
 * check that a failing migration leaves the database as it was.
 */
export function migrate(db: Database, upTo?: number, list: readonly Migration[] = [...migrations, ...laterMigrations.map((m) => m.sqlite)]): number[] {
  const applied: number[] = [];
  const current = schemaVersion(db);
  if (current > list.length) {
    throw new Error(`database schema version ${current} is newer than this server (${list.length}); upgrade the server`);
  }
  for (let v = current; v < (upTo ?? list.length); v++) {
    const step = list[v];
    const sql = typeof step === 'string' ? step : step.sql;
    const fkOff = typeof step !== 'string' && step.foreignKeysOff;
    // The pragma is a no-op inside a transaction, so it is switched here, around it.
    const fkWas = db.pragma('foreign_keys', { simple: true }) as number;
    if (fkOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(sql);
        if (fkOff) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new Error(`migration ${v + 1} would break ${broken.length} foreign key reference(s)`);
        }
        // PRAGMA takes no bound parameters; v is our own loop integer.
        db.pragma(`user_version = ${v + 1}`);
      })();
    } finally {
      if (fkOff && fkWas) db.pragma('foreign_keys = ON');
    }
    applied.push(v + 1);
  }
  return applied;
}

/**
 * PostgreSQL: the version lives in wsi_schema (one row). An empty database gets the baseline
 * (version migrations.length), then each later migration's postgres form, all in one transaction
 * with the version (PostgreSQL's DDL is transactional: a failure leaves the database as it was).
 * An advisory lock makes instances that start together migrate one after the other.
 */
export async function migratePostgres(db: Kysely<any>): Promise<number[]> {
  const applied: number[] = [];
  await db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(7295001)`.execute(tx);
    await sql`CREATE TABLE IF NOT EXISTS wsi_schema (version INTEGER NOT NULL)`.execute(tx);
    const row = (await sql<{ version: number }>`SELECT version FROM wsi_schema`.execute(tx)).rows[0];
    let version = row?.version ?? 0;
    if (version > latestVersion()) throw new Error(`database schema version ${version} is newer than this server (${latestVersion()}); upgrade the server`);
    if (!row) {
      await sql.raw(postgresBaseline).execute(tx);
      version = migrations.length;
      await sql`INSERT INTO wsi_schema (version) VALUES (${version})`.execute(tx);
      applied.push(version);
    }
    for (let v = version; v < latestVersion(); v++) {
      await sql.raw(laterMigrations[v - migrations.length]!.postgres).execute(tx);
      await sql`UPDATE wsi_schema SET version = ${v + 1}`.execute(tx);
      applied.push(v + 1);
    }
  });
  return applied;
}
