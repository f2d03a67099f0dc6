import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { createRepos, type Repos } from './db/repos/index.ts';
import { roles, type Lab, type Role } from './db/repos/labs.ts';
import { passwordHashing } from './auth/password.ts';
import { createAccount, createLab, resetToOneTimePassword, setAccountActive, type OneTimePassword } from './admin-actions.ts';
import { Storage } from './storage.ts';
import { toSlideError } from '../shared/errors.ts';

/**
 * `npm run admin -- <command>`: the operator's way in when nobody can sign in (the last admin
 * forgot their password, a new server needs its first lab). It opens the same database as the
 * server (same environment: WSI_DATA_DIR), so it works while the server runs; one-time passwords
 * are printed once and never stored in clear.
 */
export const usage = `Usage: npm run admin -- <command> [options]

Commands:
  list-users [--lab LAB]                       Every account (or a lab's), with labs, roles and status.
  create-lab NAME [--admin USERNAME] [--bulk-import]
                                               A lab; with --admin, its first lab admin (one-time password).
  create-user --lab LAB --username USERNAME [--role lab-admin|lab-user|viewer] [--name "Display name"] [--platform-admin]
                                               A new account in the lab, with a one-time password.
  reset-password USERNAME                      A one-time password instead of the current one; signs the user out.
  deactivate USERNAME | reactivate USERNAME    Stop or restore an account's sign-in.

LAB is a lab's name (or its number). The database is the server's: WSI_DATA_DIR (default ./data).
A one-time password works for one sign-in within 72 hours; the user then chooses their own.`;

/** Where the command writes (tests collect it). */
export interface Output {
  log(line: string): void;
  error(line: string): void;
}

class UsageError extends Error {}

async function findLab(repos: Repos, key: string): Promise<Lab> {
  const lab = (await repos.labs.byName(key)) ?? (/^\d+$/.test(key) ? await repos.labs.byId(Number(key)) : undefined);
  if (!lab) throw new UsageError(`No lab is called "${key}". List them with: npm run admin -- list-users`);
  return lab;
}

async function findUser(repos: Repos, username: string | undefined) {
  if (!username) throw new UsageError('Give the username.');
  const user = await repos.users.credentialsByUsername(username);
  if (!user) throw new UsageError(`No account has the username "${username}".`);
  return user;
}

function printOneTime(out: Output, username: string, otp: OneTimePassword): void {
  out.log(`  Username:           ${username}`);
  out.log(`  One-time password:  ${otp.temporaryPassword}   (shown only now)`);
  out.log(`  Valid until:        ${otp.expiresAt} for one sign-in; the user then chooses their own password.`);
}

async function listUsers(repos: Repos, out: Output, labKey: string | undefined): Promise<void> {
  const lab = labKey ? await findLab(repos, labKey) : undefined;
  const users = (await repos.users.listWithLabs()).filter((u) => !lab || u.labs.some((l) => l.name === lab.name));
  if (users.length === 0) {
    out.log(lab ? `No accounts in ${lab.name}.` : 'No accounts yet.');
    return;
  }
  out.log(`${users.length} account${users.length === 1 ? '' : 's'}${lab ? ` in ${lab.name}` : ''}:`);
  for (const u of users) {
    const status = u.deactivatedAt ? 'deactivated' : u.mustChangePassword ? 'active, must choose a password' : 'active';
    const labs = u.labs.map((l) => `${l.name} (${l.role})`).join(', ') || 'no lab';
    out.log(`  ${u.username}  "${u.displayName}"  ${status}${u.platformAdmin ? ', platform admin' : ''}  ·  ${labs}`);
  }
}

async function run(repos: Repos, argv: string[], out: Output): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      lab: { type: 'string' },
      username: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      admin: { type: 'string' },
      'platform-admin': { type: 'boolean' },
      'bulk-import': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    out.log(usage);
    return;
  }
  switch (command) {
    case 'list-users':
      return listUsers(repos, out, values.lab);
    case 'create-lab': {
      const name = rest.join(' ').trim();
      if (!name) throw new UsageError('Give the lab\'s name: npm run admin -- create-lab "Pathology Lab"');
      const made = await createLab(repos, {
        name,
        features: values['bulk-import'] ? ['bulk-import'] : [],
        ...(values.admin ? { admin: { username: values.admin, displayName: values.name ?? values.admin } } : {}),
      });
      out.log(`Created lab "${made.lab.name}" (number ${made.lab.id})${values['bulk-import'] ? ' with Bulk Import on' : ''}.`);
      if (made.admin) {
        out.log('Its first lab admin:');
        printOneTime(out, made.admin.username, made.admin);
      }
      return;
    }
    case 'create-user': {
      if (!values.lab || !values.username) throw new UsageError('create-user needs --lab and --username.');
      const role = (values.role ?? 'lab-user') as Role;
      if (!roles.includes(role)) throw new UsageError(`--role must be one of ${roles.join(', ')}.`);
      const lab = await findLab(repos, values.lab);
      const made = await createAccount(repos, {
        labId: lab.id,
        username: values.username,
        displayName: values.name ?? values.username,
        role,
        platformAdmin: values['platform-admin'] ?? false,
      });
      out.log(`Created account ${values.username} in ${lab.name} as ${role}${values['platform-admin'] ? ', platform admin' : ''}.`);
      printOneTime(out, values.username, made.oneTime!);
      return;
    }
    case 'reset-password': {
      const user = await findUser(repos, rest[0] ?? values.username);
      const otp = await resetToOneTimePassword(repos, user.id);
      out.log(`Password of ${user.username} reset; every session of theirs has ended.`);
      printOneTime(out, user.username, otp);
      if (user.deactivatedAt) out.log(`Note: the account is deactivated. To let them sign in: npm run admin -- reactivate ${user.username}`);
      return;
    }
    case 'deactivate':
    case 'reactivate': {
      const user = await findUser(repos, rest[0] ?? values.username);
      await setAccountActive(repos, user.id, command === 'reactivate');
      out.log(command === 'reactivate' ? `${user.username} can sign in again.` : `${user.username} is deactivated and signed out everywhere.`);
      return;
    }
    default:
      throw new UsageError(`Unknown command "${command}".\n\n${usage}`);
  }
}

/** Run one command against the server's database; returns the process exit code. */
export async function runAdminCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Output = console): Promise<number> {
  let repos: Repos | undefined;
  try {
    const config = loadConfig(env);
    const dbFile = new Storage(config.dataDir).dbFile;
    // A mistyped WSI_DATA_DIR must not quietly start an empty database beside the real one;
    // only setting up a new server (its first lab) may create it.
    // (SQLite only: a PostgreSQL database is named by WSI_DATABASE_URL and exists or fails to connect.)
    if (config.databaseUrl === undefined && !existsSync(dbFile) && argv[0] !== 'create-lab') throw new UsageError(`No database at ${dbFile}. Set WSI_DATA_DIR to the server's data directory.`);
    repos = createRepos(await openDatabase({ ...(config.databaseUrl !== undefined ? { url: config.databaseUrl } : {}), sqliteFile: dbFile }));
    await run(repos, argv, out);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) out.error(e instanceof Error ? e.message : String(e));
    else out.error(`Failed: ${toSlideError(e).message}`);
    return 1;
  } finally {
    await repos?.db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runAdminCommand(process.argv.slice(2));
  await passwordHashing.close();
  process.exitCode = code;
}
