/**
 * A multi-GiB Hamamatsu NDPI with REAL level-0 data for the benchmarks (the fixture generator's
 * `sparse` NDPI puts a hole before small levels, so redacting it measures zero-filling, not
 * copying tile data). Level 0 is one JPEG strip with restart markers like NDP.scan writes: a
 * template band (cjpeg -restart, 512-px intervals, 768 intervals — a multiple of 8, so the
 * RST0–7 sequence of every band is identical) is repeated band after band into one valid JPEG of
 * the requested size, McuStarts listing every interval. Then a small level 1 with restart
 * markers, a macro (SourceLens −1), and the directories last with their values just before them
 * and one 32-bit high word per entry after each (NDPI's 64-bit extension), identifying values
 * planted in DateTime and the NDPI text tags.
 */
import { execFileSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { mcuStarts } from '../fixtures/vendors/ndpi.ts';

const MiB = 1024 * 1024;
const INTERVAL_BLOCKS = 64; // × 8-px MCUs (-sample 1x1): 512-px intervals
const BAND_WIDTH = 96 * 512;
const BAND_HEIGHT = 64;

export const LARGE_NDPI_PHI = ['2022:05:06 07:08:09', 'SN-BENCH-440021', 'LABEL-BENCH JOHN DOE', 'Created=2022/05/06'];

function noise(w: number, h: number, seed: number): Buffer {
  const head = Buffer.from(`P6\n${w} ${h}\n255\n`, 'latin1');
  const px = Buffer.alloc(w * h * 3);
  let s = seed >>> 0;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Noise over a gradient: compresses like tissue (a few bits per pixel), not like flat glass.
    px[i] = ((s >>> 26) + ((i / 3) % w) * 200 / w + (i % 3) * 20) & 255;
  }
  return Buffer.concat([head, px]);
}

function cjpeg(w: number, h: number, seed: number, restartBlocks: number): Buffer {
  const args = ['-quality', '85', '-sample', '1x1', ...(restartBlocks ? ['-restart', `${restartBlocks}B`] : [])];
  return execFileSync('cjpeg', args, { input: noise(w, h, seed), maxBuffer: 1 << 29 });
}

/** Offset of the SOF0 segment's height field. */
function sofHeightAt(jpeg: Uint8Array): number {
  let p = 2;
  while (!(jpeg[p] === 0xff && jpeg[p + 1] === 0xc0)) {
    if (jpeg[p] !== 0xff || jpeg[p + 1] === 0xda) throw new Error('template JPEG has no SOF0 before SOS');
    p += 2 + ((jpeg[p + 2]! << 8) | jpeg[p + 3]!);
  }
  return p + 5;
}

type Value = { type: number; count: number; bytes: Uint8Array };
const u16s = (...v: number[]): Uint8Array => { const b = Buffer.alloc(2 * v.length); v.forEach((x, i) => b.writeUInt16LE(x, 2 * i)); return b; };
const u32s = (...v: number[]): Uint8Array => { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeUInt32LE(x, 4 * i)); return b; };
const ascii = (s: string): Value => { const b = Buffer.from(s + '\0', 'latin1'); return { type: 2, count: b.length, bytes: b }; };
const long = (v: number): Value => ({ type: 4, count: 1, bytes: u32s(v) });
const slong = (v: number): Value => { const b = Buffer.alloc(4); b.writeInt32LE(v); return { type: 9, count: 1, bytes: b }; };
const short = (...v: number[]): Value => ({ type: 3, count: v.length, bytes: u16s(...v) });

export interface LargeNdpi {
  size: number;
  width: number;
  height: number;
  /** Bytes of level-0 JPEG data (kept by a redaction). */
  level0Bytes: number;
}

