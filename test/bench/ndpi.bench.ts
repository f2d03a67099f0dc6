/**
 * Hamamatsu NDPI benchmarks (issue 12: "redaction throughput and memory as for SVS", "inspecting
 * a > 4 GiB NDPI reads < 2 MiB"), measured as tiff.bench.ts measures the SVS:
 *  - a ~2.8 GiB NDPI whose level 0 is one real JPEG strip with restart markers (ndpi-large.ts):
 *    bytes read to inspect it; redaction (apply + SHA-256 + PHI sweep + re-open and verify, the
 *    macro removed) vs a plain streaming copy of the same file in the same run, ROUNDS each,
 *    alternating (ratio = median copy time / median redaction time, target >= 0.8); CPU of both;
 *    peak RSS and heap growth while redacting (target < 128 MiB),
 *  - bytes read to inspect the fixture generator's sparse NDPI past 4 GiB (its levels, values and
 *    directories lie behind a 4.5 GiB hole, reached through NDPI's high words).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { open, readdir, rm, stat } from 'node:fs/promises';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { RecordingSource } from '../../src/engine/io/recording-source.ts';
import { NodeDirTarget, threadedNodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { makeTmpDir } from '../fixtures/node-fixtures.ts';
import { writeNdpi } from '../fixtures/vendors/ndpi.ts';
import { LARGE_NDPI_PHI, writeLargeNdpi } from './ndpi-large.ts';
import type { BenchRow } from './run.ts';
import { cpuCeilingRows, median, ROUNDS, timed } from './stats.ts';
import { memoryDuring, plainCopy, settle as settleDisk } from './support/node-measure.ts';

const MiB = 1024 * 1024;

export async function run(): Promise<BenchRow[]> {
  const tmp = await makeTmpDir('wsi-bench-');
  try {
    const input = join(tmp.dir, 'bench.ndpi');
    const made = await writeLargeNdpi(input, 2.8 * 2 ** 30);
    const size = (await stat(input)).size;

    // A sparse NDPI past 4 GiB: inspect only (its hole would measure zero-filling, not copying).
    const sparsePath = join(tmp.dir, 'sparse.ndpi');
    await writeNdpi(sparsePath, { sparse: 4.5 * 2 ** 30 });
    const sparseFile = await NodeFileSource.open(sparsePath);
    const sparseRec = new RecordingSource(sparseFile);
    const sparseSlide = await openSlide([sparseRec]);
    if (sparseSlide.format !== 'hamamatsu-ndpi') throw new Error(`sparse NDPI opened as ${sparseSlide.format}`);
    const sparseBytes = sparseRec.bytesRead;
    const sparseSize = sparseFile.size;
    await sparseFile.close();
    await rm(sparsePath, { force: true });

    const file = await NodeFileSource.open(input);
    const rec = new RecordingSource(file);
    const slide = await openSlide([rec]);
    const inspectBytes = rec.bytesRead;
    const inspectReads = rec.reads;
    if (slide.format !== 'hamamatsu-ndpi') throw new Error(`bench NDPI opened as ${slide.format}`);
    let removed = 0;

    // Alternate copy and redaction ROUNDS times; outputs deleted and dirty pages flushed (`sync`) before
    // each run, so one run's write-back does not slow the next (it dominated single runs).
    const settle = () => settleDisk(join(tmp.dir, 'copy.ndpi'), join(tmp.dir, 'out'));
    const copies: number[] = [];
    const redactions: number[] = [];
    const copyCpu: number[] = [];
    const redactCpu: number[] = [];
    let peakRssGrowth = 0;
    let peakHeapGrowth = 0;
    // One uncounted warm-up copy: the first read of a fresh (sparse) input is the slowest and
    // would inflate whichever side runs first (in Chromium it ran at half speed).
    await settle();
    await plainCopy(input, join(tmp.dir, 'copy.ndpi'));
    for (let round = 0; round < ROUNDS; round++) {
      await settle();
      const c = await timed(() => plainCopy(input, join(tmp.dir, 'copy.ndpi')));
      copies.push(c.ms);
      copyCpu.push(c.cpuMs);
      await settle();
      const m = await memoryDuring(() => timed(() => redactSlide(slide, defaultRequest(slide), new NodeDirTarget(join(tmp.dir, 'out')), { hasher: threadedNodeSha256 })));
      const r = m.value;
      const report = r.value;
      redactions.push(r.ms);
      redactCpu.push(r.cpuMs);
      if (!report.verify.ok || !report.sweep.ok) throw new Error('redaction did not verify');
      removed = report.removedImages.length;
      const out = await readFileTail(join(tmp.dir, 'out'), size);
      if (LARGE_NDPI_PHI.some((v) => out.includes(Buffer.from(v, 'latin1')))) throw new Error('a planted value is in the output');
      peakRssGrowth = Math.max(peakRssGrowth, m.rssGrowth);
      peakHeapGrowth = Math.max(peakHeapGrowth, m.heapGrowth);
    }
    await file.close();
    const copyMs = median(copies);
    const redactMs = median(redactions);
    const ratio = copyMs / redactMs;
    const GB = size / 1e9;
    return [
      { bench: 'ndpi', metric: `input size (level 0 ${made.width}×${made.height}, one JPEG strip)`, value: size / 2 ** 30, unit: 'GiB' },
      { bench: 'ndpi', metric: 'images removed (macro)', value: removed, unit: '', target: '1', ok: removed === 1 },
      { bench: 'ndpi', metric: 'inspect: bytes read', value: inspectBytes / MiB, unit: 'MiB', target: '< 2 MiB', ok: inspectBytes < 2 * MiB },
      { bench: 'ndpi', metric: 'inspect: read calls', value: inspectReads, unit: 'reads' },
      { bench: 'ndpi', metric: `sparse NDPI (${(sparseSize / 2 ** 30).toFixed(1)} GiB, data past 4 GiB) inspect: bytes read`, value: sparseBytes / MiB, unit: 'MiB', target: '< 2 MiB', ok: sparseBytes < 2 * MiB },
      { bench: 'ndpi', metric: 'plain copy throughput', value: GB / (copyMs / 1000), unit: 'GB/s' },
      { bench: 'ndpi', metric: 'redaction throughput', value: GB / (redactMs / 1000), unit: 'GB/s' },
      { bench: 'ndpi', metric: 'redaction / copy throughput', value: ratio, unit: 'x', target: '>= 0.8', ok: ratio >= 0.8 },
      ...cpuCeilingRows('ndpi', median(copyCpu), median(redactCpu), copyMs, availableParallelism()),
      { bench: 'ndpi', metric: 'peak RSS growth while redacting', value: peakRssGrowth / MiB, unit: 'MiB', target: '< 128 MiB', ok: peakRssGrowth < 128 * MiB },
      { bench: 'ndpi', metric: 'peak heap growth while redacting', value: peakHeapGrowth / MiB, unit: 'MiB', target: '< 128 MiB', ok: peakHeapGrowth < 128 * MiB },
    ];
  } finally {
    await tmp.cleanup();
  }
}

/** The tail of the one output (where NDPI keeps its directories and text values), to search for planted values. */
async function readFileTail(dir: string, size: number): Promise<Buffer> {
  const [name] = await readdir(dir);
  const fh = await open(join(dir, name!), 'r');
  try {
    const n = Math.min(size, 64 * MiB);
    const b = Buffer.alloc(n);
    await fh.read(b, 0, n, size - n);
    return b;
  } finally {
    await fh.close();
  }
}
