import type { Database } from 'better-sqlite3';
import { ApiTokenRepo } from './api-tokens.ts';
import { BatchRepo } from './batches.ts';
import { CaseRepo } from './cases.ts';
import { InvitationRepo } from './invitations.ts';
import { LabRepo } from './labs.ts';
import { QuotaRepo } from './quotas.ts';
import { ScanRepo } from './scans.ts';
import { SessionRepo } from './sessions.ts';
import { UploadRepo } from './uploads.ts';
import { UserRepo } from './users.ts';

export interface Repos {
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
}

export function createRepos(db: Database): Repos {
  return {
    db,
    labs: new LabRepo(db),
    users: new UserRepo(db),
    sessions: new SessionRepo(db),
    uploads: new UploadRepo(db),
    scans: new ScanRepo(db),
    cases: new CaseRepo(db),
    quotas: new QuotaRepo(db),
    invitations: new InvitationRepo(db),
    apiTokens: new ApiTokenRepo(db),
    batches: new BatchRepo(db),
  };
}
