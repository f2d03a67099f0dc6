import { generatePassword, hashPassword } from './auth/password.ts';
import type { Repos } from './db/repos/index.ts';
import type { Feature, Lab, Role } from './db/repos/labs.ts';
import { ApiError, badRequest, notFound } from './http/api-error.ts';

/**
 * What the admin pages (routes/labs.ts) and the operator command (admin-cli.ts) both do to
 * accounts and labs, written once so the rules (one-time passwords, the last lab admin, sessions
 * ending) cannot drift apart. Who may do it is the caller's part; these only do it.
 */

/** How long a one-time password may wait for its one sign-in (a weekend fits). */
export const temporaryPasswordHours = 72;

const usernamePattern = /^[A-Za-z0-9._@-]{1,64}$/;

export function checkUsername(username: string): string {
  if (!usernamePattern.test(username)) throw badRequest('A username may contain only letters, digits and . _ @ - (at most 64 characters).');
  return username;
}

/** A one-time password: shown once to whoever issued it, signs in once before `expiresAt`, then must be replaced. */
export interface OneTimePassword {
  temporaryPassword: string;
  /** ISO time. */
  expiresAt: string;
}

async function newOneTimePassword(): Promise<{ plain: string; hash: string; expiresAt: number }> {
  const plain = generatePassword();
  return { plain, hash: await hashPassword(plain), expiresAt: Date.now() + temporaryPasswordHours * 3600 * 1000 };
}

const usernameTaken = (): ApiError =>
  new ApiError(409, 'USERNAME_UNAVAILABLE', 'This username cannot be used for a new account. Choose another, or invite the person if they already have an account.');

/** Replace the user's password with a one-time password and end every session of theirs. */
export async function resetToOneTimePassword(repos: Repos, userId: number): Promise<OneTimePassword> {
  const otp = await newOneTimePassword();
  await repos.transaction(async (tx) => {
    await tx.users.setTemporaryPassword(userId, otp.hash, otp.expiresAt);
    await tx.sessions.deleteForUser(userId);
  });
  return { temporaryPassword: otp.plain, expiresAt: new Date(otp.expiresAt).toISOString() };
}

export interface NewAccount {
  labId: number;
  username: string;
  displayName: string;
  role: Role;
  /** A password chosen by the admin; without it a one-time password is made and returned. */
  password?: string;
  platformAdmin?: boolean;
}

/** A new account and its membership, in one transaction; 409 when the username is taken. */
export async function createAccount(repos: Repos, a: NewAccount): Promise<{ userId: number; oneTime?: OneTimePassword }> {
  checkUsername(a.username);
  // Hashed before looking the name up, so a taken name answers in the same time as a free one.
  const otp = a.password === undefined ? await newOneTimePassword() : undefined;
  const hash = otp?.hash ?? (await hashPassword(a.password!));
  const userId = await repos.transaction(async (tx) => {
    if (await tx.users.exists(a.username)) return undefined;
    const opts = { currentLabId: a.labId, platformAdmin: a.platformAdmin ?? false };
    const user = otp
      ? await tx.users.createWithTemporaryPassword(a.username, a.displayName, hash, otp.expiresAt, opts)
      : await tx.users.create(a.username, a.displayName, hash, opts);
    await tx.labs.setRole(a.labId, user.id, a.role);
    return user.id;
  });
  if (userId === undefined) throw usernameTaken();
  return { userId, ...(otp ? { oneTime: { temporaryPassword: otp.plain, expiresAt: new Date(otp.expiresAt).toISOString() } } : {}) };
}

export interface NewLab {
  name: string;
  features?: readonly Feature[];
  /** The lab's first lab admin: a new account with a one-time password. */
  admin?: { username: string; displayName: string };
}

/** A lab (and its first admin) in one transaction: either both exist afterwards or neither. */
export async function createLab(repos: Repos, l: NewLab): Promise<{ lab: Lab; admin?: { userId: number; username: string } & OneTimePassword }> {
  if (l.admin) checkUsername(l.admin.username);
  const otp = l.admin ? await newOneTimePassword() : undefined;
  const result = await repos.transaction(async (tx) => {
    if (await tx.labs.byName(l.name)) return 'lab-exists' as const;
    if (l.admin && await tx.users.exists(l.admin.username)) return 'username-taken' as const;
    const lab = await tx.labs.create(l.name);
    if (l.features?.length) await tx.labs.setFeatures(lab.id, l.features);
    if (!l.admin || !otp) return { lab };
    const user = await tx.users.createWithTemporaryPassword(l.admin.username, l.admin.displayName, otp.hash, otp.expiresAt, { currentLabId: lab.id });
    await tx.labs.setRole(lab.id, user.id, 'lab-admin');
    return { lab, userId: user.id };
  });
  if (result === 'lab-exists') throw new ApiError(409, 'LAB_EXISTS', 'A lab with this name already exists.');
  if (result === 'username-taken') throw usernameTaken();
  if (!l.admin || !otp || result.userId === undefined) return { lab: result.lab };
  return {
    lab: result.lab,
    admin: { userId: result.userId, username: l.admin.username, temporaryPassword: otp.plain, expiresAt: new Date(otp.expiresAt).toISOString() },
  };
}

/**
 * Deactivate or reactivate an account. Deactivating ends its sessions at once, and is refused
 * (409) when it would leave one of its labs with no active lab admin.
 */
export async function setAccountActive(repos: Repos, userId: number, active: boolean): Promise<void> {
  await repos.transaction(async (tx) => {
    if (!(await tx.users.byId(userId))) throw notFound('User not found.');
    if (!active) {
      for (const lab of await tx.labs.membershipsOf(userId)) {
        // Held until the end: two admins of one lab deactivated at once cannot both pass the check.
        await tx.labs.lock(lab.id);
        if (lab.role === 'lab-admin' && (await tx.labs.activeAdminsBesides(lab.id, userId)) === 0) {
          throw new ApiError(409, 'LAST_LAB_ADMIN', `This is the last active lab admin of ${lab.name}. Make another member lab admin first.`);
        }
      }
      await tx.sessions.deleteForUser(userId);
    }
    await tx.users.setDeactivated(userId, !active);
  });
}
