/**
 * Philips TIFF driver (issue 12): generated slides (test/fixtures/vendors/philips-tiff.ts) are
 * inspected, redacted with Auto redact and checked by independent oracles — OpenSlide 3.4.1
 * (vendor "philips", same levels, MPP, identical pixels, no label/macro), libtiff's tiffinfo and a
 * byte search for every planted value (as written, and the barcode behind its base64). Broken
 * variants are refused with the expected code and never handed to the generic TIFF driver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import type { RedactionRequest } from '../../src/engine/redact/plan-types.ts';
import type { Slide } from '../../src/engine/formats/slide-format.ts';
import { parsePhilipsXml, parseSpacing } from '../../src/engine/formats/philips/philips-xml.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { generatePhilips, type PhilipsBreak, type PhilipsGenOptions } from '../fixtures/vendors/philips-tiff.ts';
import { loadJpegTiles, makeTmpDir, repoRoot, writeLayoutFile } from '../fixtures/node-fixtures.ts';

const run = promisify(execFile);

async function withSlide(o: PhilipsGenOptions, body: (s: { slide: Slide; inPath: string; dir: string; g: ReturnType<typeof generatePhilips> }) => Promise<void>): Promise<void> {
  const tmp = await makeTmpDir('philips-');
  try {
    const g = generatePhilips(o, await loadJpegTiles());
    const inPath = join(tmp.dir, 'slide.tiff');
    await writeLayoutFile(inPath, g.layout);
    const src = await NodeFileSource.open(inPath);
    try {
      await body({ slide: await openSlide([src]), inPath, dir: tmp.dir, g });
    } finally {
      await src.close();
    }
  } finally {
    await tmp.cleanup();
  }
}

interface Oracle {
  input: { vendor: string; levels: number[][]; mpp: string[]; associated: string[] };
  output: { vendor: string; levels: number[][]; mpp: string[]; associated: string[] };
  pixelsEqual: (boolean | string)[];
}

async function openslide(inPath: string, outPath: string): Promise<Oracle> {
  const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), inPath, outPath], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as Oracle;
}

/** Redact, then check the output with every oracle; returns the output path and OpenSlide's view. */
async function redactAndCheck(slide: Slide, inPath: string, dir: string, g: ReturnType<typeof generatePhilips>, request: RedactionRequest): Promise<{ outPath: string; o: Oracle; keptImages: number }> {
  const report = await redactSlide(slide, request, new NodeDirTarget(join(dir, 'out')), { hasher: nodeSha256 });
  assert.ok(report.verify.ok, report.verify.problems.join('; '));
  assert.ok(report.sweep.ok && report.sweep.valuesSearched > 10);
  const outPath = join(dir, 'out', 'slide.tiff');
  const [input, out] = [await readFile(inPath), await readFile(outPath)];
  assert.equal(out.length, input.length, 'nothing moves: same size');
  for (const v of [...g.phi, ...g.decoded]) {
    if (!request.removeFields.length) continue;
    assert.equal(out.indexOf(Buffer.from(v, 'latin1')), -1, `a removed value (${v.length} bytes) is still in the output`);
  }
  const ti = await run('tiffinfo', [outPath]);
  assert.doesNotMatch(ti.stderr, /error/i);
  const keptIfds = slide.images.filter((i) => i.id.startsWith('ifd-') && !report.removedImages.some((r) => r.id === i.id)).length;
  assert.equal((ti.stdout.match(/TIFF Directory at offset/g) ?? []).length, keptIfds);
  await run('tiffinfo', ['-D', outPath], { maxBuffer: 64 << 20 });
  const o = await openslide(inPath, outPath);
  assert.equal(o.input.vendor, 'philips');
  assert.equal(o.output.vendor, 'philips');
  assert.deepEqual(o.output.levels, o.input.levels);
  assert.deepEqual(o.output.mpp, o.input.mpp);
  assert.ok(o.pixelsEqual.every((x) => x === true || x === 'unstable'), JSON.stringify(o.pixelsEqual));
  assert.equal(o.pixelsEqual[0], true);
  return { outPath, o, keptImages: slide.images.length - report.removedImages.length };
}

