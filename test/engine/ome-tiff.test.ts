/**
 * OME-TIFF with SubIFD pyramids: generated files (test/fixtures/vendors/ome-tiff.ts) are inspected,
 * redacted with Auto redact and checked against independent oracles: tifffile (reads the OME
 * series and its SubIFD levels; tile offsets and bytes per level), libtiff's tiffinfo, OpenSlide
 * (reads OME-TIFF as generic TIFF: level 0 pixels), a byte search for every planted value, and
 * the output re-opened by our own driver. Broken and unsupported variants must be refused with
 * the expected code.
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
import { parseOmeXml } from '../../src/engine/formats/ome/ome-xml.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { latin1 } from '../../src/shared/bytes.ts';
import { loadJpegTiles, makeTmpDir, repoRoot, writeLayoutFile } from '../fixtures/node-fixtures.ts';
import { generateOmeTiff, type OmeGenOptions } from '../fixtures/vendors/ome-tiff.ts';

const run = promisify(execFile);

/** tifffile's view: OME series, level shapes, and per level the tile offsets/byte counts. */
const TIFFFILE = `
import json, sys, tifffile
out = []
for path in sys.argv[1:]:
    with tifffile.TiffFile(path) as t:
        s = t.series[0]
        levels = []
        for lv in s.levels:
            p = lv.pages[0] if hasattr(lv, 'pages') else lv.keyframe
            levels.append({"shape": list(lv.shape), "offsets": list(p.dataoffsets), "counts": list(p.databytecounts)})
        md = tifffile.xml2dict(t.ome_metadata) if t.is_ome else None
        px = md["OME"]["Image"]["Pixels"] if md and isinstance(md["OME"]["Image"], dict) else (md["OME"]["Image"][0]["Pixels"] if md else None)
        out.append({"ome": t.is_ome, "series": len(t.series), "levels": levels,
                    "physicalSizeX": px.get("PhysicalSizeX") if px else None, "pages": len(t.pages)})
print(json.dumps(out))
`;

