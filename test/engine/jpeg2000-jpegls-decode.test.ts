/**
 * Issue 12: JPEG 2000 and JPEG-LS tiles decoded by the engine (codecs/decode-tile.ts, WebAssembly
 * OpenJPEG and CharLS), checked against independent decoders on real and self-made files:
 *  - TCGA SVS (Aperio 33005) tiles vs OpenSlide 3.4.1 read_region: identical;
 *  - Aperio 33003 (YCbCr) SVS encoded by opj_compress vs OpenSlide: identical for 4:4:4 chroma;
 *    within 1 level for 4:2:2 (the WebAssembly OpenJPEG converts subsampled chroma itself, see
 *    codecs/jpeg2000.ts);
 *  - Google's JPEG 2000 DICOM frames vs Pillow (system libopenjp2) on frames pydicom extracts;
 *  - highdicom JPEG-LS frames vs dcmdjpls + pydicom, and vs the native copy of the same image;
 *  - corrupt and unsupported codestreams: SlideError, no crash, the decoder still works after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { decodeTile } from '../../src/engine/codecs/decode-tile.ts';
import type { EncodedTile, Slide } from '../../src/engine/formats/slide-format.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { makeTmpDir, repoRoot, sharedFixtures } from '../fixtures/node-fixtures.ts';
import { opjCompress, writeAperio33003 } from '../fixtures/jpeg2000-fixtures.ts';

const run = promisify(execFile);
const TCGA = join(sharedFixtures, 'histolab/tcga-cr-7395-01a-01-ts1.svs');
const J2K_DICOM = join(sharedFixtures, 'google-dicom/camelyon-jpeg2000.dcm');
const JLS = join(sharedFixtures, 'highdicom/sm_image_jpegls.dcm');
const JLS_NOBOT = join(sharedFixtures, 'highdicom/sm_image_jpegls_nobot.dcm');
const NATIVE = join(sharedFixtures, 'highdicom/sm_image.dcm');

async function withSlide<T>(path: string, fn: (slide: Slide) => Promise<T>): Promise<T> {
  const src = await NodeFileSource.open(path);
  try {
    return await fn(await openSlide([src]));
  } finally {
    await src.close();
  }
}

/** OpenSlide's RGBA of level-0 regions, one Buffer per region. */
async function openslideRegions(path: string, dir: string, regions: [number, number, number, number][]): Promise<{ vendor: string; regions: Buffer[] }> {
  const out = join(dir, `os-${Math.random().toString(36).slice(2)}.raw`);
  const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_tiles.py'), path, out, ...regions.map((r) => r.join(','))], { maxBuffer: 1 << 20 });
  const all = await readFile(out);
  const parts: Buffer[] = [];
  let o = 0;
  for (const [, , w, h] of regions) parts.push(all.subarray(o, (o += w * h * 4)));
  return { vendor: JSON.parse(stdout).vendor, regions: parts };
}

/** Largest per-channel difference between our tile (cropped to w×h) and an oracle's RGBA or RGB. */
function maxDiff(rgba: Uint8ClampedArray, tileWidth: number, oracle: Uint8Array, w: number, h: number, oracleChannels: 3 | 4): number {
  let max = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * tileWidth + x) * 4;
      const q = (y * w + x) * oracleChannels;
      for (let c = 0; c < oracleChannels; c++) max = Math.max(max, Math.abs(rgba[p + c]! - oracle[q + c]!));
    }
  }
  return max;
}

async function expectSlideError(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof SlideError && e.code === code);
}

