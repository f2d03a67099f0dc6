import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget } from '../../src/engine/io/node/dir-target.ts';
import { BufferSource } from '../../src/engine/io/buffer-source.ts';
import { openSlide } from '../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { verifyOutputAlone } from '../../src/engine/redact/verify-output.ts';
import type { Slide } from '../../src/engine/formats/slide-format.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { makeTmpDir, repoRoot, sharedFixtures } from '../fixtures/node-fixtures.ts';
import { MIRAX_NAME, MIRAX_PLANTED, miraxFixture, writeMiraxFixture, type MiraxFixture } from '../fixtures/vendors/mirax.ts';

const run = promisify(execFile);

/** Every file of a MIRAX slide: the .mrxs and its folder's files. */
async function slideFiles(mrxs: string): Promise<string[]> {
  const dir = mrxs.replace(/\.mrxs$/i, '');
  return [mrxs, ...(await readdir(dir)).sort().map((f) => join(dir, f))];
}

async function withSlide<T>(mrxs: string, use: (s: Slide) => Promise<T>): Promise<T> {
  const sources = await Promise.all((await slideFiles(mrxs)).map((f) => NodeFileSource.open(f)));
  try {
    return await use(await openSlide(sources));
  } finally {
    for (const s of sources) await s.close();
  }
}

async function oracle(input: string, output: string): Promise<{ input: any; output: any; pixelsEqual: (boolean | string)[] }> {
  const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), input, output], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}

async function sweepFiles(paths: string[], values: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const p of paths) {
    const b = Buffer.from(await readFile(p));
    for (const v of values) if (b.includes(Buffer.from(v, 'latin1'))) hits.push(`${v} in ${p}`);
  }
  return hits;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof SlideError && e.code === code);
}

test('MIRAX fixture: open gives OpenSlide level sizes, MPP, roles and allowlisted fields', async () => {
  const { dir, cleanup } = await makeTmpDir('mirax-');
  try {
    const fx = await miraxFixture();
    const mrxs = await writeMiraxFixture(dir, fx);
    await withSlide(mrxs, async (slide) => {
      assert.equal(slide.format, 'mirax');
      assert.equal(slide.name, `${MIRAX_NAME}.mrxs`);
      assert.deepEqual(slide.images.filter((i) => i.role === 'level').map((i) => [i.width, i.height]), fx.levels);
      assert.deepEqual(slide.images.filter((i) => i.role !== 'level').map((i) => `${i.id}:${i.role}:${i.width}x${i.height}`).sort(), ['label:label:240x240', 'macro:overview:240x240', 'thumbnail:overview:240x240']);
      assert.deepEqual(slide.mpp && [slide.mpp.x, slide.mpp.y], [0.25, 0.25]);
      const cls = (k: string) => slide.fields.find((f) => f.id === k)?.class;
      assert.equal(cls('mirax:GENERAL/SLIDE_NAME'), 'phi');
      assert.equal(cls('mirax:GENERAL/SLIDE_ID'), 'phi');
      assert.equal(cls('mirax:GENERAL/SLIDE_CREATIONDATETIME'), 'phi');
      assert.equal(cls('mirax:GENERAL/OBJECTIVE_NAME'), 'phi');
      assert.equal(cls('mirax:NONHIERLAYER_0_LEVEL_3_SECTION/BARCODE_VALUE'), 'phi');
      assert.equal(cls('mirax:GENERAL/IMAGENUMBER_X'), 'critical');
      assert.equal(cls('mirax:LAYER_0_LEVEL_0_SECTION/MICROMETER_PER_PIXEL_X'), 'critical');
      assert.equal(cls('mirax:LAYER_0_LEVEL_0_SECTION/IMAGE_COMPRESSION_FACTOR'), 'neutral');
      assert.equal(cls('mirax:LAYER_0_LEVEL_0_SECTION/SCAN_OPERATOR_NOTE'), 'phi');
      assert.equal(slide.incomplete, undefined);
      // The viewer's grid: level 0 cell (1, 2) is the image at camera grid (1, 2), byte for byte.
      const tile = await slide.readTile('level-0', 1, 2);
      assert.equal(tile.codec, 'image/jpeg');
      const data0 = await readFile(join(dir, MIRAX_NAME, 'Data0000.dat'));
      assert.ok(Buffer.from(data0).includes(Buffer.from(tile.bytes)));
      assert.equal((await slide.readTile('level-2', 0, 0)).codec, 'image/jpeg');
      assert.equal((await slide.readTile('label', 0, 0)).codec, 'image/jpeg');
      await expectCode(slide.readTile('level-0', 4, 0), 'BAD_REQUEST');
    });
  } finally {
    await cleanup();
  }
});

