import { engineApi } from '../../../src/workers/engine-api.ts';
import { decodedPixels, MAX_PREVIEW_PIXELS, previewImage } from '../../../src/workers/wizard-ops.ts';
import type { SlideImage } from '../../../src/engine/formats/slide-format.ts';
import { buildTiff, type TileData } from '../../fixtures/tiff-writer.ts';
import { encodeLzw } from '../../fixtures/lzw-encode.ts';
import { eq, ok } from './support.ts';

/**
 * Issue 5 gap 4: the preview cap is about decoded pixels, not the number of tiles or strips. A
 * label stored as hundreds of one-row strips (cheap) gets a preview; an image too large to decode
 * quickly gets "no preview" without any of its strips being read.
 */

const APERIO = 'Aperio Image Library v12.0.5';

function solid(w: number, h: number, rgb: [number, number, number]): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < px.length; i += 3) px.set(rgb, i);
  return px;
}

/** An SVS-like file: two tiled levels, a label of 300 strips (top red, bottom blue), a huge macro. */
function makeSlide(): File {
  const tile = 256;
  const level = (w: number, h: number, desc: string) => ({
    width: w, height: h, tile: { width: tile, height: tile }, compression: 5, photometric: 2, samplesPerPixel: 3, predictor: 1,
    description: desc,
    data: Array.from({ length: Math.ceil(w / tile) * Math.ceil(h / tile) }, () => encodeLzw(solid(tile, tile, [0, 128, 0]))) as TileData[],
  });
  const labelStrips: TileData[] = [];
  for (let s = 0; s < 300; s++) labelStrips.push(encodeLzw(solid(200, 2, s < 150 ? [255, 0, 0] : [0, 0, 255])));
  const layout = buildTiff([
    level(1000, 700, `${APERIO}\r\n1000x700 [0,0 1000x700] (256x256) LZW|AppMag = 20|MPP = 0.25`),
    level(500, 350, `${APERIO}\r\n1000x700 -> 500x350 (256x256) LZW|AppMag = 20|MPP = 0.25`),
    { width: 200, height: 600, rowsPerStrip: 2, compression: 5, photometric: 2, samplesPerPixel: 3, newSubfileType: 1, description: `${APERIO}\r\nlabel 200x600`, data: labelStrips },
    // 40000 x 40000: 1.6 gigapixels in 40 strips of (unreadable) bytes — must never be decoded.
    { width: 40000, height: 40000, rowsPerStrip: 1000, compression: 5, photometric: 2, samplesPerPixel: 3, newSubfileType: 9, description: `${APERIO}\r\nmacro 40000x40000`, data: Array.from({ length: 40 }, () => new Uint8Array([0x80, 0, 0, 0])) },
  ]);
  const bytes = new Uint8Array(layout.size);
  for (const p of layout.pieces) bytes.set(p.bytes, p.offset);
  return new File([bytes], 'strips.svs', { lastModified: 1 });
}

async function pixelAt(bitmap: ImageBitmap, x: number, y: number): Promise<number[]> {
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  return [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
}

describe('slide previews: decode budget in pixels', () => {
  it('a label of 300 strips gets a preview; a 1.6-gigapixel image gets none', async () => {
    const [r] = await engineApi.inspect([makeSlide()]);
    ok(r.ok, `inspected (${r.ok ? '' : r.error.message})`);
    const slide = r.slide;
    const label = slide.images.find((i) => i.role === 'label');
    const macro = slide.images.find((i) => i.role === 'overview');
    ok(label && macro, `label and macro found (${slide.images.map((i) => i.role).join(',')})`);
    const t = await engineApi.thumbnail(slide.key, 160, label.id);
    ok(t, 'the many-strip label has a preview');
    eq([t.width, t.height], [53, 160], 'scaled to the longest side');
    eq(await pixelAt(t.bitmap, 26, 10), [255, 0, 0], 'top strips drawn (red)');
    eq(await pixelAt(t.bitmap, 26, 150), [0, 0, 255], 'bottom strips drawn (blue)');
    eq(await engineApi.thumbnail(slide.key, 160, macro.id), null, 'too many pixels: no preview (and no decode error from its bytes)');
    const thumb = await engineApi.thumbnail(slide.key, 96);
    ok(thumb && thumb.width === 96, 'the slide thumbnail comes from the smallest level');
    engineApi.close(slide.key);
  });

  it('previewImage: thumbnail when it fits, else the smallest level that fits', () => {
    const img = (id: string, role: SlideImage['role'], w: number, h: number, tile?: number): SlideImage => ({
      id, role, width: w, height: h, compression: 'JPEG', part: 0, ...(tile ? { tileWidth: tile, tileHeight: tile } : {}),
    });
    const huge = img('thumb', 'thumbnail', 30000, 30000);
    const l0 = img('l0', 'level', 100000, 80000, 256);
    const l2 = img('l2', 'level', 3125, 2500, 256);
    const l1 = img('l1', 'level', 12500, 10000, 256);
    eq(previewImage([huge, l0, l1, l2])?.id, 'l2', 'an oversized thumbnail is skipped for the smallest level');
    eq(previewImage([img('t', 'thumbnail', 1024, 768), l0, l2])?.id, 't', 'a thumbnail that fits is used');
    eq(previewImage([l0, l1]), undefined, 'nothing small enough: no preview');
    eq(decodedPixels(img('s', 'label', 200, 600)), 120000, 'strips count by pixels');
    eq(decodedPixels(img('e', 'level', 257, 257, 256)), 512 * 512, 'edge tiles are decoded whole');
    ok(decodedPixels(l2) <= MAX_PREVIEW_PIXELS, 'a 25k-tile-pyramid\'s small level fits');
  });
});
