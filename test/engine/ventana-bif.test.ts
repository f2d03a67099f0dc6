/**
 * Ventana BIF driver: generated iScan and DP 200 slides (label first, planted identifying values
 * in every place a scanner writes one) are inspected, Auto-redacted and checked against
 * independent oracles: OpenSlide 3.4.1 (vendor "ventana", same levels, MPP and pixels, no
 * label — OpenSlide calls it "macro"), libtiff's tiffinfo, a byte search for every planted value,
 * and tile bytes compared at their offsets. Broken variants must be refused with their codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { Tag } from '../../src/engine/tiff/tags.ts';
import { TiffFile } from '../../src/engine/tiff/tifflike.ts';
import { parseLevelDescription } from '../../src/engine/formats/ventana/profile.ts';
import { parseVentanaXmp } from '../../src/engine/formats/ventana/xmp.ts';
import { loadJpegTiles, makeTmpDir, repoRoot, writeLayoutFile } from '../fixtures/node-fixtures.ts';
import { generateBif, type BifBreak, type BifOptions } from '../fixtures/vendors/ventana-bif.ts';

const run = promisify(execFile);

async function withBif<T>(o: BifOptions, fn: (path: string, g: ReturnType<typeof generateBif>, dir: string) => Promise<T>): Promise<T> {
  const tmp = await makeTmpDir('wsi-bif-');
  try {
    const g = generateBif(o, await loadJpegTiles());
    const path = join(tmp.dir, 'input.bif');
    await writeLayoutFile(path, g.layout);
    return await fn(path, g, tmp.dir);
  } finally {
    await tmp.cleanup();
  }
}

async function redactFile(path: string, outDir: string) {
  const src = await NodeFileSource.open(path);
  try {
    const slide = await openSlide([src]);
    const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(outDir), { hasher: nodeSha256 });
    return { slide, report, out: join(outDir, 'input.bif') };
  } finally {
    await src.close();
  }
}

/** Tile offsets/lengths of every tiled directory (the levels), read with our parser. */
async function tileExtents(path: string): Promise<string[]> {
  const src = await NodeFileSource.open(path);
  try {
    const tiff = await TiffFile.open(src);
    const out: string[] = [];
    for (const ifd of tiff.ifds) {
      if (!tiff.isTiled(ifd)) continue;
      const offs = await tiff.readNumbers(tiff.entry(ifd, Tag.TileOffsets)!);
      const lens = await tiff.readNumbers(tiff.entry(ifd, Tag.TileByteCounts)!);
      offs.forEach((o, i) => out.push(`${o}:${lens[i]}`));
    }
    return out;
  } finally {
    await src.close();
  }
}

