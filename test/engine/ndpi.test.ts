/**
 * Hamamatsu NDPI: the real sample and NDPI files of our own (test/fixtures/vendors/ndpi.ts) are
 * inspected, redacted with Auto redact and checked against independent oracles — OpenSlide 3.4.1
 * (vendor hamamatsu, same levels, MPP and pixels, no macro), libtiff's tiffinfo, a byte search
 * for every planted value — and the viewer's tiles (standalone JPEGs cut from restart intervals)
 * are decoded by PIL and compared with OpenSlide's read_region. Broken variants fail with their
 * codes; a sparse NDPI past 4 GiB is inspected reading < 2 MiB and its output read past 4 GiB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import type { Slide } from '../../src/engine/formats/slide-format.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { RecordingSource } from '../../src/engine/io/recording-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { copyFixture, makeTmpDir, repoRoot } from '../fixtures/node-fixtures.ts';
import { patchFile, writeNdpi } from '../fixtures/vendors/ndpi.ts';

const run = promisify(execFile);

/** Sources opened by a test, closed when it ends. */
const opened: NodeFileSource[] = [];
async function source(path: string): Promise<NodeFileSource> {
  const s = await NodeFileSource.open(path);
  opened.push(s);
  return s;
}
async function closeAll(): Promise<void> {
  for (const s of opened.splice(0)) await s.close();
}
const ORACLE = join(repoRoot, 'test/engine/oracle/openslide_compare.py');

async function redact(slide: Slide, outDir: string) {
  const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(outDir), { hasher: nodeSha256 });
  assert.ok(report.verify.ok, `verify: ${JSON.stringify(report.verify.problems)}`);
  assert.ok(report.sweep.ok, 'sweep');
  assert.deepEqual(report.removedImages.map((i) => i.role), slide.images.filter((i) => i.role === 'overview').map(() => 'overview'));
  return report;
}

async function oracle(inPath: string, outPath: string): Promise<void> {
  const { stdout } = await run('/usr/bin/python3', [ORACLE, inPath, outPath], { maxBuffer: 64 << 20 });
  const o = JSON.parse(stdout);
  assert.equal(o.input.vendor, 'hamamatsu');
  assert.equal(o.output.vendor, 'hamamatsu');
  assert.deepEqual(o.output.levels, o.input.levels);
  assert.deepEqual(o.output.mpp, o.input.mpp);
  assert.ok(o.input.associated.includes('macro'), 'the input has a macro');
  assert.deepEqual(o.output.associated, [], 'no macro in the output');
  assert.ok(o.pixelsEqual.every((x: boolean | string) => x === true), `pixels: ${JSON.stringify(o.pixelsEqual)}`);
}

/** tiffinfo reads every kept directory without an error (only for files below 4 GiB: libtiff has no NDPI mode). */
async function tiffinfoDirs(path: string): Promise<number> {
  const ti = await run('tiffinfo', [path], { maxBuffer: 64 << 20 });
  assert.doesNotMatch(String(ti.stderr), /error/i);
  return (String(ti.stdout).match(/TIFF Directory at offset/g) ?? []).length;
}

/**
 * Tiles from readTile, decoded by PIL, equal OpenSlide's read_region of the same rectangle. `picks`
 * are [imageId, col, row]; the level's downsample comes from its width.
 */
async function compareTiles(slide: Slide, path: string, dir: string, picks: [string, number, number][]): Promise<void> {
  const base = slide.width;
  const jobs: { file: string; x: number; y: number; level: number; w: number; h: number }[] = [];
  for (const [id, col, row] of picks) {
    const img = slide.images.find((i) => i.id === id)!;
    const t = await slide.readTile(id, col, row);
    assert.equal(t.codec, 'image/jpeg');
    const file = join(dir, `tile-${id}-${col}-${row}.jpg`);
    await writeFile(file, t.bytes);
    const ds = base / img.width;
    jobs.push({ file, x: col * img.tileWidth! * ds, y: row * img.tileHeight! * ds, level: img.level!, w: t.width, h: t.height });
  }
  const py = `
import json, sys, openslide
from PIL import Image
s = openslide.OpenSlide(sys.argv[1])
out = []
for j in json.loads(sys.argv[2]):
    im = Image.open(j['file']).convert('RGB')
    ref = s.read_region((int(j['x']), int(j['y'])), j['level'], (j['w'], j['h'])).convert('RGB')
    out.append(im.size == (j['w'], j['h']) and im.tobytes() == ref.tobytes())
print(json.dumps(out))`;
  const { stdout } = await run('/usr/bin/python3', ['-c', py, path, JSON.stringify(jobs)], { maxBuffer: 64 << 20 });
  assert.deepEqual(JSON.parse(stdout), jobs.map(() => true), 'decoded tiles equal OpenSlide');
}

