/**
 * Leica SCN driver: generated slides (test/fixtures/vendors/leica-scn.ts) are inspected, redacted
 * with Auto redact and checked against OpenSlide 3.4.1 (vendor "leica", same levels and MPP,
 * identical pixels, no macro), tiffinfo, a byte search for every planted value, and a re-inspection
 * of the output. Broken and unsupported variants are refused with their codes, never opened as
 * generic TIFF.
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
import { verifyOutputAlone } from '../../src/engine/redact/verify-output.ts';
import type { RedactionRequest } from '../../src/engine/redact/plan-types.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { loadJpegTiles, makeTmpDir, repoRoot, writeLayoutFile } from '../fixtures/node-fixtures.ts';
import { generateScn, type ScnVariant } from '../fixtures/vendors/leica-scn.ts';

const run = promisify(execFile);

const EXPECTED_PHI = [
  'scn:barcode', 'scn:collection-name', 'scn:collection-uuid', 'scn:comment', 'scn:creation-date',
  'scn:image-name', 'scn:image-uuid', 'scn:unknown-attribute', 'scn:unknown-element', 'tiff:306',
];

async function withScn(variant: ScnVariant, fn: (path: string, dir: string, phi: string[], g: ReturnType<typeof generateScn>) => Promise<void>): Promise<void> {
  const tmp = await makeTmpDir();
  try {
    const g = generateScn({ variant }, await loadJpegTiles());
    const path = join(tmp.dir, 'input.scn');
    await writeLayoutFile(path, g.layout);
    await fn(path, tmp.dir, g.phi, g);
  } finally {
    await tmp.cleanup();
  }
}

async function openslide(inPath: string, outPath: string): Promise<{ input: { vendor: string; levels: number[][]; mpp: unknown[]; associated: string[] }; output: { vendor: string; levels: number[][]; mpp: unknown[]; associated: string[] }; pixelsEqual: (boolean | string)[] }> {
  const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), inPath, outPath], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}

async function redactAndCheck(variant: ScnVariant, request?: (s: Awaited<ReturnType<typeof openSlide>>) => RedactionRequest): Promise<void> {
  await withScn(variant, async (inPath, dir, planted, g) => {
    const src = await NodeFileSource.open(inPath);
    try {
      const slide = await openSlide([src]);
      assert.equal(slide.format, 'leica-scn');
      const lv = slide.images.filter((i) => i.role === 'level').sort((a, b) => a.level! - b.level!);
      assert.deepEqual(lv.map((l) => [l.width, l.height]), g.levels);
      const overviews = slide.images.filter((i) => i.role === 'overview').length;
      assert.equal(overviews, variant === 'no-macro' ? 0 : 2);
      assert.ok(slide.mpp && Math.abs(slide.mpp.x - g.mpp) < 1e-9 && Math.abs(slide.mpp.y - g.mpp) < 1e-9, `mpp ${JSON.stringify(slide.mpp)}`);
      const phiIds = slide.fields.filter((f) => f.class === 'phi').map((f) => f.id).sort();
      const expected = variant === 'no-macro' ? EXPECTED_PHI : EXPECTED_PHI;
      assert.deepEqual(phiIds, expected);
      for (const id of ['scn:dimension-ifd', 'scn:view-size', 'scn:objective', 'scn:illumination-source']) {
        assert.equal(slide.fields.find((f) => f.id === id)?.class, 'critical', id);
      }

      const req = request ? request(slide) : defaultRequest(slide);
      const outDir = join(dir, 'out');
      const report = await redactSlide(slide, req, new NodeDirTarget(outDir), { hasher: nodeSha256 });
      assert.ok(report.verify.ok && report.sweep.ok, JSON.stringify(report.verify));
      const outPath = join(outDir, 'input.scn');
      const out = await readFile(outPath);
      const input = await readFile(inPath);
      assert.equal(out.length, input.length);
      for (const v of planted) {
        assert.ok(input.includes(Buffer.from(v, 'latin1')), `sanity: planted value of ${v.length} bytes is in the input`);
        assert.equal(out.indexOf(Buffer.from(v, 'latin1')), -1, `a planted value (${v.length} bytes) is still in the output`);
      }

      const keptMacro = !req.removeImages.length && variant !== 'no-macro';
      const ti = await run('tiffinfo', [outPath], { maxBuffer: 64 << 20 });
      assert.doesNotMatch(ti.stderr, /error/i);
      assert.equal((ti.stdout.match(/TIFF Directory at offset/g) ?? []).length, slide.images.length - report.removedImages.length);

      const o = await openslide(inPath, outPath);
      assert.equal(o.input.vendor, 'leica');
      assert.equal(o.output.vendor, 'leica');
      assert.deepEqual(o.output.levels, o.input.levels);
      assert.deepEqual(o.output.mpp, o.input.mpp);
      assert.equal(o.output.associated.includes('macro'), keptMacro, `associated: ${o.output.associated}`);
      assert.ok(o.pixelsEqual.every((x) => x === true || x === 'unstable'), `pixels: ${JSON.stringify(o.pixelsEqual)}`);
      assert.equal(o.pixelsEqual[0], true);

      const outSrc = await NodeFileSource.open(outPath);
      try {
        const again = await openSlide([outSrc]);
        assert.equal(again.format, 'leica-scn');
        assert.deepEqual(again.fields.filter((f) => f.class === 'phi').map((f) => f.id), []);
        assert.equal(again.images.some((i) => i.role === 'overview'), keptMacro);
        assert.deepEqual(again.mpp, slide.mpp);
        assert.equal((await again.verifyAsOutput!({})).length, 0);
        // What server ingest runs on an upload: the registry re-opens it as the same format, output-alone check.
        assert.deepEqual(await verifyOutputAlone([outSrc], { format: 'leica-scn' }), []);
      } finally {
        await outSrc.close();
      }
    } finally {
      await src.close();
    }
  });
}

test('Leica SCN, macro first (as Leica writes it): Auto redact moves the XML to the new first directory, renumbered', () => redactAndCheck('ok'));
test('Leica SCN, macro after the main image', () => redactAndCheck('macro-last'));
test('Leica SCN without a macro image', () => redactAndCheck('no-macro'));
test('Leica SCN in the 2010/03/10 namespace (barcode attribute)', () => redactAndCheck('namespace-2010-03-10'));
test('Leica SCN: identifying fields removed, macro kept on request (OpenSlide still shows it)', () =>
  redactAndCheck('ok', (s) => ({ removeFields: s.fields.filter((f) => f.class === 'phi').map((f) => f.id), removeImages: [] })));

const refused: [ScnVariant, string, RegExp][] = [
  ['two-collections', 'UNSUPPORTED', /2 collections/],
  ['two-main-images', 'UNSUPPORTED', /2 main images/],
  ['fluorescence', 'UNSUPPORTED', /fluorescence/],
  ['z-planes', 'UNSUPPORTED', /focal planes/],
  ['missing-ifd', 'CORRUPT', /directory 9/],
  ['size-mismatch', 'CORRUPT', /does not match/],
  ['malformed-xml', 'CORRUPT', /Leica XML/],
  ['unknown-namespace', 'UNSUPPORTED', /namespace/],
];
for (const [variant, code, message] of refused) {
  test(`Leica SCN ${variant}: refused (${code}), never opened as generic TIFF`, () =>
    withScn(variant, async (path) => {
      const src = await NodeFileSource.open(path);
      try {
        await assert.rejects(openSlide([src]), (e: unknown) => {
          assert.ok(e instanceof SlideError, String(e));
          assert.equal(e.code, code, e.message);
          assert.match(e.message, message);
          assert.doesNotMatch(e.message, /BC-LEICA|CASE|SMITH/);
          return true;
        });
      } finally {
        await src.close();
      }
    }));
}

test('Leica SCN: removing only part of the macro image is refused (its XML element names both directories)', () =>
  withScn('ok', async (path) => {
    const src = await NodeFileSource.open(path);
    try {
      const slide = await openSlide([src]);
      await assert.rejects(slide.plan({ removeFields: [], removeImages: ['ifd-1'] }), (e: unknown) => e instanceof SlideError && e.code === 'BAD_REQUEST');
    } finally {
      await src.close();
    }
  }));
