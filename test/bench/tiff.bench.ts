/**
 * TIFF/SVS engine benchmarks on a generated 4.5 GiB sparse BigTIFF SVS (level 0 is zero tiles;
 * thumbnail, level 1, label, macro and PHI metadata are real):
 *  - bytes read to inspect it (a recording source; target < 2 MiB, independent of size),
 *  - redaction time vs a plain streaming copy of the same file in the same run (both 8 MiB
 *    chunks, both fsync at the end, ROUNDS each (stats.ts), alternating; ratio = median copy
 *    time / median redaction time, target >= 0.8). Redaction = apply + SHA-256 (threaded node:crypto) + PHI
 *    sweep + re-open and verify; with the CPU time of both (all threads) and the best ratio
 *    this machine's cores allow for that much CPU (stats.ts cpuCeilingRows),
 *  - peak RSS and heap growth while redacting (sampled every 20 ms; target < 128 MiB),
 *  - "view read" (zero-copy upload, issue 15): plan, output views, verifyViews (metadata only),
 *    then a CheckedReader over the whole output (hash + PHI sweep + deferred byte check per
 *    8 MiB chunk), nothing written; time to the first checked chunk, throughput vs redactSlide
 *    in the same rounds (ratio = median redaction time / median view time), its peak RSS growth.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { RecordingSource } from '../../src/engine/io/recording-source.ts';
import { NodeDirTarget, threadedNodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { CheckedReader } from '../../src/engine/redact/checked-reader.ts';
import { outputViews } from '../../src/engine/redact/output-view.ts';
import { verifyViews } from '../../src/engine/redact/verify-views.ts';
import type { Slide } from '../../src/engine/formats/slide-format.ts';
import { generateSlideFile, makeTmpDir } from '../fixtures/node-fixtures.ts';
import type { BenchRow } from './run.ts';
import { cpuCeilingRows, median, ROUNDS, timed } from './stats.ts';
import { memoryDuring, plainCopy, settle as settleDisk } from './support/node-measure.ts';

const MiB = 1024 * 1024;

/** Everything the zero-copy upload does before and while sending, without the network. */
async function viewRead(slide: Slide): Promise<{ firstMs: number; digest: string }> {
  const t0 = performance.now();
  const plan = await slide.plan(defaultRequest(slide));
  const views = outputViews(plan, slide.parts);
  await verifyViews(slide, plan, views);
  const reader = new CheckedReader(views[0]!, plan, { from: 0, chunkSize: 8 * MiB, hasher: threadedNodeSha256 });
  let firstMs = -1;
  for (let c = await reader.next(); c; c = await reader.next()) if (firstMs < 0) firstMs = performance.now() - t0;
  return { firstMs, digest: await reader.digestHex() };
}

