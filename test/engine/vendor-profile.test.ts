/**
 * The TIFF vendor-profile seam (src/engine/tiff/vendor-profile.ts), with a toy profile: a
 * vendor tag the profile calls structural survives Auto redact, a structured text loses exactly
 * its dropped parts in place, a rebuild that would grow is refused, and the output-alone check
 * requires the output to re-open as the input's format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferSource } from '../../src/engine/io/buffer-source.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { openSlide } from '../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { verifyOutputAlone } from '../../src/engine/redact/verify-output.ts';
import { collectTiffFields } from '../../src/engine/tiff/fields.ts';
import { readImageInfo } from '../../src/engine/tiff/image-info.ts';
import { planTiffRedaction } from '../../src/engine/tiff/plan.ts';
import { Tag } from '../../src/engine/tiff/tags.ts';
import { latin1Bytes, TiffFile } from '../../src/engine/tiff/tifflike.ts';
import type { TiffVendorProfile } from '../../src/engine/tiff/vendor-profile.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { buildTiff } from '../fixtures/tiff-writer.ts';
import { copyFixture, makeTmpDir } from '../fixtures/node-fixtures.ts';

const DESC = 'TOY;size=64x64;name=Jane Example;site=North Lab';

function toyFile(): Uint8Array {
  const layout = buildTiff([{
    width: 64, height: 64, tile: { width: 64, height: 64 }, compression: 1, photometric: 1, samplesPerPixel: 1,
    description: DESC, data: [new Uint8Array(64 * 64).fill(7)],
    tags: [{ tag: 65001, v: { type: 'long', value: [42, 43, 44] } }, { tag: 65002, v: { type: 'ascii', value: 'serial 12345' } }],
  }]);
  const out = new Uint8Array(layout.size);
  for (const p of layout.pieces) out.set(p.bytes, p.offset);
  return out;
}

/** "TOY;k=v;…": the first segment is structure, every k=v a part; size is needed, the rest identifying. */
function toyProfile(grow = false): TiffVendorProfile {
  return {
    name: 'toy',
    tag: (e) => (e.tag === 65001 ? { kind: 'structural' } : undefined),
    structuredText(tiff, ifd, e) {
      if (e.tag !== Tag.ImageDescription) return undefined;
      const [head, ...pairs] = (tiff.ascii(ifd, Tag.ImageDescription) ?? '').split(';');
      if (head !== 'TOY') return undefined;
      return {
        parts: pairs.map((p) => {
          const [k, v = ''] = p.split('=');
          const needed = k === 'size';
          return { id: `toy:${k}`, label: k!, value: v, class: needed ? 'critical' as const : 'phi' as const, reason: 'toy', sweep: [latin1Bytes(v)] };
        }),
        rebuild: (keep) => latin1Bytes([head, ...pairs.filter((_, i) => keep(i))].join(';') + (grow ? ';'.repeat(DESC.length) : '')),
      };
    },
  };
}

async function planFor(bytes: Uint8Array, profile: TiffVendorProfile) {
  const tiff = await TiffFile.open(new BufferSource(bytes, 'toy.tif'));
  const fields = collectTiffFields(tiff, profile);
  const info = (await readImageInfo(tiff, tiff.ifds[0]!))!;
  const remove = fields.filter((f) => f.class === 'phi').map((f) => f.id);
  return { fields, plan: () => planTiffRedaction(tiff, 'out.tif', fields, [{ id: 'ifd-0', role: 'level', info }], { removeFields: remove, removeImages: [] }, profile) };
}

function apply(bytes: Uint8Array, plan: Awaited<ReturnType<typeof planTiffRedaction>>): Uint8Array {
  const out = bytes.slice();
  for (const p of plan.outputs[0]!.patches) {
    if ('bytes' in p && p.bytes) out.set(p.bytes, p.offset);
    else out.fill((p as { fill: number }).fill, p.offset, p.offset + (p as { length: number }).length);
  }
  return out;
}

test('a profile keeps its structural vendor tag and rebuilds its text without the dropped parts', async () => {
  const bytes = toyFile();
  const { fields, plan } = await planFor(bytes, toyProfile());
  assert.deepEqual(fields.map((f) => `${f.id}:${f.class}`).sort(), ['tiff:65002:phi', 'toy:name:phi', 'toy:site:phi', 'toy:size:critical']);
  const out = apply(bytes, await plan());
  const tiff = await TiffFile.open(new BufferSource(out, 'out.tif'));
  assert.equal(tiff.ascii(tiff.ifds[0]!, Tag.ImageDescription), 'TOY;size=64x64');
  assert.deepEqual(tiff.numbers(tiff.ifds[0]!, 65001), [42, 43, 44]);
  assert.equal(tiff.entry(tiff.ifds[0]!, 65002), undefined);
  const text = Buffer.from(out).toString('latin1');
  for (const v of ['Jane Example', 'North Lab', 'serial 12345']) assert.ok(!text.includes(v), 'a dropped value survived');
  // Without the profile the vendor tag is an unknown private tag: removed by the generic rule.
  const generic = collectTiffFields(await TiffFile.open(new BufferSource(bytes, 'toy.tif')));
  assert.ok(generic.some((f) => f.id === 'tiff:65001' && f.class === 'phi'));
});

test('a rebuilt text longer than the original is refused, never written past its extent', async () => {
  const { plan } = await planFor(toyFile(), toyProfile(true));
  await assert.rejects(plan(), (e: unknown) => e instanceof SlideError && e.code === 'INTERNAL');
});

test('the output-alone check requires the output to read as the input format', async () => {
  const tmp = await makeTmpDir();
  try {
    const inPath = join(tmp.dir, 'in.svs');
    await copyFixture('openslide-python/small.svs', inPath);
    const src = await NodeFileSource.open(inPath);
    const slide = await openSlide([src]);
    const outDir = join(tmp.dir, 'out');
    await mkdir(outDir);
    const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(outDir), { hasher: nodeSha256 });
    await src.close();
    const outPath = join(outDir, report.outputs[0]!.name);
    const out = await NodeFileSource.open(outPath);
    try {
      assert.deepEqual(await verifyOutputAlone([out], { format: 'aperio-svs' }), []);
      const wrong = await verifyOutputAlone([out], { format: 'hamamatsu-ndpi' });
      assert.deepEqual(wrong, ['the output reads as Aperio SVS, not as Hamamatsu NDPI']);
    } finally {
      await out.close();
    }
    // Bytes that open as no slide at all: a problem, not a pass.
    const junk = join(tmp.dir, 'junk.svs');
    await writeFile(junk, (await readFile(outPath)).subarray(0, 8));
    const j = await NodeFileSource.open(junk);
    try {
      assert.equal((await verifyOutputAlone([j], { format: 'aperio-svs' })).length, 1);
    } finally {
      await j.close();
    }
  } finally {
    await tmp.cleanup();
  }
});
