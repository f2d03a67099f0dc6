/**
 * A > 2 GiB instance (sparse on disk) de-identified in Node with the product pipeline: the header
 * is read without touching the pixel data, the output is written by streaming with bounded memory,
 * the pixel data is byte-identical (checked at both ends), and the trailing element is dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ByteSource } from '../../../src/engine/io/byte-source.ts';
import { NodeFileSource } from '../../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../../src/engine/io/node/dir-target.ts';
import { openSlide } from '../../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../../src/engine/redact/redact.ts';
import { writeLargeInstance } from '../../fixtures/dicom/large.ts';
import { dcmdump } from './support.ts';

class CountingSource implements ByteSource {
  bytesRead = 0;
  constructor(private readonly inner: ByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  get name(): string {
    return this.inner.name;
  }
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const b = await this.inner.read(offset, length, signal);
    this.bytesRead += b.length;
    return b;
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'wsi-dicom-large-'));
const free = statfsSync(dir).bavail * statfsSync(dir).bsize;

test('> 2 GiB native instance: header-only open, streamed de-identification, bounded memory', { skip: free < 6e9 ? 'needs ~3 GB free in tmp' : false, timeout: 300_000 }, async () => {
  try {
    const big = await writeLargeInstance(path.join(dir, 'large.dcm'));
    assert.ok(big.pixelBytes > 2 ** 31);
    const file = await NodeFileSource.open(big.path);
    const src = new CountingSource(file);
    const slide = await openSlide([src]);
    assert.ok(src.bytesRead < 2 * 1024 * 1024, `open read ${src.bytesRead} bytes`);
    assert.equal(slide.width, 60 * 512);
    const first = await slide.readTile(slide.images[0].id, 0, 0);
    assert.ok(first.bytes.every((b) => b === 0xa5));

    const request = { ...defaultRequest(slide), options: { uidKey: 'ab'.repeat(32) } };
    const plan = await slide.plan(request);
    assert.equal(plan.outputs.length, 1);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const report = await redactSlide(slide, request, new NodeDirTarget(path.join(dir, 'out')), { hasher: nodeSha256 });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(report.verify.ok && report.sweep.ok);
    assert.ok(peak - rssBefore < 128 * 1024 * 1024, `memory grew by ${Math.round((peak - rssBefore) / 1048576)} MiB`);

    const outPath = path.join(dir, 'out', report.outputs[0].name);
    const out = await NodeFileSource.open(outPath);
    try {
      // Pixel data at both ends is the input's; the trailing element is gone.
      const header = plan.outputs[0].size - big.pixelBytes;
      const head = await out.read(header, 16);
      const tail = await out.read(out.size - 16, 16);
      assert.ok(head.every((b) => b === 0xa5) && tail.every((b) => b === 0x5a));
      assert.equal(out.size, header + big.pixelBytes);
    } finally {
      await out.close();
    }
    const dump = dcmdump(outPath, ['-M']);
    for (const v of big.phi) assert.ok(!dump.includes(v));
    assert.match(dump, /PatientIdentityRemoved/);
    await file.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