export async function run(): Promise<BenchRow[]> {
  const tmp = await makeTmpDir('wsi-bench-');
  try {
    const input = join(tmp.dir, 'bench.svs');
    await generateSlideFile(input, {
      kind: 'svs', compression: 'jpeg', bigTiff: true, label: true, macro: true, extraTags: true,
      sparseLevel0: { across: 96, down: 96, tileBytes: 524288 },
    });
    const size = (await stat(input)).size;

    const file = await NodeFileSource.open(input);
    const rec = new RecordingSource(file);
    const slide = await openSlide([rec]);
    const inspectBytes = rec.bytesRead;
    const inspectReads = rec.reads;

    // Alternate copy and redaction ROUNDS times; outputs deleted and dirty pages flushed (`sync`) before
    // each run, so one run's write-back does not slow the next (it dominated single runs).
    const settle = () => settleDisk(join(tmp.dir, 'copy.svs'), join(tmp.dir, 'out'));
    const copies: number[] = [];
    const redactions: number[] = [];
    const copyCpu: number[] = [];
    const redactCpu: number[] = [];
    let peakRssGrowth = 0;
    let peakHeapGrowth = 0;
    const viewReads: number[] = [];
    const firstChunks: number[] = [];
    let viewRssGrowth = 0;
    let digests = '';
    // One uncounted warm-up copy: the first read of a fresh (sparse) input is the slowest and
    // would inflate whichever side runs first (in Chromium it ran at half speed).
    await settle();
    await plainCopy(input, join(tmp.dir, 'copy.svs'));
    for (let round = 0; round < ROUNDS; round++) {
      await settle();
      const c = await timed(() => plainCopy(input, join(tmp.dir, 'copy.svs')));
      copies.push(c.ms);
      copyCpu.push(c.cpuMs);
      await settle();
      const m = await memoryDuring(() => timed(() => redactSlide(slide, defaultRequest(slide), new NodeDirTarget(join(tmp.dir, 'out')), { hasher: threadedNodeSha256 })));
      const r = m.value;
      const report = r.value;
      redactions.push(r.ms);
      redactCpu.push(r.cpuMs);
      if (!report.verify.ok || !report.sweep.ok) throw new Error('redaction did not verify');
      peakRssGrowth = Math.max(peakRssGrowth, m.rssGrowth);
      peakHeapGrowth = Math.max(peakHeapGrowth, m.heapGrowth);
      const v = await memoryDuring(() => timed(() => viewRead(slide)));
      viewReads.push(v.value.ms);
      firstChunks.push(v.value.value.firstMs);
      viewRssGrowth = Math.max(viewRssGrowth, v.rssGrowth);
      if (v.value.value.digest !== report.outputs[0]!.sha256) throw new Error('the view read a different file than redaction wrote');
      digests = v.value.value.digest;
    }
    await file.close();
    const copyMs = median(copies);
    const redactMs = median(redactions);
    const ratio = copyMs / redactMs;
    const GB = size / 1e9;
    return [
      { bench: 'tiff', metric: 'input size', value: size / 2 ** 30, unit: 'GiB' },
      { bench: 'tiff', metric: 'inspect: bytes read', value: inspectBytes / MiB, unit: 'MiB', target: '< 2 MiB', ok: inspectBytes < 2 * MiB },
      { bench: 'tiff', metric: 'inspect: read calls', value: inspectReads, unit: 'reads' },
      { bench: 'tiff', metric: 'plain copy throughput', value: GB / (copyMs / 1000), unit: 'GB/s' },
      { bench: 'tiff', metric: 'redaction throughput', value: GB / (redactMs / 1000), unit: 'GB/s' },
      { bench: 'tiff', metric: 'redaction / copy throughput', value: ratio, unit: 'x', target: '>= 0.8', ok: ratio >= 0.8 },
      ...cpuCeilingRows('tiff', median(copyCpu), median(redactCpu), copyMs, availableParallelism()),
      { bench: 'tiff', metric: 'peak RSS growth while redacting', value: peakRssGrowth / MiB, unit: 'MiB', target: '< 128 MiB', ok: peakRssGrowth < 128 * MiB },
      { bench: 'tiff', metric: 'peak heap growth while redacting', value: peakHeapGrowth / MiB, unit: 'MiB', target: '< 128 MiB', ok: peakHeapGrowth < 128 * MiB },
      { bench: 'tiff', metric: 'view read: time to first checked chunk', value: median(firstChunks), unit: 'ms', target: '< 1000 ms', ok: median(firstChunks) < 1000 },
      { bench: 'tiff', metric: 'view read throughput (checked, nothing written)', value: GB / (median(viewReads) / 1000), unit: 'GB/s' },
      { bench: 'tiff', metric: 'view read / redaction throughput', value: redactMs / median(viewReads), unit: 'x', target: '>= 1', ok: redactMs / median(viewReads) >= 1 },
      { bench: 'tiff', metric: 'peak RSS growth while reading the view', value: viewRssGrowth / MiB, unit: 'MiB', target: '< 128 MiB', ok: viewRssGrowth < 128 * MiB && digests.length === 64 },
    ];
  } finally {
    await tmp.cleanup();
  }
}