test('TCGA JPEG 2000 SVS (Aperio 33005): tiles identical to OpenSlide 3.4.1', async () => {
  const tmp = await makeTmpDir();
  try {
    await withSlide(TCGA, async (slide) => {
      const level0 = slide.images.find((i) => i.role === 'level' && i.level === 0)!;
      assert.equal(level0.compression, 'JPEG 2000');
      const T = level0.tileWidth!;
      const across = Math.ceil(level0.width / T);
      const down = Math.ceil(level0.height / T);
      // Corners, the middle, and the partial last column/row (only its part inside the image counts).
      const picks: [number, number][] = [[0, 0], [3, 2], [Math.floor(across / 2), Math.floor(down / 2)], [across - 1, down - 1], [across - 2, 1]];
      const regions = picks.map(([c, r]) => [c * T, r * T, Math.min(T, level0.width - c * T), Math.min(T, level0.height - r * T)] as [number, number, number, number]);
      const oracle = await openslideRegions(TCGA, tmp.dir, regions);
      assert.equal(oracle.vendor, 'aperio');
      for (const [i, [c, r]] of picks.entries()) {
        const d = await decodeTile(await slide.readTile(level0.id, c, r));
        assert.deepEqual([d.width, d.height], [T, T]);
        const [, , w, h] = regions[i]!;
        assert.equal(maxDiff(d.rgba, T, oracle.regions[i]!, w, h, 4), 0, `tile ${c},${r}`);
      }
    });
  } finally {
    await tmp.cleanup();
  }
});

for (const dx of [1, 2] as const) {
  test(`Aperio 33003 (YCbCr JPEG 2000, chroma ${dx === 1 ? '4:4:4' : '4:2:2'}) made with opj_compress: as OpenSlide 3.4.1 converts it`, async () => {
    const tmp = await makeTmpDir();
    try {
      const path = join(tmp.dir, `ycbcr-${dx}.svs`);
      const { width, height } = await writeAperio33003(tmp.dir, path, dx);
      const picks: [number, number][] = [[0, 0], [1, 0], [0, 1], [1, 1]];
      const oracle = await openslideRegions(path, tmp.dir, picks.map(([c, r]) => [c * 256, r * 256, 256, 256]));
      assert.equal(oracle.vendor, 'aperio');
      await withSlide(path, async (slide) => {
        assert.equal(slide.format, 'aperio-svs');
        assert.deepEqual([slide.width, slide.height], [width, height]);
        const id = slide.images[0]!.id;
        for (const [i, [c, r]] of picks.entries()) {
          const d = await decodeTile(await slide.readTile(id, c, r));
          const diff = maxDiff(d.rgba, 256, oracle.regions[i]!, 256, 256, 4);
          // 4:4:4: our tables are OpenSlide's, exactly. 4:2:2: OpenJPEG (wasm) converts, see jpeg2000.ts.
          assert.ok(dx === 1 ? diff === 0 : diff <= 1, `tile ${c},${r}: max difference ${diff}`);
        }
      });
    } finally {
      await tmp.cleanup();
    }
  });
}

test('Google JPEG 2000 DICOM: every frame as Pillow (libopenjp2) decodes what pydicom extracts', async () => {
  const tmp = await makeTmpDir();
  try {
    await withSlide(J2K_DICOM, async (slide) => {
      const img = slide.images[0]!;
      assert.equal(img.compression, 'JPEG 2000');
      const T = img.tileWidth!;
      const across = Math.ceil(img.width / T);
      const down = Math.ceil(img.height / T);
      const frames = Array.from({ length: across * down }, (_, i) => i);
      const out = join(tmp.dir, 'frames.raw');
      const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/dicom_frames.py'), J2K_DICOM, out, ...frames.map(String)]);
      assert.equal(JSON.parse(stdout).transferSyntax, '1.2.840.10008.1.2.4.90');
      const oracle = await readFile(out);
      const frameBytes = T * T * 3;
      let nonWhite = 0;
      for (const f of frames) {
        const t = await slide.readTile(img.id, f % across, Math.floor(f / across));
        assert.equal(t.codec, 'image/jp2');
        assert.equal(t.layout?.photometric, 2);
        const d = await decodeTile(t);
        assert.equal(maxDiff(d.rgba, T, oracle.subarray(f * frameBytes, (f + 1) * frameBytes), T, T, 3), 0, `frame ${f}`);
        for (let i = 0; i < d.rgba.length; i += 4) if (d.rgba[i]! < 200) nonWhite++;
      }
      assert.ok(nonWhite > 1000, 'frames show tissue, not blank');
    });
  } finally {
    await tmp.cleanup();
  }
});

