import type { ServerConfig } from '../config.ts';
import { generatePassword, hashPassword } from '../auth/password.ts';
import { passwordProblem } from '../auth/password-policy.ts';
import { SlideError } from '../../shared/errors.ts';
import type { Repos } from './repos/index.ts';
import { isUniqueViolation } from './database.ts';

export const demoLabName = 'Demo Lab';

export interface FirstAdmin {
  username: string;
  /** Present only when it was generated (so it must be shown once); never when it came from the environment. */
  generatedPassword?: string;
}

/**
 * On a fresh database (no users): the demo lab with bulk import on and the admin as its lab-admin
 * and the platform admin (the role above labs). The password, given or generated, passes the same
 * policy as every other password.
 * Returns null when the database was already seeded, so restarts never print or change credentials.
 */
export async function seedIfEmpty(repos: Repos, config: ServerConfig): Promise<FirstAdmin | null> {
  if ((await repos.users.count()) > 0) return null;
  const password = config.adminPassword ?? generatePassword();
  const problem = passwordProblem(password, config.adminUser);
  if (problem) throw new SlideError('BAD_REQUEST', `environment variable WSI_ADMIN_PASSWORD is not acceptable: ${problem.message}`);
  const hash = await hashPassword(password);
  let created = false;
  try {
    await repos.transaction(async (tx) => {
      // Re-check inside the transaction: another process may have seeded while we were hashing.
      if ((await tx.users.count()) > 0) return;
      const lab = (await tx.labs.byName(demoLabName)) ?? (await tx.labs.create(demoLabName));
      await tx.labs.setFeatures(lab.id, ['bulk-import']);
      const admin = await tx.users.create(config.adminUser, 'Administrator', hash, { platformAdmin: true, currentLabId: lab.id });
      await tx.labs.setRole(lab.id, admin.id, 'lab-admin');
      created = true;
    });
  } catch (e) {
    // Another instance on the same PostgreSQL database seeded between our check and our insert.
    if (!isUniqueViolation(e)) throw e;
  }
  if (!created) return null;
  return config.adminPassword === undefined ? { username: config.adminUser, generatedPassword: password } : { username: config.adminUser };
}
