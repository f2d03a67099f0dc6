/**
 * Malformed DICOM found by the fuzzer (test/fuzz/regressions): every parse failure is a SlideError
 * naming the file (a file cut just after the (0002,0000) header made dicom-parser throw a plain
 * string, reported as INTERNAL); a standard element whose VR contradicts the dictionary (the
 * Specimen Description Sequence stored as OW, OB, UT or UN) is opaque — removed, and the file
 * refused when the WSI IOD needs it with a value — and the output check refuses one; a refusal never
 * repeats a SOP class "UID" that is not a well-formed UID.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSlide } from '../../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../../src/engine/redact/redact.ts';
import { NodeDirTarget, nodeSha256 } from '../../../src/engine/io/node/dir-target.ts';
import { BufferSource } from '../../../src/engine/io/buffer-source.ts';
import type { DicomSlide } from '../../../src/engine/dicom/dicom-slide.ts';
import type { DicomDataset, DicomElement } from '../../../src/engine/dicom/dataset.ts';
import { findElement, setElement, textElement, textOf } from '../../../src/engine/dicom/dataset.ts';
import { decide } from '../../../src/engine/dicom/deid-profile.ts';
import { vrContradicts } from '../../../src/engine/dicom/dictionary.ts';
import { groupDicomInstances } from '../../../src/engine/dicom/group.ts';
import { readFileMeta, readPart10Header } from '../../../src/engine/dicom/part10.ts';
import { walkPixelData } from '../../../src/engine/dicom/pixel-data.ts';
import { encodeDataset, encodeFileMeta, encodePixelDataHeader } from '../../../src/engine/dicom/writer.ts';
import { verifyDicomOutput } from '../../../src/engine/dicom/verify-output.ts';
import { SlideError } from '../../../src/shared/errors.ts';
import { cleanupGenerated, generateSeries, seriesFiles } from '../../fixtures/dicom/generate.ts';
import { bufferIncludes } from './support.ts';

const KEY = 'c0ffee'.repeat(10) + 'abcd';
const NAME = 'slide.dcm';
const work = mkdtempSync(path.join(tmpdir(), 'wsi-dicom-malformed-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  cleanupGenerated();
});

let baseBytes: Uint8Array | undefined;
function base(): Uint8Array {
  baseBytes ??= new Uint8Array(readFileSync(seriesFiles(generateSeries('full-native')).find((f) => path.basename(f) === 'level0.dcm')!));
  return baseBytes.slice();
}

function latin1(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

function isNamedRefusal(e: unknown, name: string, codes: RegExp): boolean {
  return e instanceof SlideError && codes.test(e.code) && e.message.startsWith(`${name}:`);
}

/** Rebuild an instance from a changed header tree with the engine's writer, pixel data as is. */
async function rebuild(bytes: Uint8Array, change: (ds: DicomDataset) => void): Promise<Uint8Array> {
  const src = new BufferSource(bytes, NAME);
  const h = await readPart10Header(src);
  const layout = await walkPixelData(src, h.pixel);
  change(h.dataset);
  return new Uint8Array(Buffer.concat([
    encodeFileMeta(textOf(findElement(h.meta, '00020002'))!, textOf(findElement(h.meta, '00020003'))!, h.transferSyntax),
    encodeDataset(h.dataset),
    encodePixelDataHeader(h.pixel.vr, layout.encapsulated ? 'undefined' : layout.valueLength),
    bytes.subarray(layout.valueOffset, layout.valueOffset + layout.valueLength),
  ]));
}

/** The value bytes of a sequence as the writer encodes it (explicit VR): its items, no element header. */
function explicitItems(el: DicomElement): Uint8Array {
  return encodeDataset([el]).subarray(12);
}