test('MIRAX fixture: Auto redact → OpenSlide reads the same slide without associated images, sweep clean, output verifies alone', async () => {
  const { dir, cleanup } = await makeTmpDir('mirax-');
  try {
    const mrxs = await writeMiraxFixture(join(dir, 'in'), await miraxFixture());
    const outDir = join(dir, 'out');
    const report = await withSlide(mrxs, (slide) => redactSlide(slide, { ...defaultRequest(slide), options: { outputName: 'deid' } }, new NodeDirTarget(outDir)));
    assert.ok(report.verify.ok, report.verify.problems.join('; '));
    assert.ok(report.sweep.ok);
    assert.deepEqual(report.outputs.map((o) => o.name).sort(), ['deid.mrxs', 'deid/Data0000.dat', 'deid/Data0001.dat', 'deid/Data0002.dat', 'deid/Index.dat', 'deid/Slidedat.ini']);
    assert.deepEqual(report.removedImages.map((i) => i.id).sort(), ['label', 'macro', 'thumbnail']);
    assert.ok(report.blankedSegments > 0, 'the JPEG COM segments in the tiles are blanked');

    const out = join(outDir, 'deid.mrxs');
    const o = await oracle(mrxs, out);
    assert.equal(o.output.vendor, 'mirax');
    assert.deepEqual(o.output.levels, o.input.levels);
    assert.deepEqual(o.output.mpp, o.input.mpp);
    assert.deepEqual(o.input.associated, ['label', 'macro', 'thumbnail']);
    assert.deepEqual(o.output.associated, []);
    assert.deepEqual(o.pixelsEqual, [true, true, true]);

    const outFiles = await slideFiles(out);
    assert.deepEqual(await sweepFiles(outFiles, MIRAX_PLANTED), []);
    assert.equal((await readFile(out)).length, 0, 'the .mrxs is empty');

    const sources = await Promise.all(outFiles.map((f) => NodeFileSource.open(f)));
    try {
      assert.deepEqual(await verifyOutputAlone(sources, { format: 'mirax' }), []);
    } finally {
      for (const s of sources) await s.close();
    }

    // Tampering is caught from the output alone: a byte between images, a comment in the ini.
    const data2 = join(outDir, 'deid', 'Data0002.dat');
    const b = await readFile(data2);
    b[300] = 0x41;
    await writeFile(data2, b);
    const ini = join(outDir, 'deid', 'Slidedat.ini');
    await writeFile(ini, Buffer.concat([await readFile(ini), Buffer.from('# note\r\n')]));
    const again = await Promise.all(outFiles.map((f) => NodeFileSource.open(f)));
    try {
      const problems = await verifyOutputAlone(again, { format: 'mirax' });
      assert.ok(problems.some((p) => /Data0002\.dat outside its images/.test(p)), problems.join('; '));
      assert.ok(problems.some((p) => /Slidedat\.ini holds text outside its keys/.test(p)), problems.join('; '));
    } finally {
      for (const s of again) await s.close();
    }
  } finally {
    await cleanup();
  }
});

test('MIRAX: keeping an identifying field keeps it; critical fields and kept labels are refused', async () => {
  const fx = await miraxFixture();
  const parts = [...fx.files].map(([name, bytes]) => new BufferSource(bytes, name));
  const slide = await openSlide(parts);
  const req = defaultRequest(slide);
  await expectCode(slide.plan({ ...req, removeFields: [...req.removeFields, 'mirax:GENERAL/IMAGENUMBER_X'] }), 'BAD_REQUEST');
  await expectCode(slide.plan({ ...req, removeImages: [] }), 'BAD_REQUEST');
  const plan = await slide.plan({ ...req, removeFields: req.removeFields.filter((id) => id !== 'mirax:GENERAL/OBJECTIVE_NAME' && id !== 'mirax:GENERAL/SLIDE_ID') });
  const ini = plan.outputs.find((o) => o.name.endsWith('Slidedat.ini'))!;
  const text = new TextDecoder().decode((ini.segments[0] as { bytes: Uint8Array }).bytes);
  assert.match(text, /OBJECTIVE_NAME = Plan-Apochromat/);
  assert.match(text, /SLIDE_ID = 1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D/);
  assert.doesNotMatch(text, /PLANTED/);
});

