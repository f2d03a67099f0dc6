/**
 * DICOM benchmarks: de-identification throughput as a ratio to a plain copy of the same bytes in
 * the same run, memory growth while de-identifying a > 2 GiB instance, and the time to group a
 * directory of 500 instances (headers only). Run alone: node --import tsx test/bench/dicom.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeFileSink, NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { openSlide } from '../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { groupDicomInstances } from '../../src/engine/dicom/group.ts';
import { writeLargeInstance } from '../fixtures/dicom/large.ts';
import { cleanupGenerated, generateSeries, seriesFiles } from '../fixtures/dicom/generate.ts';

const CHUNK = 8 * 1024 * 1024;

async function plainCopy(from: string, to: string): Promise<number> {
  const src = await NodeFileSource.open(from);
  const sink = await NodeFileSink.create(to);
  const t = performance.now();
  for (let pos = 0; pos < src.size; pos += CHUNK) await sink.write(pos, await src.read(pos, CHUNK));
  await sink.flush();
  await sink.close();
  await src.close();
  return performance.now() - t;
}

async function deidentify(file: string, outDir: string): Promise<{ ms: number; peakRssGrowth: number }> {
  const src = await NodeFileSource.open(file);
  try {
    const slide = await openSlide([src]);
    const request = { ...defaultRequest(slide), options: { uidKey: 'cd'.repeat(32) } };
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
    const t = performance.now();
    await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
    const ms = performance.now() - t;
    clearInterval(timer);
    return { ms, peakRssGrowth: Math.max(peak, process.memoryUsage().rss) - before };
  } finally {
    await src.close();
  }
}

export async function bench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsi-dicom-bench-'));
  try {
    // Throughput: a 1.2 GB instance (sparse input; both paths read and write every byte).
    const mid = await writeLargeInstance(path.join(dir, 'mid.dcm'), 512, 40, 20);
    const copyMs = await plainCopy(mid.path, path.join(dir, 'copy.dcm'));
    rmSync(path.join(dir, 'copy.dcm'));
    const d = await deidentify(mid.path, path.join(dir, 'out-mid'));
    rmSync(path.join(dir, 'out-mid'), { recursive: true });
    const mb = mid.size / 1e6;

    // Memory: the > 2 GiB instance.
    const big = await writeLargeInstance(path.join(dir, 'big.dcm'));
    const b = await deidentify(big.path, path.join(dir, 'out-big'));
    rmSync(path.join(dir, 'out-big'), { recursive: true });

    // Grouping: 500 instances, headers only.
    const many = seriesFiles(generateSeries('many:500'));
    const sources = await Promise.all(many.map((f) => NodeFileSource.open(f)));
    const t = performance.now();
    const g = await groupDicomInstances(sources);
    const groupMs = performance.now() - t;
    for (const s of sources) await s.close();

    return {
      'dicom.copyMBps': Math.round(mb / (copyMs / 1000)),
      'dicom.deidMBps': Math.round(mb / (d.ms / 1000)),
      'dicom.throughputRatio': Number((copyMs / d.ms).toFixed(2)),
      'dicom.throughputTarget': 0.8,
      'dicom.bigInstanceBytes': big.size,
      'dicom.bigMemoryGrowthMiB': Math.round(b.peakRssGrowth / 1048576),
      'dicom.bigMemoryTargetMiB': 128,
      'dicom.group500ms': Math.round(groupMs),
      'dicom.group500slides': g.slides.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    cleanupGenerated();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await bench(), null, 2));
}