/** The same items in implicit VR little endian with defined lengths (PS3.5 6.2.2: a UN sequence). */
function implicitItems(items: DicomDataset[]): Uint8Array {
  const parts: Buffer[] = [];
  const header = (tag: string, length: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(parseInt(tag.slice(0, 4), 16), 0);
    b.writeUInt16LE(parseInt(tag.slice(4), 16), 2);
    b.writeUInt32LE(length, 4);
    return b;
  };
  for (const item of items) {
    const body: Buffer[] = [];
    for (const el of item) {
      let value: Buffer;
      if (el.vr === 'SQ') value = Buffer.from(implicitItems(el.items ?? []));
      else {
        value = Buffer.from(el.value ?? new Uint8Array(0));
        if (value.length % 2) value = Buffer.concat([value, Buffer.from([el.vr === 'UI' || el.vr.startsWith('O') ? 0 : 0x20])]);
      }
      body.push(header(el.tag, value.length), value);
    }
    const b = Buffer.concat(body);
    parts.push(header('FFFEE000', b.length), b);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** The specimen description of the base instance and its first specimen identifier. */
async function specimen(): Promise<{ seq: DicomElement; id: string }> {
  const h = await readPart10Header(new BufferSource(base(), NAME));
  const seq = findElement(h.dataset, '00400560')!;
  const id = textOf(findElement(seq.items![0]!, '00400551'))!;
  assert.ok(id.length >= 4, 'the fixture has a specimen identifier');
  return { seq, id };
}

async function redact(bytes: Uint8Array, outDir: string): Promise<Uint8Array> {
  const slide = (await openSlide([new BufferSource(bytes, NAME)])) as DicomSlide;
  const report = await redactSlide(slide, { ...defaultRequest(slide), options: { uidKey: KEY } }, new NodeDirTarget(outDir), { hasher: nodeSha256 });
  return new Uint8Array(readFileSync(path.join(outDir, report.outputs[0]!.name)));
}

test('a file cut anywhere in its header is refused as TRUNCATED/CORRUPT naming the file, never INTERNAL', async () => {
  const whole = base();
  // 140: just after the 8-byte header of (0002,0000), the fuzzer's case (dicom-parser threw a string).
  const sizes = new Set<number>([140]);
  for (let n = 128; n < 1200; n++) sizes.add(n);
  for (let n = 1200; n < Math.min(whole.length, 40_000); n += 61) sizes.add(n);
  for (const n of sizes) {
    const cut = new BufferSource(whole.subarray(0, n), NAME);
    await assert.rejects(openSlide([cut]), (e: unknown) => isNamedRefusal(e, NAME, /^(TRUNCATED|CORRUPT|NOT_RECOGNIZED)$/) || assert.fail(`size ${n}: ${String(e)}`));
  }
  await assert.rejects(readFileMeta(new BufferSource(whole.subarray(0, 140), NAME)), (e: unknown) => isNamedRefusal(e, NAME, /^TRUNCATED$/));
  const grouped = await groupDicomInstances([new BufferSource(whole.subarray(0, 140), NAME)]);
  assert.deepEqual(grouped.rejected.map((r) => r.code), ['TRUNCATED']);
  assert.ok(grouped.rejected[0]!.message.startsWith(`${NAME}:`));
});

test('Specimen Description Sequence stored as OW/OB/UT/UN (not an implicit VR sequence): opaque, Type 1, the file is refused without its value', async () => {
  const { seq, id } = await specimen();
  const explicit = explicitItems(seq);
  for (const vr of ['OW', 'OB', 'UT', 'UN']) {
    assert.ok(vrContradicts('00400560', vr), vr);
    const bytes = await rebuild(base(), (ds) => setElement(ds, { tag: '00400560', vr, value: explicit }));
    assert.ok(bufferIncludes(bytes, latin1(id)), 'the specimen identifier is in the opaque value');
    await assert.rejects(openSlide([new BufferSource(bytes, NAME)]), (e: unknown) => {
      assert.ok(isNamedRefusal(e, NAME, /^CORRUPT$/), `${vr}: ${String(e)}`);
      const err = e as SlideError;
      assert.match(err.message, /\(0040,0560\)/);
      assert.ok(!`${err.message} ${err.detail ?? ''}`.includes(id), 'no value in the refusal');
      return true;
    });
  }
  // The fuzzer's mutation: the VR bytes of the sequence as written by pydicom overwritten in place.
  for (const vr of ['OW', 'OB', 'UT', 'UN']) {
    const bytes = base();
    const at = Buffer.from(bytes).indexOf(Buffer.from([0x40, 0x00, 0x60, 0x05, 0x53, 0x51]));
    assert.ok(at > 0);
    bytes.set(latin1(vr), at + 4);
    await assert.rejects(openSlide([new BufferSource(bytes, NAME)]), (e: unknown) => {
      assert.ok(isNamedRefusal(e, NAME, /^(CORRUPT|TRUNCATED)$/), `${vr} in place: ${String(e)}`);
      assert.ok(!(e as SlideError).message.includes(id));
      return true;
    });
  }
});

test('a sequence stored as UN holding implicit VR items is read as the sequence and de-identified item by item', async () => {
  const { seq, id } = await specimen();
  const bytes = await rebuild(base(), (ds) => setElement(ds, { tag: '00400560', vr: 'UN', value: implicitItems(seq.items!) }));
  const h = await readPart10Header(new BufferSource(bytes, NAME));
  const read = findElement(h.dataset, '00400560')!;
  assert.equal(read.vr, 'SQ');
  assert.equal(textOf(findElement(read.items![0]!, '00400551')), id);
  const out = await redact(bytes, path.join(work, 'un-implicit'));
  assert.ok(!bufferIncludes(out, latin1(id)), 'the specimen identifier is dummied');
  assert.deepEqual(await verifyDicomOutput(new BufferSource(out, NAME), {}), []);
});

test('text stored as bytes and bytes stored as text are opaque: removed (or emptied in the dictionary VR), never kept', async () => {
  const secret = 'Roe^Richard MRN-55501';
  // Patient's Name (Type 2) as OB: emptied, written back as PN. Smallest Image Pixel Value (on the
  // reviewed allowlist as a number) as LO text: removed.
  const bytes = await rebuild(base(), (ds) => {
    setElement(ds, { tag: '00100010', vr: 'OB', value: latin1(`${secret} `) });
    setElement(ds, textElement('00280106', 'LO', secret));
  });
  assert.equal(decide([], '00280106', 'LO').action, 'remove');
  assert.equal(decide([], '00280106', 'US').action, 'keep');
  assert.equal(decide([], '00100010', 'OB').action, 'empty');
  const slide = (await openSlide([new BufferSource(bytes, NAME)])) as DicomSlide;
  // Not keepable at the user's wish either: a request that removes nothing still drops them.
  const plan = await slide.plan({ ...defaultRequest(slide), removeFields: [], options: { uidKey: KEY } });
  const header = plan.outputs[0]!.segments[0]!;
  assert.ok(header.kind === 'bytes' && !bufferIncludes(header.bytes, latin1('MRN-55501')));
  const out = await redact(bytes, path.join(work, 'text-as-bytes'));
  assert.ok(!bufferIncludes(out, latin1('MRN-55501')));
  const h = await readPart10Header(new BufferSource(out, NAME));
  assert.deepEqual(findElement(h.dataset, '00100010'), { tag: '00100010', vr: 'PN', value: new Uint8Array(0) });
  assert.equal(findElement(h.dataset, '00280106'), undefined);
  assert.deepEqual(await verifyDicomOutput(new BufferSource(out, NAME), {}), []);
});

test('output check: an element whose VR contradicts the dictionary fails, empty or kept by the user', async () => {
  const { seq } = await specimen();
  const good = await redact(base(), path.join(work, 'verify-good'));
  assert.deepEqual(await verifyDicomOutput(new BufferSource(good, NAME), {}), []);
  const cases: { el: DicomElement; kept?: string }[] = [
    { el: { tag: '00400560', vr: 'OW', value: explicitItems(seq) } },
    { el: { tag: '00400560', vr: 'UT', value: explicitItems(seq) }, kept: 'dicom:00400560' },
    { el: { tag: '00100010', vr: 'OB', value: new Uint8Array(0) } },
    { el: textElement('00280106', 'LO', 'MRN-55501'), kept: 'dicom:00280106' },
  ];
  for (const { el, kept } of cases) {
    const bad = await rebuild(good, (ds) => setElement(ds, el));
    const problems = await verifyDicomOutput(new BufferSource(bad, NAME), kept ? { keptFields: new Set([kept]) } : {});
    const tag = `(${el.tag.slice(0, 4)},${el.tag.slice(4)})`;
    assert.ok(problems.some((p) => p.includes(tag) && /value representation/.test(p)), `${tag} ${el.vr}: ${problems.join('; ')}`);
  }
});

test('a SOP class "UID" holding arbitrary bytes is never repeated in a refusal; a well-formed one is', async () => {
  const whole = base();
  const wsi = latin1('1.2.840.10008.5.1.4.1.1.77.1.6');
  const meta = Buffer.from(whole).indexOf(Buffer.from(wsi));
  const inData = Buffer.from(whole).indexOf(Buffer.from(wsi), meta + wsi.length);
  assert.ok(meta > 0 && inData > meta);
  const check = async (bytes: Uint8Array, leaked: string): Promise<void> => {
    await assert.rejects(openSlide([new BufferSource(bytes, NAME)]), (e: unknown) => {
      assert.ok(isNamedRefusal(e, NAME, /^UNSUPPORTED$/), String(e));
      const err = e as SlideError;
      assert.match(err.message, /an unknown SOP class/);
      assert.ok(!`${err.message} ${err.detail ?? ''}`.includes(leaked), err.message);
      return true;
    });
    const grouped = await groupDicomInstances([new BufferSource(bytes, NAME)]);
    assert.equal(grouped.rejected.length, 1);
    assert.ok(!grouped.rejected[0]!.message.includes(leaked));
  };
  // Copied over the Media Storage SOP Class UID (file meta), as the fuzzer did…
  const a = whole.slice();
  a.set(latin1('CPAPERIOCS'), meta);
  await check(a, 'CPAPERIOCS');
  // …and over the SOP Class UID of the data set.
  const b = whole.slice();
  b.set(latin1('Roe^Rich'), inData);
  await check(b, 'Roe^Rich');
  // A well-formed UID of another class is named, so the user knows what the file is.
  const c = whole.slice();
  c.set(latin1('1.2.840.10008.5.1.4.1.1.77.1.2'), meta);
  await assert.rejects(openSlide([new BufferSource(c, NAME)]), (e: unknown) => e instanceof SlideError && e.code === 'UNSUPPORTED' && /VL Microscopic Image/.test(e.message));
  const d = whole.slice();
  d.set(latin1('1.2.840.10008.5.1.4.1.1.77.1.9'), meta);
  await assert.rejects(openSlide([new BufferSource(d, NAME)]), (e: unknown) => e instanceof SlideError && e.message.includes('1.2.840.10008.5.1.4.1.1.77.1.9') && e.detail === 'SOP class 1.2.840.10008.5.1.4.1.1.77.1.9');
});