test('highdicom JPEG-LS: frames as dcmdjpls + pydicom decode them, and as the native copy holds them', async () => {
  const tmp = await makeTmpDir();
  try {
    const decompressed = join(tmp.dir, 'native-from-jls.dcm');
    await run('dcmdjpls', [JLS, decompressed]);
    const frames = Array.from({ length: 25 }, (_, i) => i);
    const oracle = async (path: string, name: string) => {
      const out = join(tmp.dir, name);
      await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/dicom_frames.py'), path, out, ...frames.map(String)]);
      return readFile(out);
    };
    const fromDcmtk = await oracle(decompressed, 'dcmtk.raw');
    const fromNative = await oracle(NATIVE, 'native.raw');
    // sm_image.dcm holds the very pixels sm_image_jpegls.dcm compresses (JPEG-LS lossless).
    assert.ok(fromDcmtk.equals(fromNative), 'the JPEG-LS and native highdicom samples hold the same pixels');
    for (const path of [JLS, JLS_NOBOT]) {
      await withSlide(path, async (slide) => {
        const img = slide.images[0]!;
        const T = img.tileWidth!;
        const across = Math.ceil(img.width / T);
        for (const f of frames) {
          const t = await slide.readTile(img.id, f % across, Math.floor(f / across));
          assert.equal(t.codec, 'image/jls');
          const d = await decodeTile(t);
          assert.equal(maxDiff(d.rgba, T, fromDcmtk.subarray(f * T * T * 3, (f + 1) * T * T * 3), T, T, 3), 0, `frame ${f}`);
        }
      });
    }
  } finally {
    await tmp.cleanup();
  }
});

test('grey JPEG 2000 decodes to grey RGBA; 16-bit is refused as UNSUPPORTED', async () => {
  const tmp = await makeTmpDir();
  try {
    const grey = new Uint8Array(64 * 64).map((_, i) => (i * 13) & 255);
    const j2k8 = await opjCompress(tmp.dir, 'grey8', grey, '64,64,1,8,u');
    const d = await decodeTile({ codec: 'image/jp2', bytes: j2k8, width: 64, height: 64 });
    for (let p = 0; p < grey.length; p++) assert.deepEqual([...d.rgba.subarray(p * 4, p * 4 + 4)], [grey[p], grey[p], grey[p], 255]);
    const grey16 = new Uint8Array(64 * 64 * 2).map((_, i) => (i * 7) & 255);
    const j2k16 = await opjCompress(tmp.dir, 'grey16', grey16, '64,64,1,16,u');
    await expectSlideError(decodeTile({ codec: 'image/jp2', bytes: j2k16, width: 64, height: 64 }), 'UNSUPPORTED');
    // A codestream of another size than the image says its tiles have.
    await expectSlideError(decodeTile({ codec: 'image/jp2', bytes: j2k8, width: 128, height: 64 }), 'CORRUPT');
  } finally {
    await tmp.cleanup();
  }
});

test('corrupt JPEG 2000 / JPEG-LS tiles: SlideError CORRUPT, no crash or hang, decoders keep working', async () => {
  const good = await withSlide(TCGA, (s) => s.readTile(s.images[0]!.id, 3, 2));
  const goodJls = await withSlide(JLS, (s) => s.readTile(s.images[0]!.id, 1, 1));
  const noise = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) & 255);
  const withMarker = (lead: number[]) => Uint8Array.from([...lead, ...noise]);
  const cases: EncodedTile[] = [
    { ...good, bytes: new Uint8Array(0) },
    { ...good, bytes: good.bytes.subarray(0, 200) },
    { ...good, bytes: withMarker([0xff, 0x4f, 0xff, 0x51]) },
    { ...good, bytes: noise },
    { ...goodJls, bytes: goodJls.bytes.subarray(0, 40) },
    { ...goodJls, bytes: withMarker([0xff, 0xd8, 0xff, 0xf7]) },
    { ...goodJls, bytes: noise },
  ];
  for (const [i, t] of cases.entries()) await expectSlideError(decodeTile(t), 'CORRUPT').catch((e) => assert.fail(`case ${i}: ${e}`));
  const expected = await decodeTile(good);
  assert.equal(expected.rgba.length, 256 * 256 * 4);
  assert.equal((await decodeTile(goodJls)).rgba.length, goodJls.width * goodJls.height * 4);
});