/** Write an NDPI of about `targetBytes` (below 4 GiB: McuStarts and StripByteCounts are 32-bit). */
export async function writeLargeNdpi(path: string, targetBytes: number): Promise<LargeNdpi> {
  const template = cjpeg(BAND_WIDTH, BAND_HEIGHT, 1, INTERVAL_BLOCKS);
  const starts = mcuStarts(template);
  const perBand = (BAND_WIDTH / 512) * (BAND_HEIGHT / 8);
  if (starts.length !== perBand || perBand % 8 !== 0) throw new Error(`template has ${starts.length} intervals`);
  const headerLength = starts[0]!;
  const entropy = template.subarray(headerLength, template.length - 2); // up to EOI
  const band = Buffer.concat([entropy, Buffer.from([0xff, 0xd0 + ((perBand - 1) % 8)])]); // RSTn continues the cycle
  const bands = Math.max(2, Math.min(Math.floor(65500 / BAND_HEIGHT), Math.round(targetBytes / band.length)));
  const width = BAND_WIDTH, height = bands * BAND_HEIGHT;
  const header = Buffer.from(template.subarray(0, headerLength));
  header.writeUInt16BE(height, sofHeightAt(header));
  const level0Bytes = headerLength + bands * band.length; // the last RST becomes EOI
  if (level0Bytes >= 2 ** 32) throw new Error('level 0 must stay below 4 GiB');

  const fh = await open(path, 'w');
  let pos = 16;
  const put = async (bytes: Uint8Array): Promise<number> => {
    const at = pos;
    await fh.write(bytes, 0, bytes.length, at);
    pos += bytes.length + (bytes.length % 2);
    return at;
  };
  try {
    // Level 0: the header, then the band repeated, written in ~64 MiB runs.
    const strip0 = await put(header);
    const perRun = Math.max(1, Math.floor(64 * MiB / band.length));
    const run = Buffer.concat(Array.from({ length: perRun }, () => band));
    let at = strip0 + headerLength;
    for (let left = bands; left > 0; left -= perRun) {
      const n = Math.min(left, perRun);
      const last = left <= perRun;
      const bytes = run.subarray(0, n * band.length);
      if (last) bytes.writeUInt16BE(0xffd9, bytes.length - 2); // EOI instead of the last RSTn
      await fh.write(bytes, 0, bytes.length, at);
      at += bytes.length;
    }
    pos = at + (at % 2);
    const rel = starts.map((s) => s - headerLength);
    const table = Buffer.alloc(4 * perBand * bands);
    for (let b = 0; b < bands; b++) for (let k = 0; k < perBand; k++) table.writeUInt32LE(headerLength + b * band.length + rel[k]!, 4 * (b * perBand + k));

    const l1w = width / 64, l1h = Math.ceil(height / 64);
    const level1 = cjpeg(l1w, l1h, 2, 8);
    const macro = cjpeg(640, 240, 3, 0);
    const strip1 = await put(level1);
    const stripM = await put(macro);

    const common = (lens: number): [number, Value][] => [
      [271, ascii('Hamamatsu')], [272, ascii('C13210-01')], [305, ascii('NDP.scan 3.3.7')], [306, ascii(LARGE_NDPI_PHI[0]!)],
      [65420, short(1)], [65421, { type: 11, count: 1, bytes: new Uint8Array(new Float32Array([lens]).buffer) }],
      [65422, slong(0)], [65423, slong(0)], ...(lens > 0 ? [[65424, slong(0)] as [number, Value]] : []),
      [65427, ascii(LARGE_NDPI_PHI[2]!)], [65442, ascii(LARGE_NDPI_PHI[1]!)],
      [65449, ascii(`${LARGE_NDPI_PHI[3]}\r\nProduct=C13210-01\r\n`)],
    ];
    const images: { w: number; h: number; strip: number; length: number; lens: number; mcu?: Uint8Array; ppcm: number }[] = [
      { w: width, h: height, strip: strip0, length: level0Bytes, lens: 40, mcu: table, ppcm: 40000 },
      { w: l1w, h: l1h, strip: strip1, length: level1.length, lens: 40 / 64, mcu: u32s(...mcuStarts(level1)), ppcm: 40000 / 64 },
      { w: 640, h: 240, strip: stripM, length: macro.length, lens: -1, ppcm: 1000 },
    ];
    const ifdAt: number[] = [];
    const nextFields: number[] = [];
    for (const img of images) {
      const entries: [number, Value][] = [
        [256, long(img.w)], [257, long(img.h)], [258, short(8, 8, 8)], [259, short(7)], [262, short(6)],
        [273, long(0)], [277, short(3)], [278, long(img.h)], [279, long(img.length)],
        [282, { type: 5, count: 1, bytes: u32s(img.ppcm, 1) }], [283, { type: 5, count: 1, bytes: u32s(img.ppcm, 1) }],
        [296, short(3)], [530, short(1, 1)],
        ...common(img.lens),
        ...(img.mcu ? [[65426, { type: 4, count: img.mcu.length / 4, bytes: img.mcu }] as [number, Value]] : []),
      ];
      entries.sort((a, b) => a[0] - b[0]);
      const valueAt = new Map<number, number>();
      for (const [tag, v] of entries) if (v.bytes.length > 4) valueAt.set(tag, await put(v.bytes));
      const n = entries.length;
      const block = Buffer.alloc(2 + 12 * n + 8 + 4 * n);
      block.writeUInt16LE(n, 0);
      entries.forEach(([tag, v], i) => {
        const p = 2 + 12 * i;
        block.writeUInt16LE(tag, p);
        block.writeUInt16LE(v.type, p + 2);
        block.writeUInt32LE(v.count, p + 4);
        const off = tag === 273 ? img.strip : valueAt.get(tag);
        if (off === undefined) Buffer.from(v.bytes).copy(block, p + 8);
        else {
          block.writeUInt32LE(off % 2 ** 32, p + 8);
          block.writeUInt32LE(Math.floor(off / 2 ** 32), 2 + 12 * n + 8 + 4 * i); // NDPI high word
        }
      });
      const at = await put(block);
      ifdAt.push(at);
      nextFields.push(at + 2 + 12 * n);
    }
    for (let i = 0; i + 1 < ifdAt.length; i++) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(ifdAt[i + 1]!));
      await fh.write(b, 0, 8, nextFields[i]!);
    }
    const head = Buffer.alloc(12);
    head.write('II', 0, 'latin1');
    head.writeUInt16LE(42, 2);
    head.writeBigUInt64LE(BigInt(ifdAt[0]!), 4);
    await fh.write(head, 0, 12, 0);
    await fh.truncate(pos);
  } finally {
    await fh.close();
  }
  return { size: pos, width, height, level0Bytes };
}
