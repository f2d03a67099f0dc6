import type { Database } from '../database.ts';
import { ApiTokenRepo } from './api-tokens.ts';
import { BatchRepo } from './batches.ts';
import { CaseRepo } from './cases.ts';
import type { Ctx } from './context.ts';
import { IngestJobRepo } from './ingest-jobs.ts';
import { InvitationRepo } from './invitations.ts';
import { LabRepo } from './labs.ts';
import { QuotaRepo } from './quotas.ts';
import { ScanRepo } from './scans.ts';
import { SessionRepo } from './sessions.ts';
import { UploadRepo } from './uploads.ts';
import { UserRepo } from './users.ts';

export interface Repos {
  /** The database the repos were made for (a transaction's repos query through the transaction). */
  db: Database;
  labs: LabRepo;
  users: UserRepo;
  sessions: SessionRepo;
  uploads: UploadRepo;
  scans: ScanRepo;
  cases: CaseRepo;
  quotas: QuotaRepo;
  invitations: InvitationRepo;
  apiTokens: ApiTokenRepo;
  batches: BatchRepo;
  ingestJobs: IngestJobRepo;
  /**
   * Run `fn` with repos bound to one transaction: committed when it resolves, rolled back when it
   * throws. Inside, use only `tx` (on SQLite the outer repos wait for the transaction's end: using
   * them there would never finish). Nested calls join the outer transaction. Keep it to database
   * work: the transaction holds SQLite's one connection until it ends.
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
}

function reposOn(db: Database, c: Ctx): Repos {
  const repos: Repos = {
    db,
    labs: new LabRepo(c),
    users: new UserRepo(c),
    sessions: new SessionRepo(c),
    uploads: new UploadRepo(c),
    scans: new ScanRepo(c),
    cases: new CaseRepo(c),
    quotas: new QuotaRepo(c),
    invitations: new InvitationRepo(c),
    apiTokens: new ApiTokenRepo(c),
    batches: new BatchRepo(c),
    ingestJobs: new IngestJobRepo(c),
    transaction: (fn) => (c.db.isTransaction ? fn(repos) : c.db.transaction().execute((tx) => fn(reposOn(db, { db: tx, dialect: c.dialect })))),
  };
  return repos;
}

export function createRepos(db: Database): Repos {
  return reposOn(db, { db: db.kysely, dialect: db.dialect });
}