for (const flavour of ['iscan', 'dp200'] as const) {
  test(`BIF ${flavour}: label first, Auto redact, OpenSlide/tiffinfo/sweep oracles`, async () => {
    await withBif({ flavour }, async (inPath, g, dir) => {
      const { slide, report, out } = await redactFile(inPath, join(dir, 'out'));
      assert.equal(slide.format, 'ventana-bif');
      const roles = slide.images.map((i) => `${i.id}:${i.role}`);
      assert.deepEqual(roles, flavour === 'iscan'
        ? ['ifd-0:label', 'ifd-1:thumbnail', 'ifd-2:level', 'ifd-3:level', 'ifd-4:level']
        : ['ifd-0:label', 'ifd-1:overview', 'ifd-2:level', 'ifd-3:level', 'ifd-4:level']);
      assert.deepEqual(slide.images.filter((i) => i.role === 'level').map((l) => [l.width, l.height]), g.levels.map((l) => [l.width, l.height]));
      assert.deepEqual(slide.mpp && [slide.mpp.x, slide.mpp.y], [0.25, 0.25]);
      assert.deepEqual(slide.fields.filter((f) => f.class === 'phi').map((f) => f.id).sort(), [...g.phiFields].sort());
      const critical = slide.fields.filter((f) => f.class === 'critical').map((f) => f.id).sort();
      assert.deepEqual(critical, ['ventana:Magnification', 'ventana:ScanRes']);

      assert.ok(report.verify.ok, report.verify.problems.join('; '));
      assert.ok(report.sweep.ok);
      assert.deepEqual(report.removedImages.map((i) => i.role).sort(), flavour === 'iscan' ? ['label'] : ['label', 'overview']);

      const input = await readFile(inPath);
      const output = await readFile(out);
      assert.equal(output.length, input.length, 'nothing moves: same size');
      for (const v of g.phi) {
        assert.ok(input.includes(Buffer.from(v, 'latin1')), `fixture sanity: a planted value is in the input`);
        assert.equal(output.indexOf(Buffer.from(v, 'latin1')), -1, `a planted ${v.length}-byte value is still in the output`);
      }
      // Tile data never moves and is unchanged (the sample tiles carry no text segments).
      const tilesIn = await tileExtents(inPath);
      assert.deepEqual(await tileExtents(out), tilesIn);
      for (const t of tilesIn) {
        const [o, l] = t.split(':').map(Number) as [number, number];
        assert.ok(output.subarray(o, o + l).equals(input.subarray(o, o + l)), 'a tile changed');
      }

      // libtiff reads every directory: the lead directory (iScan XMP) + the kept images.
      const ti = await run('tiffinfo', [out], { maxBuffer: 64 << 20 }).catch((e) => e);
      assert.equal(ti.code ?? 0, 0, String(ti.stderr));
      assert.doesNotMatch(String(ti.stderr), /error/i);
      const kept = slide.images.length - report.removedImages.length;
      assert.equal((String(ti.stdout).match(/TIFF Directory at offset/g) ?? []).length, kept + 1);

      // OpenSlide: same vendor, levels, MPP and pixels; no label (OpenSlide 3.4.1 names it "macro").
      const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), inPath, out], { maxBuffer: 64 << 20 });
      const o = JSON.parse(stdout);
      assert.equal(o.input.vendor, 'ventana');
      assert.equal(o.output.vendor, 'ventana');
      assert.ok(o.input.associated.includes('macro'), 'OpenSlide shows the input label as "macro"');
      assert.deepEqual(o.output.levels, o.input.levels);
      assert.deepEqual(o.output.mpp, ['0.25', '0.25']);
      assert.deepEqual(o.output.associated, flavour === 'iscan' ? ['thumbnail'] : []);
      assert.ok(o.pixelsEqual.every((x: boolean | string) => x === true || x === 'unstable'), JSON.stringify(o.pixelsEqual));
      assert.equal(o.pixelsEqual[0], true);

      // The output inspects clean and redacts again (lead directory recognised, not an image).
      const again = await redactFile(out, join(dir, 'again'));
      assert.equal(again.slide.format, 'ventana-bif');
      assert.deepEqual(again.slide.fields.filter((f) => f.class === 'phi').map((f) => f.id), []);
      assert.ok(!again.slide.images.some((i) => i.role === 'label' || i.role === 'overview'));
      assert.ok(again.report.verify.ok, again.report.verify.problems.join('; '));
      const o2 = JSON.parse((await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), inPath, again.out], { maxBuffer: 64 << 20 })).stdout);
      assert.equal(o2.output.vendor, 'ventana');
      assert.equal(o2.pixelsEqual[0], true);
    });
  });
}

test('BIF: keeping the label keeps it first (no lead directory) and OpenSlide still reads it', async () => {
  await withBif({ flavour: 'iscan' }, async (inPath, _g, dir) => {
    const src = await NodeFileSource.open(inPath);
    try {
      const slide = await openSlide([src]);
      const request = { ...defaultRequest(slide), removeImages: [] };
      const report = await redactSlide(slide, request, new NodeDirTarget(join(dir, 'out')), { hasher: nodeSha256 });
      assert.ok(report.verify.ok, report.verify.problems.join('; '));
      const out = join(dir, 'out', 'input.bif');
      const o = JSON.parse((await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), inPath, out])).stdout);
      assert.equal(o.output.vendor, 'ventana');
      assert.deepEqual(o.output.associated, ['macro', 'thumbnail']);
      const ti = await run('tiffinfo', [out]);
      assert.equal((ti.stdout.match(/TIFF Directory at offset/g) ?? []).length, 5);
    } finally {
      await src.close();
    }
  });
});

