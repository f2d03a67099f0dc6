import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, removeDir, repoRoot } from './support.ts';

/** Start src/server/main.ts as `npm start` would run it, collect stdout until it is listening. */
function startMain(dataDir: string): Promise<{ out: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/server/main.ts')], {
    cwd: repoRoot,
    env: { ...process.env, WSI_PORT: '0', WSI_DATA_DIR: dataDir, WSI_LOG_LEVEL: 'off', WSI_ADMIN_PASSWORD: '', WSI_PUBLIC_DIR: join(dataDir, 'none') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${err}`)), 30000);
    child.stdout.on('data', () => {
      if (/http:\/\/127\.0\.0\.1:\d+\//.test(out) && (/Password:.*\n/.test(out) || /listening/.test(out))) {
        clearTimeout(timer);
        resolve({ out, stop: () => (child.kill('SIGTERM'), exited) });
      }
    });
    void exited.then((code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

test('first start prints URL, username and a generated password that works; a restart prints none; SIGTERM exits 0', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'wsi-main-'));
  try {
    const first = await startMain(dataDir);
    const url = /URL:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(first.out)?.[1];
    const username = /Username:\s+(\S+)/.exec(first.out)?.[1];
    const password = /Password:\s+(\S+)\s+\(generated/.exec(first.out)?.[1];
    assert.ok(url && username && password, first.out);
    assert.equal(username, 'admin');
    assert.ok(password.length >= 16);
    const c = new Client(url);
    assert.equal((await c.login(username, password)).status, 200);
    const me = (await (await c.fetch('/api/me')).json()) as any;
    assert.deepEqual(me.labs.map((l: any) => [l.name, l.role, l.features]), [['Demo Lab', 'lab-admin', ['bulk-import']]]);
    assert.equal(me.canImport, true);
    assert.equal(await first.stop(), 0);

    const second = await startMain(dataDir);
    assert.doesNotMatch(second.out, /Password/);
    assert.equal(await second.stop(), 0);
  } finally {
    await removeDir(dataDir);
  }
});