test('ndpi: the real sample (test3-DAPI-2-387.ndpi): inspect, tiles, Auto redact, OpenSlide/tiffinfo oracles, sweep', { timeout: 120_000 }, async () => {
  const tmp = await makeTmpDir('wsi-ndpi-');
  try {
    const inPath = join(tmp.dir, 'slide.ndpi');
    await copyFixture('hamamatsu/test3-DAPI-2-387.ndpi', inPath);
    const slide = await openSlide([await source(inPath)]);
    assert.equal(slide.format, 'hamamatsu-ndpi');
    assert.deepEqual(slide.images.map((i) => [i.role, i.width, i.height]), [
      ['level', 3968, 4864], ['level', 1984, 2432], ['level', 992, 1216], ['level', 496, 608], ['overview', 1188, 406], ['overview', 594, 203],
    ]);
    assert.ok(slide.mpp && Math.abs(slide.mpp.x - 10000 / 43826) < 1e-9);
    const phi = new Set(slide.fields.filter((f) => f.class === 'phi').map((f) => f.id));
    for (const id of ['tiff:306', 'tiff:271', 'tiff:65442', 'tiff:65449', 'tiff:65434']) assert.ok(phi.has(id), id);
    await compareTiles(slide, inPath, tmp.dir, [['ifd-0', 0, 0], ['ifd-0', 0, 37], ['ifd-0', 0, 75], ['ifd-1', 0, 2], ['ifd-3', 0, 1]]);

    const outDir = join(tmp.dir, 'out');
    await redact(slide, outDir);
    const outPath = join(outDir, 'slide.ndpi');
    await oracle(inPath, outPath);
    assert.equal(await tiffinfoDirs(outPath), 4);
    const out = await readFile(outPath);
    // Serial numbers, dates, the channel name and the device identity are gone.
    for (const v of ['950291', '950410', '2017:02:07', '2011/05/23', 'C9600-12', 'NDP.scan', 'DAPI 2 (387)', 'Hamamatsu']) {
      assert.equal(out.indexOf(Buffer.from(v, 'latin1')), -1, `"${v.length}-byte value" left in the output`);
    }
    const again = await openSlide([await source(outPath)]);
    assert.equal(again.format, 'hamamatsu-ndpi');
    assert.deepEqual(again.fields.filter((f) => f.class === 'phi'), []);
    assert.deepEqual(again.images.map((i) => i.role), ['level', 'level', 'level', 'level']);
    await compareTiles(again, outPath, tmp.dir, [['ifd-0', 0, 10], ['ifd-2', 0, 3]]);
  } finally {
    await closeAll();
    await tmp.cleanup();
  }
});

test('ndpi: generated NDPI (restart markers, macro, map, planted PHI, shared values): inspect, tiles, Auto redact, oracles', { timeout: 120_000 }, async () => {
  const tmp = await makeTmpDir('wsi-ndpi-');
  try {
    const inPath = join(tmp.dir, 'gen.ndpi');
    const g = await writeNdpi(inPath);
    const slide = await openSlide([await source(inPath)]);
    assert.equal(slide.format, 'hamamatsu-ndpi');
    assert.deepEqual(slide.images.filter((i) => i.role === 'level').map((i) => [i.width, i.height]), g.levels);
    assert.deepEqual(slide.images.map((i) => i.role), ['level', 'level', 'level', 'overview', 'overview']);
    assert.equal(slide.mpp?.x, g.mpp);
    const phi = slide.fields.filter((f) => f.class === 'phi').map((f) => f.id).sort();
    assert.deepEqual(phi, ['tiff:271', 'tiff:272', 'tiff:305', 'tiff:306', 'tiff:65427', 'tiff:65428', 'tiff:65434', 'tiff:65442', 'tiff:65449']);
    const l0 = slide.images[0]!;
    assert.equal(l0.tileWidth, 64, 'tiles follow the 64-px restart intervals');
    await compareTiles(slide, inPath, tmp.dir, [['ifd-0', 0, 0], ['ifd-0', 7, 1], ['ifd-0', 3, 0], ['ifd-1', 3, 0], ['ifd-2', 0, 0]]);

    const outDir = join(tmp.dir, 'out');
    await redact(slide, outDir);
    const outPath = join(outDir, 'gen.ndpi');
    await oracle(inPath, outPath);
    assert.equal(await tiffinfoDirs(outPath), 3);
    const input = await readFile(inPath);
    const out = await readFile(outPath);
    assert.equal(out.length, input.length, 'nothing moves');
    for (const v of g.phi) {
      assert.ok(input.includes(Buffer.from(v, 'latin1')), 'planted');
      assert.equal(out.indexOf(Buffer.from(v, 'latin1')), -1, `a planted value (${v.length} bytes) is still in the output`);
    }
  } finally {
    await closeAll();
    await tmp.cleanup();
  }
});