async function tifffileView(...paths: string[]): Promise<{ ome: boolean; series: number; levels: { shape: number[]; offsets: number[]; counts: number[] }[]; physicalSizeX: number | null; pages: number }[]> {
  const { stdout } = await run('/usr/bin/python3', ['-c', TIFFFILE, ...paths], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}

async function generate(dir: string, name: string, o: OmeGenOptions) {
  const g = generateOmeTiff(o, await loadJpegTiles());
  const path = join(dir, name);
  await writeLayoutFile(path, g.layout);
  return { ...g, path };
}

const EXPECTED_PHI = [
  'ome:OME@UUID', 'ome:OME@Creator', 'ome:comment', 'ome:OME/Instrument', 'ome:OME/Experimenter', 'ome:Image@Name',
  'ome:Image/AcquisitionDate', 'ome:Image/ExperimenterRef', 'ome:Image/Description', 'ome:Image/InstrumentRef',
  'ome:unknown-element', 'ome:unknown-attribute', 'ome:Channel@Name', 'ome:Channel/LightPath', 'ome:TiffData/UUID',
  'ome:Pixels/Plane', 'ome:OME/StructuredAnnotations', 'ome:Image (label)', 'ome:Image (macro)', 'tiff:306', 'tiff:305', 'tiff:65001',
].sort();

for (const variant of [
  { title: 'classic LE, QuPath names', o: { phi: true, label: true, macro: true } },
  { title: 'BigTIFF BE, Bio-Formats names, nm unit', o: { phi: true, label: true, macro: true, bigTiff: true, bigEndian: true, associatedNames: 'bioformats', unit: 'nm' } },
] as { title: string; o: OmeGenOptions }[]) {
  test(`OME-TIFF SubIFD pyramid, ${variant.title}: inspect, Auto redact, oracles`, async () => {
    const tmp = await makeTmpDir();
    try {
      const g = await generate(tmp.dir, 'input.ome.tif', variant.o);
      const src = await NodeFileSource.open(g.path);
      try {
        const slide = await openSlide([src]);
        assert.equal(slide.format, 'ome-tiff');
        const levels = slide.images.filter((i) => i.role === 'level').sort((a, b) => a.level! - b.level!);
        assert.deepEqual(levels.map((l) => [l.width, l.height]), g.levels.map((l) => [l.width, l.height]));
        const roles: Record<string, number> = {};
        for (const i of slide.images) roles[i.role] = (roles[i.role] ?? 0) + 1;
        assert.deepEqual(roles, { level: 3, label: 1, overview: 1 });
        assert.ok(slide.mpp && Math.abs(slide.mpp.x - g.mpp) < 1e-9 && Math.abs(slide.mpp.y - g.mpp) < 1e-9, JSON.stringify(slide.mpp));
        assert.deepEqual(slide.fields.filter((f) => f.class === 'phi').map((f) => f.id).sort(), EXPECTED_PHI);
        assert.deepEqual(slide.fields.filter((f) => f.class === 'critical').map((f) => f.id).sort(), ['ome:Pixels@PhysicalSizeX', 'ome:Pixels@PhysicalSizeY', 'tiff:282', 'tiff:283', 'tiff:296']);
        // The viewer reads SubIFD level tiles.
        const top = levels[2]!;
        const tile = await slide.readTile(slide.images.find((i) => i.width === top.width && i.role === 'level')!.id, 0, 0);
        assert.equal(tile.codec, 'image/jpeg');

        const outDir = join(tmp.dir, 'out');
        const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(outDir), { hasher: nodeSha256 });
        assert.ok(report.verify.ok && report.sweep.ok);
        assert.deepEqual(report.removedImages.map((i) => i.role).sort(), ['label', 'overview']);
        const outPath = join(outDir, 'input.ome.tif');
        const [input, out] = [await readFile(g.path), await readFile(outPath)];
        assert.equal(out.length, input.length);
        for (const v of g.phi) {
          assert.ok(input.includes(Buffer.from(v, 'utf8')), `case sanity: planted value of ${v.length} chars is in the input`);
          assert.equal(out.indexOf(Buffer.from(v, 'utf8')), -1, `a removed value (${v.length} chars) is still in the output`);
        }

        // tifffile: one OME series, same SubIFD levels, same tiles at the same offsets, same bytes.
        const [ti, to] = await tifffileView(g.path, outPath);
        assert.ok(ti!.ome && to!.ome, 'tifffile sees OME-XML in both');
        assert.equal(to!.series, 1, 'label/macro series are gone');
        assert.equal(to!.pages, 1, 'one main-chain page left');
        assert.equal(to!.levels.length, 3);
        assert.deepEqual(to!.levels.map((l) => l.shape), ti!.levels.map((l) => l.shape));
        assert.equal(Number(to!.physicalSizeX), Number(ti!.physicalSizeX));
        for (const [k, lv] of to!.levels.entries()) {
          assert.deepEqual(lv.offsets, ti!.levels[k]!.offsets, `level ${k} tiles at the same offsets`);
          assert.deepEqual(lv.counts, ti!.levels[k]!.counts);
          for (const [i, off] of lv.offsets.entries()) {
            assert.ok(out.subarray(off, off + lv.counts[i]!).equals(input.subarray(off, off + lv.counts[i]!)), `level ${k} tile ${i} bytes identical`);
          }
        }
        // libtiff reads the output, SubIFDs included.
        const info = await run('tiffinfo', [outPath], { maxBuffer: 64 << 20 });
        assert.doesNotMatch(info.stderr, /error/i);
        // OpenSlide 3.4.1 reads OME-TIFF as generic TIFF (main chain only): same level 0 pixels.
        const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), g.path, outPath], { maxBuffer: 64 << 20 });
        const o = JSON.parse(stdout);
        assert.equal(o.input.vendor, 'generic-tiff');
        assert.equal(o.output.vendor, 'generic-tiff');
        assert.deepEqual(o.output.levels, o.input.levels);
        assert.equal(o.pixelsEqual[0], true);

        // The output re-opened by our driver: same pyramid, nothing identifying, MPP kept.
        const outSrc = await NodeFileSource.open(outPath);
        try {
          const again = await openSlide([outSrc]);
          assert.equal(again.format, 'ome-tiff');
          assert.deepEqual(again.fields.filter((f) => f.class === 'phi').map((f) => f.id), []);
          assert.deepEqual(again.images.filter((i) => i.role === 'level').map((i) => [i.width, i.height]), levels.map((l) => [l.width, l.height]));
          assert.equal(again.images.length, 3);
          assert.deepEqual(again.mpp && [again.mpp.x, again.mpp.y], [slide.mpp.x, slide.mpp.y]);
        } finally {
          await outSrc.close();
        }
      } finally {
        await src.close();
      }
    } finally {
      await tmp.cleanup();
    }
  });
}

