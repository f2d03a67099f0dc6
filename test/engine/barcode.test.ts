/**
 * Issue 14, contract C4: barcodes found on the slide itself, in Node (the CLI's path): every
 * symbology on a label rendered by zint, the sideways macro of a slide without a label, vendor
 * metadata values, images without a code or with broken pixels (nothing found, no error), the real
 * MIRAX sample's label, and a reader that never reaches for the network (its default is a CDN).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open as openFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

// Before anything loads the reader: record every fetch, and fail it (no network in tests).
const fetched: string[] = [];
globalThis.fetch = (async (input: string | URL | Request) => {
  fetched.push(String(input instanceof Request ? input.url : input));
  throw new Error('network disabled in this test');
}) as typeof fetch;

const { findSlideBarcodes, BARCODE_FIELDS } = await import('../../src/engine/barcode/index.ts');
const { imageRgba } = await import('../../src/engine/barcode/image-rgba.ts');
const { decodeJpegNode } = await import('../../src/engine/barcode/jpeg-rgba.ts');
const { openSlide } = await import('../../src/engine/open.ts');
const { NodeFileSource } = await import('../../src/engine/io/node/file-source.ts');
const { TiffFile } = await import('../../src/engine/tiff/tifflike.ts');
const { Tag } = await import('../../src/engine/tiff/tags.ts');
const { SlideError } = await import('../../src/shared/errors.ts');
const { loadJpegTiles, makeTmpDir, sharedFixtures, writeLayoutFile } = await import('../fixtures/node-fixtures.ts');
const { writeSvsWithBarcode, ZXING_NAME } = await import('../fixtures/barcode-slides.ts');
const { generateBif } = await import('../fixtures/vendors/ventana-bif.ts');
const { generateScn } = await import('../fixtures/vendors/leica-scn.ts');
const { generatePhilips } = await import('../fixtures/vendors/philips-tiff.ts');
const { writeNdpi, NDPI_PHI } = await import('../fixtures/vendors/ndpi.ts');
const { miraxFixture, writeMiraxFixture } = await import('../fixtures/vendors/mirax.ts');
const { generateSeries, seriesFiles, cleanupGenerated } = await import('../fixtures/dicom/generate.ts');

type Scan = Awaited<ReturnType<typeof findSlideBarcodes>>;

async function scanFiles(paths: string[], opts?: Parameters<typeof findSlideBarcodes>[1]): Promise<Scan> {
  const sources = await Promise.all(paths.map((p) => NodeFileSource.open(p)));
  try {
    return await findSlideBarcodes(await openSlide(sources), opts);
  } finally {
    for (const s of sources) await s.close();
  }
}

async function folderFiles(mrxs: string): Promise<string[]> {
  const dir = mrxs.replace(/\.mrxs$/i, '');
  return [mrxs, ...(await readdir(dir)).sort().map((f) => join(dir, f))];
}

const tmp = await makeTmpDir('wsi-barcode-');
test.after(async () => {
  await tmp.cleanup();
  cleanupGenerated();
});

const TEXT = 'S24-01234-A1';

for (const symbology of ['code128', 'code39', 'datamatrix', 'qr', 'pdf417'] as const) {
  test(`label: ${symbology} is decoded from the label image`, async () => {
    const path = join(tmp.dir, `${symbology}.svs`);
    await writeSvsWithBarcode(path, { text: TEXT, symbology, where: 'label' });
    const scan = await scanFiles([path]);
    assert.deepEqual(scan.barcodes, [{ value: TEXT, symbology: ZXING_NAME[symbology], source: 'label' }]);
    // Found on the label: the macro is not searched.
    assert.equal(scan.imagesSearched, 1);
    assert.ok(scan.decodeMs >= 0);
  });
}

test('macro: a slide without a label image (GT450, NDPI) — the code lies sideways on the macro', async () => {
  for (const symbology of ['code128', 'datamatrix'] as const) {
    const path = join(tmp.dir, `macro-${symbology}.svs`);
    await writeSvsWithBarcode(path, { text: TEXT, symbology, where: 'macro' });
    const scan = await scanFiles([path]);
    assert.deepEqual(scan.barcodes, [{ value: TEXT, symbology: ZXING_NAME[symbology], source: 'macro' }], symbology);
  }
});

test('label first, macro only when the label has none; metadata after; de-duplicated by value', async () => {
  const path = join(tmp.dir, 'both.svs');
  // The Aperio Barcode key holds the same value as the label: reported once, as the label's.
  await writeSvsWithBarcode(path, { text: TEXT, symbology: 'code128', where: 'label', metadataBarcode: TEXT });
  assert.deepEqual((await scanFiles([path])).barcodes, [{ value: TEXT, symbology: 'Code128', source: 'label' }]);
  const other = join(tmp.dir, 'other.svs');
  await writeSvsWithBarcode(other, { text: TEXT, symbology: 'qr', where: 'label', metadataBarcode: 'AP-0042' });
  assert.deepEqual((await scanFiles([other])).barcodes, [
    { value: TEXT, symbology: 'QRCode', source: 'label' },
    { value: 'AP-0042', symbology: 'metadata', source: 'metadata', fieldId: 'aperio:Barcode' },
  ]);
});

test('a label without a barcode: nothing found, no error; label and macro both searched', async () => {
  const path = join(tmp.dir, 'blank.svs');
  await writeSvsWithBarcode(path, { where: 'label' });
  const scan = await scanFiles([path]);
  assert.deepEqual(scan.barcodes, []);
  assert.equal(scan.imagesSearched, 2);
});

test('corrupt label and macro pixels: nothing found, no error; metadata still reported', async () => {
  const path = join(tmp.dir, 'corrupt.svs');
  await writeSvsWithBarcode(path, { text: TEXT, symbology: 'code128', where: 'label', metadataBarcode: 'AP-7' });
  // Overwrite the start of every strip of the label (LZW) and the macro (JPEG) with junk.
  const src = await NodeFileSource.open(path);
  const strips: { offset: number; length: number }[] = [];
  try {
    const tiff = await TiffFile.open(src);
    for (const ifd of tiff.ifds.slice(2)) {
      const offs = await tiff.readNumbers(tiff.entry(ifd, Tag.StripOffsets)!);
      const lens = await tiff.readNumbers(tiff.entry(ifd, Tag.StripByteCounts)!);
      offs.forEach((o, i) => strips.push({ offset: o, length: lens[i]! }));
    }
  } finally {
    await src.close();
  }
  assert.ok(strips.length >= 2);
  const fh = await openFile(path, 'r+');
  try {
    for (const s of strips) {
      const junk = new Uint8Array(Math.min(s.length, 400)).map((_, i) => (i * 97 + 13) & 0xff);
      junk[0] = 0xff; // keep JPEG's SOI so the driver hands the strip out and the decoder fails
      junk[1] = 0xd8;
      await fh.write(junk, 0, junk.length, s.offset + (s.length > 800 ? 2 : 0));
    }
  } finally {
    await fh.close();
  }
  const scan = await scanFiles([path]);
  assert.deepEqual(scan.barcodes, [{ value: 'AP-7', symbology: 'metadata', source: 'metadata', fieldId: 'aperio:Barcode' }]);
  assert.equal(scan.imagesSearched, 2);
});

test('metadata: Ventana, Leica (base64 decoded), Philips, NDPI reference, MIRAX, DICOM', async () => {
  const jpeg = await loadJpegTiles();
  const meta = (s: Scan) => s.barcodes.filter((b) => b.source === 'metadata').map((b) => `${b.fieldId}=${b.value}`);

  const bif = join(tmp.dir, 'a.bif');
  await writeLayoutFile(bif, generateBif({ flavour: 'iscan' }, jpeg).layout);
  assert.deepEqual(meta(await scanFiles([bif])), ['ventana:Barcode1D=BC1D-PATIENT-88123', 'ventana:Barcode2D=BC2D-ACCESSION-55321']);

  const scn = join(tmp.dir, 'a.scn');
  await writeLayoutFile(scn, generateScn({ variant: 'ok' }, jpeg).layout);
  assert.deepEqual(meta(await scanFiles([scn])), ['scn:barcode=BC-LEICA-PATIENT-5521']);

  const philips = join(tmp.dir, 'philips.tiff');
  await writeLayoutFile(philips, generatePhilips({}, jpeg).layout);
  assert.deepEqual(meta(await scanFiles([philips])), ['philips:PIM_DP_UFS_BARCODE=BC-PHILIPS-55123']);

  const ndpi = join(tmp.dir, 'a.ndpi');
  await writeNdpi(ndpi);
  assert.deepEqual(meta(await scanFiles([ndpi])), [`tiff:65427=${NDPI_PHI.reference}`]);

  const mrxs = await writeMiraxFixture(join(tmp.dir, 'mx'), await miraxFixture());
  assert.deepEqual(meta(await scanFiles(await folderFiles(mrxs))), ['mirax:NONHIERLAYER_0_LEVEL_3_SECTION/BARCODE_VALUE=PLANTED-BARCODE-9988']);

  const dicom = await scanFiles(seriesFiles(generateSeries('full-native')));
  assert.deepEqual(meta(dicom), ['dicom:00400512=SLIDE-S24-00123-A1', 'dicom:22000005=BC-SLIDE-S24-00123-A1']);
});

test('metadata table: one rule per vendor field, every id pattern distinct', () => {
  const ids = BARCODE_FIELDS.map((r) => String(r.id));
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ['aperio:Barcode', 'scn:barcode', 'tiff:65427', 'philips:PIM_DP_UFS_BARCODE', 'ventana:Barcode1D', 'ventana:Barcode2D', 'dicom:22000005', 'dicom:00400512']) {
    assert.ok(ids.includes(id), id);
  }
});

test('real MIRAX sample: the 1-D barcode on its (dim, blurred) label photograph', async () => {
  const scan = await scanFiles(await folderFiles(join(sharedFixtures, 'mirax/Mirax2-Fluorescence-2.mrxs')));
  // The code's own human-readable line on the label reads "refslid4" too.
  assert.deepEqual(scan.barcodes, [{ value: 'refslid4', symbology: 'Code128', source: 'label' }]);
});

test('big images are box-filtered down to maxSide (grey), and codes still found', async () => {
  const path = join(tmp.dir, 'scaled.svs');
  await writeSvsWithBarcode(path, { text: TEXT, symbology: 'qr', where: 'label', scale: 4 });
  const scan = await scanFiles([path], { maxSide: 240 });
  assert.deepEqual(scan.barcodes, [{ value: TEXT, symbology: 'QRCode', source: 'label' }]);
  const blank = join(tmp.dir, 'scaled-blank.svs');
  await writeSvsWithBarcode(blank, { where: 'label' });
  const src = await NodeFileSource.open(blank);
  try {
    const slide = await openSlide([src]);
    const label = slide.images.find((i) => i.role === 'label')!;
    const px = await imageRgba(slide, label, decodeJpegNode, Math.ceil(Math.max(label.width, label.height) / 3));
    assert.deepEqual([px.width, px.height], [Math.ceil(label.width / 3), Math.ceil(label.height / 3)]);
    const grey = (246 * 77 + 244 * 151 + 238 * 28) >> 8; // the label's paper colour
    assert.ok(px.data.every((v, i) => (i % 4 === 3 ? v === 255 : v === grey)), 'uniform grey');
  } finally {
    await src.close();
  }
});

test('cancelled: an aborted signal stops the search with ABORTED', async () => {
  const path = join(tmp.dir, 'abort.svs');
  await writeSvsWithBarcode(path, { text: TEXT, symbology: 'qr', where: 'label' });
  await assert.rejects(scanFiles([path], { signal: AbortSignal.abort() }), (e: unknown) => e instanceof SlideError && e.code === 'ABORTED');
});

test('no network: the reader loaded its .wasm from node_modules, never from a CDN', () => {
  assert.deepEqual(fetched, []);
});
