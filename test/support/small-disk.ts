/**
 * A small, fillable file system for the full-disk tests (issue 11): a tmpfs mounted over a test
 * directory (the tests run as root), and a filler that leaves no byte free.
 */
import { execFileSync } from 'node:child_process';
import { open } from 'node:fs/promises';

/** Mount a tmpfs of `size` (e.g. '20m') on `dir`; returns why not (a skip reason) when mounting is not allowed. */
export function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()}); ENOSPC needs a small file system`;
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' });
}

/** Fill the file system with one file until ENOSPC, so that nothing more can be written. */
export async function fillDisk(path: string): Promise<void> {
  const f = await open(path, 'w');
  const block = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) await f.write(block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  // The tail in smaller steps: nothing but slack is left.
  try {
    for (;;) await f.write(block.subarray(0, 4096));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    await f.close();
  }
}