const refusals: [string, BifOptions, string, RegExp][] = [
  ['no EncodeInfo on level 0', { flavour: 'iscan', broken: 'no-encodeinfo' }, 'UNSUPPORTED', /EncodeInfo/],
  ['Z-stack', { flavour: 'dp200', broken: 'z-stack' }, 'UNSUPPORTED', /Z-stack/],
  ['text after a level description', { flavour: 'iscan', broken: 'bad-level-description' }, 'UNSUPPORTED', /level description/],
  ['magnifications out of order', { flavour: 'iscan', broken: 'levels-out-of-order' }, 'UNSUPPORTED', /out of order/],
  ['LEFT tile joints', { flavour: 'dp200', broken: 'left-joints' }, 'UNSUPPORTED', /RIGHT and UP/],
  ['DOCTYPE in the XMP', { flavour: 'iscan', broken: 'doctype' }, 'UNSUPPORTED', /DOCTYPE|ENTITY|declaration/i],
  ['malformed XMP', { flavour: 'iscan', broken: 'malformed-xmp' }, 'CORRUPT', /XML/],
  ['an untiled level', { flavour: 'iscan', broken: 'untiled-level' }, 'UNSUPPORTED', /not tiled/],
  ['AOI tile size differs from the TIFF', { flavour: 'iscan', broken: 'tile-size-mismatch' }, 'UNSUPPORTED', /tile size/],
  ['iScan XMP not on the first directory', { flavour: 'iscan', broken: 'no-iscan-first' }, 'UNSUPPORTED', /first image/],
  ['levels before the label (no iScan first)', { flavour: 'iscan', order: 'levels-first' }, 'UNSUPPORTED', /first image/],
  ['a tiled image that is not a level', { flavour: 'dp200', broken: 'extra-tiled-image' }, 'UNSUPPORTED', /not a pyramid level/],
];

for (const [title, o, code, message] of refusals) {
  test(`BIF refused: ${title} → ${code}`, async () => {
    await withBif(o, async (inPath, g) => {
      const src = await NodeFileSource.open(inPath);
      try {
        await assert.rejects(openSlide([src]), (e: unknown) => {
          assert.ok(e instanceof SlideError, String(e));
          assert.equal(e.code, code, e.message);
          assert.match(e.message, message);
          for (const v of g.phi) assert.ok(!e.message.includes(v), 'the message names no metadata value');
          return true;
        });
      } finally {
        await src.close();
      }
    });
  });
}

test('BIF level descriptions are strict', () => {
  assert.deepEqual(parseLevelDescription('level=0 mag=40 quality=95'), { level: 0, magnification: 40 });
  assert.deepEqual(parseLevelDescription('level=4 mag=2.5 quality=95'), { level: 4, magnification: 2.5 });
  for (const bad of ['level=0 mag=40', 'level=0 mag=40 quality=95 ', 'level=0  mag=40 quality=95', 'level=0 mag=40 quality=95 Jane', 'level=x mag=40 quality=95']) {
    assert.equal(parseLevelDescription(bad), undefined, bad);
  }
});

test('BIF XMP: rebuild cuts removed parts only and stays well-formed', () => {
  const src = `<?xml version='1.0' encoding='utf-8' ?>\n<!-- hi -->\n<iScan Magnification="40" ScanRes="0.25" UserName="Jane &amp; Co" Odd="x"><AOI0 Left="1" Top="2" Right="3" Bottom="4"/>free text</iScan>`;
  const x = parseVentanaXmp(src)!;
  assert.equal(x.kind, 'iscan');
  const byId = Object.fromEntries(x.text.parts.map((p) => [p.id, p.class]));
  assert.deepEqual(byId, { 'ventana:comment': 'phi', 'ventana:Magnification': 'critical', 'ventana:ScanRes': 'critical', 'ventana:UserName': 'phi', 'ventana:Odd': 'phi', 'ventana:text': 'phi' });
  const kept = new TextDecoder('latin1').decode(x.text.rebuild((i) => x.text.parts[i]!.class !== 'phi'));
  assert.equal(kept, `<?xml version='1.0' encoding='utf-8' ?>\n\n<iScan Magnification="40" ScanRes="0.25"><AOI0 Left="1" Top="2" Right="3" Bottom="4"/></iScan>`);
  assert.equal(parseVentanaXmp(kept)!.text.parts.length, 2);
  assert.equal(parseVentanaXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'), undefined);
  assert.throws(() => parseVentanaXmp('<EncodeInfo><SlideStitchInfo><ImageInfo Width="Jane"/></SlideStitchInfo></EncodeInfo>'), /not a number/);
});