test('OME-XML rebuild: keep-all is the source, Auto keeps only the pixel description', async () => {
  const g = generateOmeTiff({ phi: true, label: true }, await loadJpegTiles());
  const descPiece = g.layout.pieces.map((p) => latin1(p.bytes)).find((t) => t.startsWith('<?xml'))!;
  const source = descPiece.replace(/\0+$/, '');
  const { text, images } = parseOmeXml(source);
  assert.equal(images.length, 2);
  assert.equal(latin1(text.rebuild(() => true)), source);
  const kept = latin1(text.rebuild((i) => text.parts[i]!.class !== 'phi'));
  const again = parseOmeXml(kept);
  assert.deepEqual(again.text.parts.map((p) => p.class), ['critical', 'critical']);
  assert.equal(again.images.length, 1);
  assert.match(kept, /<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" SizeX="\d+" SizeY="\d+" SizeZ="1" SizeC="3" SizeT="1" Interleaved="true" PhysicalSizeX/);
  assert.match(kept, /<TiffData IFD="0" PlaneCount="1"><\/TiffData>/);
  for (const v of g.phi) assert.ok(!Buffer.from(kept, 'latin1').includes(Buffer.from(v, 'utf8')));
});

const broken: { variant: OmeGenOptions['variant']; code: string; message: RegExp }[] = [
  { variant: 'two-z-planes', code: 'UNSUPPORTED', message: /several Z, channel or time planes/ },
  { variant: 'two-series', code: 'UNSUPPORTED', message: /2 image series/ },
  { variant: 'doctype', code: 'UNSUPPORTED', message: /DOCTYPE/ },
  { variant: 'malformed-xml', code: 'CORRUPT', message: /not well-formed XML/ },
  { variant: 'ifd-out-of-range', code: 'CORRUPT', message: /image directory 9/ },
  { variant: 'bin-data', code: 'UNSUPPORTED', message: /BinData/ },
  { variant: 'companion', code: 'UNSUPPORTED', message: /companion file/ },
  { variant: 'stripped-level0', code: 'UNSUPPORTED', message: /not tiled/ },
  { variant: 'bad-size-value', code: 'UNSUPPORTED', message: /unexpected value in Pixels SizeX/ },
  { variant: 'level-larger', code: 'CORRUPT', message: /not smaller/ },
];
for (const b of broken) {
  test(`OME-TIFF ${b.variant}: refused with ${b.code}`, async () => {
    const tmp = await makeTmpDir();
    try {
      const g = await generate(tmp.dir, 'input.ome.tif', { phi: true, label: true, variant: b.variant });
      const src = await NodeFileSource.open(g.path);
      try {
        await assert.rejects(openSlide([src]), (e: unknown) => {
          assert.ok(e instanceof SlideError, String(e));
          assert.equal(e.code, b.code, e.message);
          assert.match(e.message, b.message);
          assert.match(e.message, /^input/);
          for (const v of g.phi) assert.ok(!e.message.includes(v), 'no metadata value in the message');
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
