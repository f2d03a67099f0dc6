// `npm test`: build, type-check, Node tests, the server tests again on PostgreSQL + S3, browser tests,
// end-to-end tests — then one closing line
// "N passed, N failed, N skipped" summed over every runner. Exit code is non-zero if anything failed,
// including a runner that crashed or was killed without reporting a count.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'test-output');
mkdirSync(out, { recursive: true });
const only = process.argv.slice(2); // e.g. `npm test -- node browser`
const want = (step) => only.length === 0 || only.includes(step);
const total = { passed: 0, failed: 0, skipped: 0 };

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

function findTests(dir, suffix = '.test.ts') {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(suffix))
    .map((f) => relative(root, join(abs, f)))
    .sort();
}

function readCounts(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Adds a runner's counts; a non-zero exit with no failure counted still counts as one failure. */
function add(name, counts, result) {
  const c = counts ?? { passed: 0, failed: 0, skipped: 0 };
  const bad = result.code !== 0 || result.signal;
  if (bad && c.failed === 0) c.failed = 1;
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped ?? 0;
  process.stdout.write(`\n[${name}] ${c.passed} passed, ${c.failed} failed, ${c.skipped ?? 0} skipped${bad ? ` (exit ${result.signal ?? result.code})` : ''}\n\n`);
}

/** `wrap`: a command the test run goes through (the server-pg phase's throwaway PostgreSQL + S3). */
async function nodeTests(name, files, wrap = []) {
  if (files.length === 0) return;
  const countsFile = join(out, `${name}-counts.json`);
  rmSync(countsFile, { force: true });
  const result = await run(process.execPath, [
    ...wrap,
    // A test file that hangs (a lock never released, a server that never answers) is cancelled
    // after 20 minutes (the bound applies per file) and counted as failed, not left to hold up the run.
    '--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=1200000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'test/support/node-count-reporter.mjs')}`, `--test-reporter-destination=${countsFile}`,
    ...files,
  ]);
  add(name, readCounts(countsFile), result);
}

const build = await run(process.execPath, ['esbuild.config.mjs']);
add('build', { passed: build.code === 0 ? 1 : 0, failed: build.code === 0 ? 0 : 1, skipped: 0 }, build);

if (want('typecheck')) {
  for (const p of ['tsconfig.node.json', 'tsconfig.dom.json', 'tsconfig.worker.json']) {
    const r = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', p, '--noEmit']);
    add(`typecheck ${p}`, { passed: r.code === 0 ? 1 : 0, failed: r.code === 0 ? 0 : 1, skipped: 0 }, r);
  }
}
if (want('node')) await nodeTests('node', [...findTests('test/engine'), ...findTests('test/server'), ...findTests('test/cli'), ...findTests('test/shared')]);
// The server suite again on PostgreSQL + S3 (issue 16): a throwaway cluster for the phase
// (test/support/postgres.ts), a fresh database per started app (WSI_TEST_DATABASE_URL), chained
// with a throwaway Ceph RADOS Gateway (test/support/s3-server.ts), a key prefix per started app
// (WSI_TEST_STORAGE_URL). Without the Ceph binaries the S3 wrapper says so and the phase runs on
// PostgreSQL + the data folder. `npm test -- server-pg` selects it.
if (want('server-pg')) {
  await nodeTests('server-pg-s3', findTests('test/server'), [
    '--import', 'tsx', join(root, 'test/support/postgres.ts'),
    process.execPath, '--import', 'tsx', join(root, 'test/support/s3-server.ts'),
    process.execPath,
  ]);
}
if (want('browser') && findTests('test/browser').length > 0) {
  const countsFile = join(out, 'browser-counts.json');
  rmSync(countsFile, { force: true });
  const r = await run(process.execPath, [join(root, 'node_modules/@web/test-runner/dist/bin.js'), '--config', 'test/browser/web-test-runner.config.mjs'], { WSI_WTR_COUNTS: countsFile });
  add('browser', readCounts(countsFile), r);
}
if (want('e2e')) await nodeTests('e2e', findTests('test/e2e'));

// The closing line, last on stdout, for CI.
process.stdout.write(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(total.failed > 0 ? 1 : 0);
