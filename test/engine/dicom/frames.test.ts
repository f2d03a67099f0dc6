import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openSlide } from '../../../src/engine/open.ts';
import { decodeToRgba } from '../../../src/engine/codecs/raster.ts';
import { cleanupGenerated, generateSeries, seriesFiles } from '../../fixtures/dicom/generate.ts';
import { closeAll, openFiles } from './support.ts';

after(() => cleanupGenerated());

/** Run a pydicom snippet on `file` (as sys.argv[1], dataset read as `ds`); it prints JSON. */
function pydicomJson<T>(file: string, lines: string[]): T {
  const py = ['import sys, json, hashlib', 'from pydicom import dcmread', 'ds = dcmread(sys.argv[1])', ...lines].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-W', 'ignore', '-c', py, file], { encoding: 'utf8' })) as T;
}

/** Frames of an instance as pydicom splits them (it finds frame ends by JPEG markers without a BOT). */
function pydicomFrameHashes(file: string): string[] {
  return pydicomJson(file, [
    'from pydicom.encaps import generate_pixel_data_frame',
    'n = int(getattr(ds, "NumberOfFrames", 1))',
    'print(json.dumps([hashlib.sha256(f).hexdigest() for f in generate_pixel_data_frame(ds.PixelData, n)]))',
  ]);
}

test('frames split over several fragments without an offset table are read whole, as pydicom reads them', async () => {
  const files = seriesFiles(generateSeries('jpeg-split-nobot'));
  const sources = await openFiles(files);
  try {
    const slide = await openSlide(sources);
    const levels = slide.images.filter((i) => i.role === 'level');
    assert.equal(levels.length, 3);
    let compared = 0;
    for (const level of levels) {
      const file = files[level.part]!;
      const expected = pydicomFrameHashes(file);
      const cols = Math.ceil(level.width / level.tileWidth!);
      const rows = Math.ceil(level.height / level.tileHeight!);
      assert.equal(expected.length, cols * rows, `${file}: one frame per tile (TILED_FULL)`);
      const ours: string[] = [];
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const tile = await slide.readTile(level.id, c, r);
          assert.equal(tile.codec, 'image/jpeg');
          assert.deepEqual([tile.bytes[0], tile.bytes[1]], [0xff, 0xd8], 'a frame starts with SOI');
          ours.push(createHash('sha256').update(tile.bytes).digest('hex'));
        }
      }
      assert.deepEqual(ours, expected, `${file}: frame bytes`);
      compared += ours.length;
    }
    assert.ok(compared > 3, `${compared} frames compared`);
  } finally {
    await closeAll(sources);
  }
});

/** Every frame of an instance decoded by pydicom (its own RLE decoder), as RGB bytes, hashed. */
function pydicomDecodedHashes(file: string): string[] {
  return pydicomJson(file, [
    'a = ds.pixel_array',
    'a = a if int(getattr(ds, "NumberOfFrames", 1)) > 1 else a[None]',
    'print(json.dumps([hashlib.sha256(f.tobytes()).hexdigest() for f in a]))',
  ]);
}

test('RLE Lossless frames decode to the pixels pydicom decodes', async () => {
  const files = seriesFiles(generateSeries('rle'));
  const sources = await openFiles(files);
  try {
    const slide = await openSlide(sources);
    let compared = 0;
    for (const image of slide.images) {
      const expected = pydicomDecodedHashes(files[image.part]!);
      const cols = Math.ceil(image.width / (image.tileWidth ?? image.width));
      const rows = Math.ceil(image.height / (image.tileHeight ?? image.height));
      const ours: string[] = [];
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const tile = await slide.readTile(image.id, c, r);
          assert.equal(tile.codec, 'dicom/rle');
          const rgba = decodeToRgba(tile);
          const rgb = new Uint8Array(tile.width * tile.height * 3);
          for (let p = 0, q = 0; p < rgb.length; p += 3, q += 4) rgb.set(rgba.subarray(q, q + 3), p);
          ours.push(createHash('sha256').update(rgb).digest('hex'));
        }
      }
      assert.deepEqual(ours, expected, `${image.role} ${image.width}x${image.height}: decoded pixels`);
      compared += ours.length;
    }
    assert.ok(compared > 6, `${compared} frames compared`);
  } finally {
    await closeAll(sources);
  }
});