const broken: { name: string; code: string; message: RegExp; breakIt: (path: string, g: Awaited<ReturnType<typeof writeNdpi>>) => Promise<void> }[] = [
  {
    name: 'truncated inside the first level', code: 'TRUNCATED', message: /past the end|incomplete|ends/,
    breakIt: (p, g) => truncate(p, g.ifds[0]!.stripOffset + 100),
  },
  {
    name: 'McuStarts pointing past the strip', code: 'CORRUPT', message: /McuStarts/,
    breakIt: async (p, g) => {
      const ifd = g.ifds[0]!;
      const file = await readFile(p);
      const i = ifd.tags.indexOf(65426);
      const valueAt = file.readUInt32LE(ifd.offset + 2 + 12 * i + 8);
      const count = file.readUInt32LE(ifd.offset + 2 + 12 * i + 4);
      const last = Buffer.alloc(4);
      last.writeUInt32LE(ifd.stripLength + 5000);
      await patchFile(p, valueAt + 4 * (count - 1), last);
    },
  },
  {
    name: 'a high word that sends StripOffsets past 4 GiB', code: 'TRUNCATED', message: /past the end|runs to/,
    breakIt: async (p, g) => {
      const ifd = g.ifds[1]!;
      const n = ifd.tags.length;
      await patchFile(p, ifd.offset + 2 + 12 * n + 8 + 4 * ifd.tags.indexOf(273), Uint8Array.of(1, 0, 0, 0));
    },
  },
  {
    name: 'a high word on a SHORT value', code: 'CORRUPT', message: /high word/,
    breakIt: async (p, g) => {
      const ifd = g.ifds[0]!;
      const n = ifd.tags.length;
      await patchFile(p, ifd.offset + 2 + 12 * n + 8 + 4 * ifd.tags.indexOf(259), Uint8Array.of(1, 0, 0, 0));
    },
  },
];

for (const b of broken) {
  test(`ndpi broken: ${b.name} → ${b.code}`, async () => {
    const tmp = await makeTmpDir('wsi-ndpi-');
    try {
      const path = join(tmp.dir, 'input.ndpi');
      const g = await writeNdpi(path);
      await b.breakIt(path, g);
      await assert.rejects(openSlide([await source(path)]), (e: unknown) => {
        assert.ok(e instanceof SlideError, String(e));
        assert.equal(e.code, b.code, e.message);
        assert.match(e.message, b.message);
        return true;
      });
    } finally {
      await closeAll();
    await tmp.cleanup();
    }
  });
}

// Writes a 4.8 GB output (about 40 s on an idle 2-core machine): the bound is for a loaded one.
test('ndpi: a sparse NDPI past 4 GiB: inspect reads < 2 MiB, the output opens in OpenSlide with identical pixels past 4 GiB', { timeout: 900_000 }, async () => {
  const tmp = await makeTmpDir('wsi-ndpi-large-');
  try {
    const inPath = join(tmp.dir, 'big.ndpi');
    const g = await writeNdpi(inPath, { sparse: 4.5 * 1024 ** 3 });
    assert.ok(g.ifds[0]!.stripOffset > 2 ** 32 && g.size > 2 ** 32);
    const rec = new RecordingSource(await source(inPath));
    const slide = await openSlide([rec]);
    assert.ok(rec.bytesRead < 2 * 1024 * 1024, `inspect read ${rec.bytesRead} bytes`);
    assert.equal(slide.format, 'hamamatsu-ndpi');
    assert.deepEqual(slide.images.filter((i) => i.role === 'level').map((i) => [i.width, i.height]), g.levels);
    await compareTiles(slide, inPath, tmp.dir, [['ifd-0', 2, 1], ['ifd-1', 1, 0]]);
    const outDir = join(tmp.dir, 'out');
    await redact(slide, outDir);
    const outPath = join(outDir, 'big.ndpi');
    await oracle(inPath, outPath);
    const again = await openSlide([await source(outPath)]);
    assert.equal(again.format, 'hamamatsu-ndpi');
    await compareTiles(again, outPath, tmp.dir, [['ifd-0', 5, 0]]);
  } finally {
    await closeAll();
    await tmp.cleanup();
  }
});