/** Broken variants of the fixture: (what, change, expected code at open). */
const broken: [string, (f: MiraxFixture) => void, string][] = [
  ['missing Index.dat', (f) => f.files.delete(`${MIRAX_NAME}/Index.dat`), 'TRUNCATED'],
  ['missing Slidedat.ini', (f) => f.files.delete(`${MIRAX_NAME}/Slidedat.ini`), 'TRUNCATED'],
  ['.mrxs alone', (f) => { for (const k of [...f.files.keys()]) if (!k.endsWith('.mrxs')) f.files.delete(k); }, 'TRUNCATED'],
  ['bad hier record pointer', (f) => patchI32(f, 'Index.dat', hierTableOffset(f), 0x7ffffff0), 'CORRUPT'],
  ['bad hier root pointer', (f) => patchI32(f, 'Index.dat', 37, -5), 'CORRUPT'],
  ['data page loop', (f) => { const t = hierTableOffset(f); const head = i32At(f, 'Index.dat', t); const page = i32At(f, 'Index.dat', head + 4); patchI32(f, 'Index.dat', page + 4, page); }, 'CORRUPT'],
  ['index of another slide', (f) => { const b = f.files.get(`${MIRAX_NAME}/Index.dat`)!; b[5] = 0x5a; }, 'CORRUPT'],
  ['truncated Data file', (f) => { const k = `${MIRAX_NAME}/Data0001.dat`; f.files.set(k, f.files.get(k)!.subarray(0, 2000)); }, 'TRUNCATED'],
  ['PNG levels', () => {}, 'UNSUPPORTED'],
];

function i32At(f: MiraxFixture, name: string, at: number): number {
  const b = f.files.get(`${MIRAX_NAME}/${name}`)!;
  return new DataView(b.buffer, b.byteOffset).getInt32(at, true);
}
function patchI32(f: MiraxFixture, name: string, at: number, v: number): void {
  const b = f.files.get(`${MIRAX_NAME}/${name}`)!;
  new DataView(b.buffer, b.byteOffset).setInt32(at, v, true);
}
function hierTableOffset(f: MiraxFixture): number {
  return i32At(f, 'Index.dat', 37);
}

for (const [what, change, code] of broken) {
  test(`MIRAX broken: ${what} → ${code}`, async () => {
    const fx = await miraxFixture(what === 'PNG levels' ? { levelFormat: 'PNG' } : {});
    change(fx);
    const parts = [...fx.files].map(([name, bytes]) => new BufferSource(bytes, name));
    await expectCode(openSlide(parts), code);
  });
}

