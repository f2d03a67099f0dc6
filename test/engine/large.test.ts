/**
 * Multi-GB inputs, made sparse so they cost little disk: a BigTIFF over 4 GiB (IFDs and values
 * past 2^32) and a classic TIFF whose data and IFDs sit between 2 and 4 GiB (offsets that break
 * any 32-bit signed arithmetic). Both are inspected with a bounded number of bytes read and
 * redacted in Node with the default request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { RecordingSource } from '../../src/engine/io/recording-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { generateSlideFile, makeTmpDir } from '../fixtures/node-fixtures.ts';
import type { GenOptions } from '../fixtures/generate-tiff.ts';

const run = promisify(execFile);
const GiB = 1024 ** 3;

const variants: { name: string; opts: GenOptions; min: number; max: number }[] = [
  {
    name: 'BigTIFF over 4 GiB',
    opts: { kind: 'svs', compression: 'jpeg', bigTiff: true, label: true, macro: true, extraTags: true, sparseLevel0: { across: 96, down: 96, tileBytes: 524288 } },
    min: 4.5 * GiB, max: 5 * GiB,
  },
  {
    name: 'classic TIFF with offsets between 2 and 4 GiB',
    opts: { kind: 'svs', compression: 'jpeg', label: true, macro: true, extraTags: true, dataStart: 2.25 * GiB, sparseLevel0: { across: 40, down: 40, tileBytes: 655360 } },
    min: 3 * GiB, max: 4 * GiB - 1,
  },
];

for (const v of variants) {
  test(`large: ${v.name}`, { timeout: 240_000 }, async () => {
    const tmp = await makeTmpDir('wsi-large-');
    try {
      const inPath = join(tmp.dir, 'big.svs');
      const g = await generateSlideFile(inPath, v.opts);
      const { size } = await stat(inPath);
      assert.ok(size > v.min && size < v.max, `input size ${size}`);

      const file = await NodeFileSource.open(inPath);
      const rec = new RecordingSource(file);
      const slide = await openSlide([rec]);
      assert.ok(rec.bytesRead < 2 * 1024 * 1024, `inspect read ${rec.bytesRead} bytes`);
      assert.equal(slide.format, 'aperio-svs');
      assert.deepEqual(slide.images.map((i) => i.role), ['level', 'thumbnail', 'level', 'label', 'overview']);

      let last = 0;
      let calls = 0;
      const outDir = join(tmp.dir, 'out');
      const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(outDir), {
        hasher: nodeSha256,
        onProgress: (done, total) => {
          assert.ok(done >= last && done <= total);
          last = done;
          calls++;
        },
      });
      await file.close();
      assert.equal(last, size);
      assert.ok(calls > 100);
      assert.ok(report.verify.ok && report.sweep.ok && report.sweep.valuesSearched > 10);
      const outPath = join(outDir, 'big.svs');
      assert.equal((await stat(outPath)).size, size);

      // Independent checks: libtiff reads every IFD (offsets past 2/4 GiB), and the planted
      // values are absent from the metadata regions (start and the tail after level 0's data).
      const ti = await run('tiffinfo', [outPath], { maxBuffer: 64 << 20 });
      assert.equal((ti.stdout.match(/TIFF Directory at offset/g) ?? []).length, 3);
      const fh = await open(outPath, 'r');
      try {
        // Everything but level 0's (sparse) tiles lies in the last 64 MiB.
        const tailStart = size - 64 * 1024 * 1024;
        for (const [from, to] of [[0, 1 << 20], [tailStart, size]] as const) {
          const buf = Buffer.alloc(to - from);
          await fh.read(buf, 0, buf.length, from);
          for (const phi of g.phi) assert.equal(buf.indexOf(Buffer.from(phi, 'latin1')), -1, `a ${phi.length}-byte removed value is still present`);
        }
      } finally {
        await fh.close();
      }
    } finally {
      await tmp.cleanup();
    }
  });
}