for (const [title, opts] of [
  ['classic TIFF, label and macro as IFDs and in the XML', {}],
  ['BigTIFF, label and macro only in the XML (base64 JPEG), XML > 64 KiB', { bigTiff: true, ifdAssociated: false, xmlPadding: 80_000 }],
  ['no label or macro anywhere, 4 levels', { ifdAssociated: false, xmlAssociated: false, levels: 4 }],
] as [string, PhilipsGenOptions][]) {
  test(`Philips TIFF: ${title}: inspected, Auto redact verified by OpenSlide, tiffinfo and sweep`, async () => {
    await withSlide(opts, async ({ slide, inPath, dir, g }) => {
      assert.equal(slide.format, 'philips-tiff');
      const levels = slide.images.filter((i) => i.role === 'level').sort((a, b) => a.level! - b.level!);
      assert.deepEqual(levels.map((l) => [l.width, l.height]), g.levels.map((l) => [l.width, l.height]));
      assert.deepEqual(slide.mpp && [slide.mpp.x, slide.mpp.y], [0.25, 0.25]);
      const assoc = (opts.ifdAssociated ?? true ? 1 : 0) + (opts.xmlAssociated ?? true ? 1 : 0);
      assert.equal(slide.images.filter((i) => i.role === 'label').length, assoc);
      assert.equal(slide.images.filter((i) => i.role === 'overview').length, assoc);
      const critical = slide.fields.filter((f) => f.class === 'critical').map((f) => f.id).sort();
      assert.deepEqual(critical, ['philips:DICOM_PIXEL_SPACING', 'philips:PIM_DP_IMAGE_TYPE', 'philips:PixelDataRepresentation.DICOM_PIXEL_SPACING']);
      if (opts.xmlPadding) assert.ok(g.xml.length > 100_000);
      const phi = new Set(slide.fields.filter((f) => f.class === 'phi').map((f) => f.id));
      for (const id of ['philips:DICOM_PATIENT_NAME', 'philips:PIM_DP_UFS_BARCODE', 'philips:DICOM_ACQUISITION_DATETIME', 'philips:DICOM_DEVICE_SERIAL_NUMBER',
        'philips:DICOM_SOFTWARE_VERSIONS', 'philips:PIM_DP_STUDY_NOTES', 'philips:xml-comment', 'philips:xml-attribute', 'philips:xml-text',
        'philips:PixelDataRepresentation.PIIM_REP_NOTE', 'philips:software', 'tiff:306']) assert.ok(phi.has(id), id);
      // The barcode is shown decoded; no message or field id carries a planted value.
      assert.equal(slide.fields.find((f) => f.id === 'philips:PIM_DP_UFS_BARCODE')!.value, g.decoded[0]);
      if (opts.xmlAssociated ?? true) {
        const label = slide.images.find((i) => i.id.startsWith('xml-label'))!;
        const t = await slide.readTile(label.id, 0, 0);
        assert.equal(t.codec, 'image/jpeg');
        assert.deepEqual(t.bytes, g.labelJpeg);
        assert.deepEqual([t.width, t.height, label.width, label.height], [240, 240, 240, 240]);
      }
      const { outPath, o } = await redactAndCheck(slide, inPath, dir, g, defaultRequest(slide));
      if (assoc > 0) assert.deepEqual(o.input.associated, ['label', 'macro']);
      assert.deepEqual(o.output.associated, []);
      const src = await NodeFileSource.open(outPath);
      try {
        const again = await openSlide([src]);
        assert.equal(again.format, 'philips-tiff');
        assert.deepEqual(again.fields.filter((f) => f.class === 'phi').map((f) => f.id), []);
        assert.ok(!again.images.some((i) => i.role === 'label' || i.role === 'overview'));
        assert.deepEqual(again.mpp && [again.mpp.x, again.mpp.y], [0.25, 0.25]);
      } finally {
        await src.close();
      }
    });
  });
}

test('Philips TIFF: keeping the XML label keeps its DataObject (and only that); OpenSlide still finds it', async () => {
  await withSlide({ ifdAssociated: false }, async ({ slide, inPath, dir, g }) => {
    const label = slide.images.find((i) => i.role === 'label')!;
    const request = defaultRequest(slide);
    request.removeImages = request.removeImages.filter((id) => id !== label.id);
    const { outPath, o } = await redactAndCheck(slide, inPath, dir, { ...g, phi: g.phi.filter((v) => !v.startsWith('20240314112201')) }, request);
    assert.deepEqual(o.output.associated, ['label']);
    const src = await NodeFileSource.open(outPath);
    try {
      const again = await openSlide([src]);
      assert.deepEqual(again.images.filter((i) => i.role === 'label').map((i) => [i.width, i.height]), [[240, 240]]);
      assert.deepEqual((await again.readTile(again.images.find((i) => i.role === 'label')!.id, 0, 0)).bytes, g.labelJpeg);
      assert.ok(!again.images.some((i) => i.role === 'overview'));
    } finally {
      await src.close();
    }
  });
});

