import { readFileSync } from 'node:fs';

/**
 * The one password policy, applied wherever a password is chosen: accounts created by a lab admin,
 * a user changing their own password, the end of a reset, and WSI_ADMIN_PASSWORD.
 *
 * Following NIST SP 800-63B §5.1.1.2 rather than composition rules (which push people to
 * `Password1!`): long enough, or a passphrase of several words, and not a known common password
 * or a trivial pattern. No upper/lower/digit/symbol requirements.
 */
export const minPasswordLength = 12;
/** A passphrase shorter than minPasswordLength is accepted when it has this many different words. */
export const minPassphraseWords = 4;
/** Longer inputs only cost scrypt time; nobody types a 1000-character password. */
export const maxPasswordLength = 1000;

export type PasswordProblemCode = 'TOO_SHORT' | 'TOO_LONG' | 'COMMON' | 'PATTERN' | 'USERNAME';

export interface PasswordProblem {
  code: PasswordProblemCode;
  /** Words for the person choosing the password; never contains the password. */
  message: string;
}

let common: Set<string> | undefined;

/**
 * The shipped list (common-passwords.txt beside this module; the build copies it next to the
 * bundled server). Read once, lazily, so processes that never check a password do not pay for it.
 */
export function commonPasswords(): Set<string> {
  if (!common) {
    const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8');
    common = new Set(text.split('\n').filter((l) => l !== '' && !l.startsWith('#')));
  }
  return common;
}

/** The product's own name and trade words: the first guesses of anyone attacking this server. */
const contextWords = ['wsi', 'wsibulkimport', 'bulkimport', 'wholeslideimage', 'wholeslide', 'slidescanner', 'pathology', 'histology', 'demolab', 'labadmin'];

const letters = /\p{L}/u;

/** Words of a passphrase: runs of letters/digits, separated by spaces or punctuation. */
function passphraseWords(p: string): string[] {
  return p
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => [...w].length >= 2 && letters.test(w));
}

/** The same character over and over, or a straight run (abcdef…, 123456…, 987654…), allowing a repeat of a short unit (abcabcabc). */
function isTrivialPattern(p: string): boolean {
  const cps = [...p.toLowerCase()].map((c) => c.codePointAt(0)!);
  if (cps.length === 0) return true;
  const step = cps[1] - cps[0];
  if (Math.abs(step) <= 1 && cps.every((c, i) => i === 0 || c - cps[i - 1] === step)) return true;
  // Digit runs wrap around (…7890123…, …3210987…).
  if (/^\d+$/.test(p)) {
    const d = cps.map((c) => c - 48);
    const up = d.every((x, i) => i === 0 || x === (d[i - 1] + 1) % 10);
    const down = d.every((x, i) => i === 0 || x === (d[i - 1] + 9) % 10);
    if (up || down) return true;
  }
  // A short unit repeated to fill the whole password (e.g. "abcabcabcabc", "qweqweqweqwe").
  for (let unit = 1; unit <= Math.floor(cps.length / 2); unit++) {
    if (cps.length % unit === 0 && cps.every((c, i) => c === cps[i % unit])) return true;
  }
  return false;
}

/**
 * Forms under which a password may be a common one in disguise: as typed, without digits and
 * symbols stuck before or after it (Password2024!), and without any separators (pass-word-123).
 */
function disguisedForms(p: string): string[] {
  const lower = p.toLowerCase();
  const trimmed = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  const lettersOnly = lower.replace(/[^\p{L}]+/gu, '');
  return [...new Set([lower, trimmed, lettersOnly].filter((f) => f.length > 0))];
}

/**
 * Why `password` is not acceptable, or null when it is. `username` (when known) is refused as the
 * password itself, also with decorations around it.
 */
export function passwordProblem(password: string, username?: string): PasswordProblem | null {
  const p = password.normalize('NFC');
  const length = [...p].length;
  if (length > maxPasswordLength) return { code: 'TOO_LONG', message: `the password must be at most ${maxPasswordLength} characters` };
  const words = new Set(passphraseWords(p));
  if (length < minPasswordLength && words.size < minPassphraseWords) {
    return { code: 'TOO_SHORT', message: `the password must be at least ${minPasswordLength} characters, or a passphrase of at least ${minPassphraseWords} different words` };
  }
  const forms = disguisedForms(p);
  const user = username?.normalize('NFC').toLowerCase();
  if (user && forms.some((f) => f === user || f === user.replace(/[^\p{L}]+/gu, ''))) {
    return { code: 'USERNAME', message: 'the password must not be the username' };
  }
  if (isTrivialPattern(p) || forms.some((f) => f.length > 0 && isTrivialPattern(f) && f.length >= 4)) {
    return { code: 'PATTERN', message: 'the password is a simple pattern (repeated or consecutive characters); choose another' };
  }
  const list = commonPasswords();
  if (forms.some((f) => list.has(f) || contextWords.includes(f))) {
    return { code: 'COMMON', message: 'this password is on the list of commonly used passwords; choose another' };
  }
  return null;
}
