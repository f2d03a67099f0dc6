/**
 * Data-driven TIFF/SVS cases: every test/cases/{svs,tiff}-* /case.json is inspected, redacted with
 * the default request (Auto redact) and checked against independent oracles: OpenSlide through
 * /usr/bin/python3 (vendor, level sizes, MPP, associated images, identical pixels per level),
 * libtiff's tiffinfo (reads every IFD), node:crypto (SHA-256) and a byte search of the output for
 * every identifying value the case planted or lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { breakTiff, type BreakKind } from '../fixtures/break-tiff.ts';
import type { GenOptions } from '../fixtures/generate-tiff.ts';
import { copyFixture, generateSlideFile, makeTmpDir, repoRoot } from '../fixtures/node-fixtures.ts';

const run = promisify(execFile);

interface CaseFile {
  title: string;
  input: { fixture?: string; generate?: GenOptions };
  break?: BreakKind;
  expect: {
    error?: string;
    message?: string;
    format?: string;
    levels?: [number, number][];
    roles?: Record<string, number>;
    mpp?: number | null;
    phiFields?: string[];
    phiValues?: string[];
    vendor?: string | null;
  };
}

const casesDir = join(repoRoot, 'test/cases');
const names = (await readdir(casesDir)).filter((n) => /^(svs|tiff|philips)-/.test(n)).sort();

for (const name of names) {
  const c = JSON.parse(await readFile(join(casesDir, name, 'case.json'), 'utf8')) as CaseFile;
  test(`${name}: ${c.title}`, async () => {
    const tmp = await makeTmpDir();
    try {
      const ext = c.input.fixture?.match(/\.\w+$/)?.[0] ?? (c.input.generate?.kind === 'svs' ? '.svs' : '.tif');
      const inPath = join(tmp.dir, `input${ext}`);
      let planted: string[] = [];
      let levels = c.expect.levels;
      if (c.input.fixture) await copyFixture(c.input.fixture, inPath);
      else {
        const g = await generateSlideFile(inPath, c.input.generate!);
        planted = g.phi;
        levels ??= g.levels.map((l) => [l.width, l.height]);
      }
      if (c.break) await breakTiff(inPath, c.break);

      const src = await NodeFileSource.open(inPath);
      try {
        if (c.expect.error) {
          await assert.rejects(openSlide([src]), (e: unknown) => {
            assert.ok(e instanceof SlideError, `expected a SlideError, got ${String(e)}`);
            assert.equal(e.code, c.expect.error, e.message);
            if (c.expect.message) assert.match(e.message, new RegExp(c.expect.message));
            assert.match(e.message, /^input/, 'the message names the file');
            return true;
          });
          return;
        }
        const slide = await openSlide([src]);
        assert.equal(slide.format, c.expect.format);
        const lv = slide.images.filter((i) => i.role === 'level').sort((a, b) => a.level! - b.level!);
        assert.deepEqual(lv.map((l) => [l.width, l.height]), levels);
        const roles: Record<string, number> = {};
        for (const i of slide.images) roles[i.role] = (roles[i.role] ?? 0) + 1;
        assert.deepEqual(roles, c.expect.roles);
        if (c.expect.mpp === null) assert.equal(slide.mpp, undefined);
        else assert.ok(slide.mpp && Math.abs(slide.mpp.x - c.expect.mpp!) < 1e-6 && Math.abs(slide.mpp.y - c.expect.mpp!) < 1e-6, `mpp ${JSON.stringify(slide.mpp)}`);
        const phi = slide.fields.filter((f) => f.class === 'phi').map((f) => f.id).sort();
        assert.deepEqual(phi, [...(c.expect.phiFields ?? [])].sort());

        const outDir = join(tmp.dir, 'out');
        const request = defaultRequest(slide);
        const report = await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
        assert.ok(report.verify.ok && report.sweep.ok);
        assert.deepEqual(report.removedImages.map((i) => i.role).sort(), slide.images.filter((i) => i.role === 'label' || i.role === 'overview').map((i) => i.role).sort());
        const outPath = join(outDir, `input${ext}`);
        const out = await readFile(outPath);
        const input = await readFile(inPath);
        assert.equal(out.length, input.length, 'tile data keeps its offsets: same size');
        assert.equal(report.outputs[0]!.sha256, createHash('sha256').update(out).digest('hex'));

        // No removed value anywhere in the output (independent byte search).
        for (const v of [...planted, ...(c.expect.phiValues ?? [])]) {
          assert.ok(input.includes(Buffer.from(v, 'latin1')), `case sanity: "${v.length}-byte value" is in the input`);
          assert.equal(out.indexOf(Buffer.from(v, 'latin1')), -1, `a removed value (${v.length} bytes) is still in the output`);
        }

        // libtiff reads every remaining IFD.
        const kept = slide.images.length - report.removedImages.length;
        const ti = await run('tiffinfo', [outPath], { maxBuffer: 64 << 20 }).catch((e) => e);
        assert.equal(ti.code ?? 0, 0, `tiffinfo failed: ${ti.stderr}`);
        assert.doesNotMatch(String(ti.stderr), /error/i);
        assert.equal((String(ti.stdout).match(/TIFF Directory at offset/g) ?? []).length, kept);

        // libtiff's view: kept directories list the same strips/tiles at the same offsets, those
        // bytes are identical, and every remaining image decodes if it decoded before.
        const dirsIn = await tiffinfoDirs(inPath);
        const dirsOut = await tiffinfoDirs(outPath);
        const removedIdx = new Set(report.removedImages.map((i) => Number(i.id.replace('ifd-', ''))));
        assert.deepEqual(dirsOut.map((d) => d.summary), dirsIn.filter((_, i) => !removedIdx.has(i)).map((d) => d.summary));
        // Tile bytes are unchanged, except text segments inside their codestreams (COM, APPn), whose
        // payload is blanked: every byte that differs is now zero, in at most that many tiles.
        let changedTiles = 0;
        for (const d of dirsOut) {
          for (const [off, len] of d.extents) {
            const a = out.subarray(off, off + len);
            const b = input.subarray(off, off + len);
            if (a.equals(b)) continue;
            changedTiles++;
            for (let i = 0; i < len; i++) if (a[i] !== b[i]) assert.equal(a[i], 0, 'a tile byte changed to something other than a blank');
          }
        }
        assert.ok(changedTiles <= report.blankedSegments, `${changedTiles} tiles changed, ${report.blankedSegments} segments blanked`);
        if ((await run('tiffinfo', ['-D', inPath]).then(() => true, () => false))) {
          const dec = await run('tiffinfo', ['-D', outPath], { maxBuffer: 64 << 20 }).catch((e) => e);
          assert.equal(dec.code ?? 0, 0, `tiffinfo -D failed on the output: ${dec.stderr}`);
        }

        // OpenSlide sees the same slide, minus label and macro, with identical pixels.
        if (c.expect.vendor) {
          const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), inPath, outPath], { maxBuffer: 64 << 20 });
          const o = JSON.parse(stdout);
          assert.equal(o.input.vendor, c.expect.vendor);
          assert.equal(o.output.vendor, c.expect.vendor);
          assert.deepEqual(o.output.levels, o.input.levels);
          assert.deepEqual(o.output.mpp, o.input.mpp);
          assert.ok(!o.output.associated.includes('label') && !o.output.associated.includes('macro'), `associated: ${o.output.associated}`);
          assert.ok(o.pixelsEqual.every((x: boolean | string) => x === true || x === 'unstable'), `pixels: ${JSON.stringify(o.pixelsEqual)}`);
          assert.equal(o.pixelsEqual[0], true, 'level 0 compared');
        }

        // The output itself inspects clean: no identifying field left, no label/macro.
        const outSrc = await NodeFileSource.open(outPath);
        try {
          const again = await openSlide([outSrc]);
          assert.deepEqual(again.fields.filter((f) => f.class === 'phi').map((f) => f.id), []);
          assert.ok(!again.images.some((i) => i.role === 'label' || i.role === 'overview'));
        } finally {
          await outSrc.close();
        }
      } finally {
        await src.close();
      }
    } finally {
      await tmp.cleanup();
    }
  });
}

/** Directories as libtiff lists them with `tiffinfo -s`: size line + strip/tile extents. */
async function tiffinfoDirs(path: string): Promise<{ summary: string; extents: [number, number][] }[]> {
  const { stdout } = await run('tiffinfo', ['-s', path], { maxBuffer: 256 << 20 });
  return stdout.split(/=== TIFF directory \d+ ===/).filter((s) => s.includes('TIFF Directory')).map((s) => {
    const size = s.match(/Image Width: \d+ Image Length: \d+/)?.[0] ?? '';
    const extents = [...s.matchAll(/^\s+\d+: \[\s*(\d+),\s*(\d+)\]/gm)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]);
    return { summary: `${size} ${extents.map((e) => e.join(':')).join(',')}`, extents };
  });
}