test('Philips TIFF: a pixel spacing cannot be removed', async () => {
  await withSlide({}, async ({ slide }) => {
    await assert.rejects(slide.plan({ removeFields: ['philips:PixelDataRepresentation.DICOM_PIXEL_SPACING'], removeImages: [] }), (e: unknown) => e instanceof SlideError && e.code === 'BAD_REQUEST');
  });
});

const broken: [PhilipsBreak, string, RegExp][] = [
  ['no-description', 'UNSUPPORTED', /without its XML/],
  ['malformed-xml', 'CORRUPT', /not well-formed XML/],
  ['bad-root', 'UNSUPPORTED', /not a Philips DPUfsImport/],
  ['no-representation', 'UNSUPPORTED', /PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE/],
  ['level-mismatch', 'UNSUPPORTED', /3 levels but pixel spacing for 2/],
  ['two-wsi', 'UNSUPPORTED', /2 whole-slide images/],
  ['bad-spacing', 'CORRUPT', /DICOM_PIXEL_SPACING that cannot be read/],
  ['no-software', 'UNSUPPORTED', /Software tag/],
  ['doctype', 'UNSUPPORTED', /DOCTYPE/],
  ['ambiguous-type', 'UNSUPPORTED', /ambiguous/],
  ['not-reduced', 'UNSUPPORTED', /not marked reduced-resolution/],
];
for (const [kind, code, message] of broken) {
  test(`Philips TIFF broken (${kind}): refused with ${code}, not read as generic TIFF`, async () => {
    const tmp = await makeTmpDir('philips-');
    try {
      const g = generatePhilips({ break: kind }, await loadJpegTiles());
      const inPath = join(tmp.dir, 'slide.tiff');
      await writeLayoutFile(inPath, g.layout);
      const src = await NodeFileSource.open(inPath);
      try {
        await assert.rejects(openSlide([src]), (e: unknown) => {
          assert.ok(e instanceof SlideError, String(e));
          assert.equal(e.code, code, e.message);
          assert.match(e.message, message);
          for (const v of g.phi) assert.ok(!e.message.includes(v), 'the message holds no metadata value');
          return true;
        });
      } finally {
        await src.close();
      }
    } finally {
      await tmp.cleanup();
    }
  });
}

test('Philips XML: parts, rebuild and spacing parse', () => {
  assert.deepEqual(parseSpacing('"0.000227273" "0.000227273"'), { x: 0.000227273, y: 0.000227273 });
  assert.deepEqual(parseSpacing('"0.0005" "0.00025"'), { x: 0.00025, y: 0.0005 }, 'row spacing first');
  assert.equal(parseSpacing('"0.1"  "0.1"'), undefined, 'OpenSlide splits on one space');
  assert.equal(parseSpacing('"x" "0.1"'), undefined);
  const src = `<?xml version="1.0"?><DataObject ObjectType="DPUfsImport"><Attribute Name="DICOM_PATIENT_NAME" PMSVR="IString">A^B</Attribute><Attribute Name="PIM_DP_SCANNED_IMAGES"><Array><DataObject ObjectType="DPScannedImage"><Attribute Name="PIM_DP_IMAGE_TYPE">WSI</Attribute><Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE"><Array><DataObject ObjectType="PixelDataRepresentation"><Attribute Name="DICOM_PIXEL_SPACING">"0.00025" "0.00025"</Attribute><Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_COLUMNS">John</Attribute></DataObject></Array></Attribute></DataObject></Array></Attribute></DataObject>`;
  const x = parsePhilipsXml(src);
  const byId = new Map(x.parts.map((p, i) => [p.id, { ...p, i }]));
  assert.equal(byId.get('philips:DICOM_PATIENT_NAME')!.class, 'phi');
  assert.equal(byId.get('philips:PixelDataRepresentation.PIIM_PIXEL_DATA_REPRESENTATION_COLUMNS')!.class, 'phi', 'a listed name with free text is identifying');
  const out = new TextDecoder().decode(x.rebuild((i) => x.parts[i]!.class !== 'phi'));
  assert.ok(out.length < src.length);
  assert.ok(!out.includes('A^B') && !out.includes('John'));
  assert.deepEqual(parsePhilipsXml(out).levelSpacings, [{ x: 0.00025, y: 0.00025 }]);
  assert.equal(new TextDecoder().decode(x.rebuild(() => true)), src, 'keeping everything changes nothing');
});