test('MIRAX fixture with a Data file missing: open says which, plan refuses unless agreed, then OpenSlide reads what is there', async () => {
  const { dir, cleanup } = await makeTmpDir('mirax-');
  try {
    const mrxs = await writeMiraxFixture(join(dir, 'in'), await miraxFixture());
    // OpenSlide hashes the lowest level's images when it opens a slide: drop the level-0 file.
    await rm(join(dir, 'in', MIRAX_NAME, 'Data0000.dat'));
    const outDir = join(dir, 'out');
    await withSlide(mrxs, async (slide) => {
      assert.deepEqual(slide.incomplete?.missingFiles, ['Data0000.dat']);
      assert.deepEqual(slide.incomplete?.missingLevels, [0]);
      await expectCode(slide.plan(defaultRequest(slide)), 'TRUNCATED');
      const report = await redactSlide(slide, { ...defaultRequest(slide), options: { allowIncomplete: true } }, new NodeDirTarget(outDir));
      assert.ok(report.verify.ok && report.sweep.ok);
    });
    // The shared oracle reads every level; level 0 cannot be read here, so compare levels 1–2 only.
    const py = [
      'import sys, json, openslide',
      'a, b = openslide.OpenSlide(sys.argv[1]), openslide.OpenSlide(sys.argv[2])',
      'same = [a.read_region((0, 0), l, a.level_dimensions[l]).tobytes() == b.read_region((0, 0), l, b.level_dimensions[l]).tobytes() for l in (1, 2)]',
      'print(json.dumps({"levels": [a.level_dimensions == b.level_dimensions], "vendor": b.properties["openslide.vendor"], "associated": sorted(b.associated_images.keys()), "same": same}))',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', py, mrxs, join(outDir, `${MIRAX_NAME}.mrxs`)]);
    assert.deepEqual(JSON.parse(stdout), { levels: [true], vendor: 'mirax', associated: [], same: [true, true] });
  } finally {
    await cleanup();
  }
});

test('real MIRAX slide (levels 0–1 missing): clear refusal; with agreement OpenSlide reads the output as mirax, same levels/MPP/pixels, no associated images', async () => {
  const { dir, cleanup } = await makeTmpDir('mirax-');
  try {
    const mrxs = join(sharedFixtures, 'mirax/Mirax2-Fluorescence-2.mrxs');
    const outDir = join(dir, 'out');
    const planted = ['3D_FL_test01', '30754928D9DA42A5AB7674B579A7A3E9', 'ProjectName', '10/03/2011 11:47:25'];
    await withSlide(mrxs, async (slide) => {
      assert.deepEqual(slide.incomplete?.missingFiles, ['Data0005.dat', 'Data0006.dat']);
      assert.deepEqual(slide.incomplete?.missingLevels, [0, 1]);
      await assert.rejects(slide.plan(defaultRequest(slide)), (e: unknown) => e instanceof SlideError && e.code === 'TRUNCATED' && /Data0005\.dat, Data0006\.dat/.test(e.message) && /levels 0, 1/.test(e.message));
      const report = await redactSlide(slide, { ...defaultRequest(slide), options: { allowIncomplete: true } }, new NodeDirTarget(outDir));
      assert.ok(report.verify.ok && report.sweep.ok, report.verify.problems.join('; '));
    });
    const out = join(outDir, 'Mirax2-Fluorescence-2.mrxs');
    const o = await oracle(mrxs, out);
    assert.equal(o.output.vendor, 'mirax');
    assert.deepEqual(o.output.levels, o.input.levels);
    assert.deepEqual(o.output.mpp, o.input.mpp);
    assert.deepEqual(o.input.associated, ['label', 'macro', 'thumbnail']);
    assert.deepEqual(o.output.associated, []);
    for (let level = 2; level < o.pixelsEqual.length; level++) assert.equal(o.pixelsEqual[level], true, `level ${level}`);
    assert.deepEqual(await sweepFiles(await slideFiles(out), planted), []);
  } finally {
    await cleanup();
  }
});

test('MIRAX: the replacement SLIDE_ID comes from the batch key (same key, same bytes; another key, another id), random without one', async () => {
  const fx = await miraxFixture();
  const slide = await openSlide([...fx.files].map(([name, bytes]) => new BufferSource(bytes, name)));
  const req = defaultRequest(slide);
  const iniOf = async (uidKey?: string) => {
    const plan = await slide.plan({ ...req, ...(uidKey ? { options: { uidKey } } : {}) });
    const ini = plan.outputs.find((o) => o.name.endsWith('Slidedat.ini'))!;
    return new TextDecoder().decode((ini.segments[0] as { bytes: Uint8Array }).bytes);
  };
  const idOf = (ini: string) => /SLIDE_ID\s*=\s*(\S+)/.exec(ini)![1]!;
  const keyA = 'a1'.repeat(32);
  const a1 = await iniOf(keyA);
  assert.equal(await iniOf(keyA), a1, 'planned twice with one key: identical');
  assert.match(idOf(a1), /^DEIDENTIFIED[0-9A-F]+$/);
  assert.notEqual(idOf(await iniOf('b2'.repeat(32))), idOf(a1));
  assert.notEqual(idOf(await iniOf()), idOf(await iniOf()), 'no key: random');
});
