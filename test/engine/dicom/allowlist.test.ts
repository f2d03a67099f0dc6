/**
 * DICOM by allowlist (issue 10, item 3) and the DICOM output-alone check (item 4): adversarial
 * instances written by pydicom (adversarial.py) carry identifying text in elements no rule vouches
 * for — unknown, retired, private, private sequences, command and file meta elements inside the
 * data set, elements after Pixel Data — at the top level and inside sequence items. Auto redact
 * must drop every one; the bytes, dcmdump, dciodvfy (no new errors) and the pixel data say so; and
 * verifyDicomOutput accepts the output but refuses the same output with the element put back.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSlide } from '../../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../../src/engine/redact/redact.ts';
import { NodeDirTarget, nodeSha256 } from '../../../src/engine/io/node/dir-target.ts';
import { BufferSource } from '../../../src/engine/io/buffer-source.ts';
import type { DicomSlide } from '../../../src/engine/dicom/dicom-slide.ts';
import type { DicomDataset, DicomElement } from '../../../src/engine/dicom/dataset.ts';
import { setElement, textElement } from '../../../src/engine/dicom/dataset.ts';
import { readPart10Header } from '../../../src/engine/dicom/part10.ts';
import { walkPixelData } from '../../../src/engine/dicom/pixel-data.ts';
import { encodeDataset, encodeFileMeta, encodePixelDataHeader } from '../../../src/engine/dicom/writer.ts';
import { verifyDicomOutput } from '../../../src/engine/dicom/verify-output.ts';
import { decide } from '../../../src/engine/dicom/deid-profile.ts';
import { WSI_ALLOWLIST } from '../../../src/engine/dicom/tables/wsi-allowlist.ts';
import { keywordOf, allowedVrs } from '../../../src/engine/dicom/dictionary.ts';
import { SlideError } from '../../../src/shared/errors.ts';
import { cleanupGenerated, generateSeries, seriesFiles } from '../../fixtures/dicom/generate.ts';
import { bufferIncludes, closeAll, dciodvfyErrors, dcmdump, openFiles } from './support.ts';

const PYTHON = '/usr/bin/python3';
const generator = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/dicom/adversarial.py');
const KEY = 'c0ffee'.repeat(10) + 'abcd';
const TEXT = 'Patient Roe^Richard MRN-55501';
const work = mkdtempSync(path.join(tmpdir(), 'wsi-dicom-allow-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  cleanupGenerated();
});

function baseInstance(): string {
  return seriesFiles(generateSeries('full-native')).find((f) => path.basename(f) === 'level0.dcm')!;
}

function adversarial(kind: string, text = TEXT, base = baseInstance()): string {
  const out = path.join(work, `${kind}.dcm`);
  const r = spawnSync(PYTHON, ['-W', 'ignore', generator, base, out, kind, text], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`adversarial.py ${kind} failed: ${r.stderr}`);
  return out;
}

function latin1(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** Raw pixel data value of the first instance of a slide. */
async function pixelBytes(slide: DicomSlide): Promise<Uint8Array> {
  const inst = slide.instances[0]!;
  return inst.header.pixelSource.read(inst.layout.valueOffset, inst.layout.valueLength);
}

/** Rebuild a DICOM file from a changed header tree with the engine's own writer, pixel data as is. */
async function rebuild(file: string, change: (ds: DicomDataset) => void): Promise<Uint8Array> {
  const bytes = new Uint8Array(readFileSync(file));
  const src = new BufferSource(bytes, path.basename(file));
  const h = await readPart10Header(src);
  const layout = await walkPixelData(src, h.pixel);
  change(h.dataset);
  const text = (ds: DicomDataset, tag: string): string => Buffer.from(ds.find((e) => e.tag === tag)!.value!).toString('latin1').replace(/[\0 ]+$/, '');
  return new Uint8Array(Buffer.concat([
    encodeFileMeta(text(h.meta, '00020002'), text(h.meta, '00020003'), h.transferSyntax),
    encodeDataset(h.dataset),
    encodePixelDataHeader(h.pixel.vr, layout.encapsulated ? 'undefined' : layout.valueLength),
    bytes.subarray(layout.valueOffset, layout.valueOffset + layout.valueLength),
  ]));
}

/** The item dataset at a path of sequence tags (first item each time). */
function itemAt(ds: DicomDataset, parents: string[]): DicomDataset {
  let at = ds;
  for (const p of parents) at = at.find((e) => e.tag === p)!.items![0]!;
  return at;
}

async function verifyBytes(bytes: Uint8Array, name: string, keptFields?: Set<string>): Promise<string[]> {
  return verifyDicomOutput(new BufferSource(bytes, name), keptFields ? { keptFields } : {});
}

interface AdversarialCase {
  kind: string;
  /** Review labels the element(s) must show with (class 'phi'). */
  labels: RegExp[];
  /** The element put back into a good output by hand: where, and what. */
  inject?: { parents: string[]; el: DicomElement; id: string; keepable: boolean };
  /** A good output with raw bytes appended instead. */
  append?: Uint8Array;
}

const text = (tag: string, vr: string): DicomElement => textElement(tag, vr, TEXT);

const CASES: AdversarialCase[] = [
  {
    kind: 'unknown-top',
    labels: [/^Unknown attribute \(0010,4321\)$/],
    inject: { parents: [], el: text('00104321', 'LO'), id: 'dicom:00104321', keepable: true },
  },
  {
    kind: 'unknown-nested',
    labels: [
      /^Unknown attribute \(0010,4321\) in Specimen Description Sequence \(0040,0560\)$/,
      /^Unknown attribute \(0020,9999\) in Shared Functional Groups Sequence \(5200,9229\)$/,
      /^Unknown attribute \(0028,0999\) in Shared Functional Groups Sequence \(5200,9229\) › Pixel Measures Sequence \(0028,9110\)$/,
    ],
    inject: { parents: ['52009229', '00289110'], el: text('00280999', 'LO'), id: 'dicom:52009229/00289110/00280999', keepable: true },
  },
  {
    kind: 'retired',
    labels: [/^Retired attribute Reference \(0020,1020\)$/, /^Retired attribute Recognition Code \(0008,0010\) in Optical Path Sequence \(0048,0105\)$/],
    inject: { parents: ['00480105'], el: textElement('00080010', 'SH', 'MRN-55501'), id: 'dicom:00480105/00080010', keepable: true },
  },
  {
    kind: 'private',
    labels: [/^Private creator \(0011,0010\)$/, /^Private attribute \(0011,1001\)$/, /^Private attribute \(0011,1002\)$/, /^Private attribute \(0011,1005\) in Shared Functional Groups Sequence \(5200,9229\)$/],
    inject: { parents: ['52009229'], el: text('00111005', 'LT'), id: 'dicom:52009229/00111005', keepable: true },
  },
  {
    kind: 'private-sequence',
    labels: [/^Private attribute \(0011,1010\)$/, /^Private attribute \(0011,1011\) in Private attribute \(0011,1010\)$/, /^Patient's Name \(0010,0010\) in Private attribute \(0011,1010\)$/],
    inject: { parents: [], el: { tag: '00111010', vr: 'SQ', items: [[textElement('00100010', 'PN', 'Roe^Richard')]] }, id: 'dicom:00111010', keepable: false },
  },
  {
    kind: 'command',
    labels: [/^Command attribute \(0000,0902\)$/, /^Command attribute \(0000,1000\)$/],
    inject: { parents: [], el: text('00000902', 'LO'), id: 'dicom:00000902', keepable: false },
  },
  {
    kind: 'meta-in-dataset',
    labels: [/^File meta attribute inside the data set \(Source Application Entity Title\) \(0002,0016\)$/, /^File meta attribute inside the data set \(Private Information\) \(0002,0102\)$/],
    inject: { parents: [], el: textElement('00020016', 'AE', 'MRN-55501'), id: 'dicom:00020016', keepable: false },
  },
  {
    kind: 'after-pixel-data',
    labels: [],
    // A Data Set Trailing Padding element holding text, after Pixel Data.
    append: new Uint8Array(Buffer.concat([Buffer.from([0xfc, 0xff, 0xfc, 0xff, 0x4f, 0x42, 0, 0, 30, 0, 0, 0]), Buffer.from(`${TEXT} `, 'latin1')])),
  },
];

describe('adversarial elements are removed by auto redact and refused by the output check', () => {
  for (const c of CASES) {
    test(c.kind, async () => {
      const input = adversarial(c.kind);
      assert.ok(bufferIncludes(new Uint8Array(readFileSync(input)), latin1('MRN-55501')), 'the input carries the text');
      const [source] = await openFiles([input]);
      const outDir = path.join(work, `out-${c.kind}`);
      try {
        const slide = (await openSlide([source!])) as DicomSlide;
        for (const label of c.labels) {
          const f = slide.fields.find((x) => label.test(x.label));
          assert.ok(f, `review lists ${label}`);
          assert.equal(f.class, 'phi', `${f.label} is identifying`);
          assert.ok(f.reason && f.reason.length > 10, `${f.label} says why`);
        }
        const request = { ...defaultRequest(slide), options: { uidKey: KEY } };
        const report = await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
        assert.ok(report.verify.ok, report.verify.problems.join('; '));
        assert.ok(report.sweep.ok);
        const out = path.join(outDir, report.outputs[0]!.name);
        const bytes = new Uint8Array(readFileSync(out));
        for (const needle of [TEXT, 'MRN-55501', 'Roe^Richard']) assert.ok(!bufferIncludes(bytes, latin1(needle)), `output bytes hold "${needle}"`);
        const dump = dcmdump(out);
        assert.ok(!/MRN-55501/.test(dump));
        assert.ok(!/^\((0000|0011|7fe1|fffc),/im.test(dump), 'no command, private or trailing element');
        const before = new Set([...dciodvfyErrors(input), ...dciodvfyErrors(baseInstance())]);
        assert.deepEqual(dciodvfyErrors(out).filter((e) => !before.has(e)), [], 'no new dciodvfy errors');
        const [reopenedSource] = await openFiles([out]);
        try {
          const reopened = (await openSlide([reopenedSource!])) as DicomSlide;
          assert.ok(Buffer.from(await pixelBytes(reopened)).equals(Buffer.from(await pixelBytes(slide))), 'pixel data unchanged');
        } finally {
          await closeAll([reopenedSource!]);
        }
        assert.deepEqual(await verifyDicomOutput(new BufferSource(bytes, 'good.dcm'), {}), []);

        // The same output with the element put back (by the engine's own writer, so only the
        // element differs) is refused, naming the tag and never the value.
        if (c.inject) {
          const { parents, el, id, keepable } = c.inject;
          const bad = await rebuild(out, (ds) => setElement(itemAt(ds, parents), el));
          const problems = await verifyBytes(bad, 'bad.dcm');
          const tag = `(${el.tag.slice(0, 4)},${el.tag.slice(4)})`;
          assert.ok(problems.some((p) => p.startsWith('bad.dcm: ') && p.includes(tag)), `a problem names ${tag}: ${problems.join('; ')}`);
          assert.ok(problems.every((p) => !p.includes('MRN') && !p.includes('Roe')), 'no value in the problems');
          // Kept by the user: tolerated for what a user may keep; never for command/meta elements.
          const kept = await verifyBytes(bad, 'bad.dcm', new Set([id, ...(el.items ? [`${id}/00100010`] : [])]));
          if (keepable) assert.deepEqual(kept, []);
          else assert.ok(kept.length > 0 || el.vr === 'SQ', 'cannot be kept');
        }
        if (c.append) {
          const problems = await verifyBytes(new Uint8Array(Buffer.concat([bytes, c.append])), 'bad.dcm');
          assert.ok(problems.some((p) => /follow the end of Pixel Data/.test(p)), problems.join('; '));
        }
      } finally {
        await closeAll([source!]);
      }
    });
  }
});

test('a private sequence the user keeps is kept as a container only: every element inside is judged on its own', async () => {
  const input = adversarial('private-sequence');
  const [source] = await openFiles([input]);
  try {
    const slide = (await openSlide([source!])) as DicomSlide;
    const request = { ...defaultRequest(slide), options: { uidKey: KEY } };
    request.removeFields = request.removeFields.filter((id) => id !== 'dicom:00111010');
    const outDir = path.join(work, 'keep-private-seq');
    const report = await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
    assert.ok(report.keptFields.includes('dicom:00111010'));
    assert.ok(!report.keptFields.includes('dicom:00111010/00111011'));
    const out = path.join(outDir, report.outputs[0]!.name);
    const bytes = new Uint8Array(readFileSync(out));
    assert.ok(!bufferIncludes(bytes, latin1('MRN-55501')) && !bufferIncludes(bytes, latin1('Roe^Richard')));
    assert.match(dcmdump(out), /^\(0011,1010\) SQ/m);
    assert.deepEqual(await verifyBytes(bytes, 'kept.dcm', new Set(report.keptFields)), []);
    const refused = await verifyBytes(bytes, 'kept.dcm');
    assert.ok(refused.some((p) => p.includes('(0011,1010)')), 'without the user\'s keep, the sequence is refused');
  } finally {
    await closeAll([source!]);
  }
});

test('output check: the header must be exactly what the writer produces; unreadable output is a problem', async () => {
  const [source] = await openFiles([baseInstance()]);
  try {
    const slide = (await openSlide([source!])) as DicomSlide;
    const outDir = path.join(work, 'layout');
    const report = await redactSlide(slide, { ...defaultRequest(slide), options: { uidKey: KEY } }, new NodeDirTarget(outDir), { hasher: nodeSha256 });
    const good = new Uint8Array(readFileSync(path.join(outDir, report.outputs[0]!.name)));
    assert.deepEqual(await verifyBytes(good, 'x.dcm'), []);

    const preamble = good.slice();
    preamble.set(latin1('MRN-55501'), 10);
    assert.ok((await verifyBytes(preamble, 'x.dcm')).some((p) => /preamble or file meta/.test(p)));

    // A padding element inside the data set: the canonical re-encoding holds it, the walk names it.
    const padded = await rebuild(path.join(outDir, report.outputs[0]!.name), (ds) => setElement(ds, { tag: 'FFFCFFFC', vr: 'OB', value: latin1('MRN-55501!') }));
    assert.ok((await verifyBytes(padded, 'x.dcm')).some((p) => p.includes('(FFFC,FFFC)')));

    // An element the rules empty, holding a value (Patient's Name, Type 2).
    const named = await rebuild(path.join(outDir, report.outputs[0]!.name), (ds) => setElement(ds, textElement('00100010', 'PN', 'Roe^Richard')));
    assert.ok((await verifyBytes(named, 'x.dcm')).some((p) => p.includes('(0010,0010)') && /must be empty/.test(p)));

    // An element dropped silently by a lenient reader: an undefined-length item is not what the
    // writer writes, so the data set does not re-encode to the same bytes.
    const cut = good.subarray(0, good.length - 20);
    assert.match((await verifyBytes(cut, 'x.dcm')).join(';'), /cannot be parsed/);
    assert.match((await verifyBytes(latin1('not dicom at all'.repeat(20)), 'x.dcm')).join(';'), /cannot be parsed/);
  } finally {
    await closeAll([source!]);
  }
});

test('sweep: a removed identifying value inside a kept field is not exempt — the kept field is dummied, or the output refused', async () => {
  // Institution Name (removed) equals the Manufacturer (Type 1, kept): the Manufacturer must not
  // keep identifying text, so it is dummied, and the value stays on the sweep list.
  const base = baseInstance();
  const same = path.join(work, 'institution-is-manufacturer.dcm');
  const r = spawnSync(PYTHON, ['-c', `import sys; from pydicom import dcmread; d = dcmread(sys.argv[1]); d.InstitutionName = d.Manufacturer; d.save_as(sys.argv[2])`, base, same], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [source] = await openFiles([same]);
  try {
    const slide = (await openSlide([source!])) as DicomSlide;
    const request = { ...defaultRequest(slide), options: { uidKey: KEY } };
    const plan = await slide.plan(request);
    assert.ok(plan.sweepValues.some((v) => Buffer.from(v).toString('latin1') === 'Synthetic Scanner Co'), 'the removed value is swept');
    assert.ok(plan.removedFields.includes('dicom:00080070'), 'the Manufacturer is reported changed');
    // The input's file meta is rebuilt, but what it said about the site is swept too.
    assert.ok(plan.sweepValues.some((v) => Buffer.from(v).toString('latin1') === 'SEH_SCANNER'), 'Source AE Title is swept');
    const outDir = path.join(work, 'carrier');
    const report = await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
    const out = path.join(outDir, report.outputs[0]!.name);
    assert.ok(!bufferIncludes(new Uint8Array(readFileSync(out)), latin1('Synthetic Scanner Co')));
    assert.match(dcmdump(out), /^\(0008,0070\) LO \[[^\]]+\]/m, 'Manufacturer still present (Type 1)');
    assert.deepEqual(dciodvfyErrors(out).filter((e) => !new Set(dciodvfyErrors(base)).has(e)), []);
  } finally {
    await closeAll([source!]);
  }

  // A removed value that an attribute the slide cannot do without holds (Image Type): refused.
  const volume = path.join(work, 'patient-id-volume.dcm');
  const r2 = spawnSync(PYTHON, ['-c', `import sys; from pydicom import dcmread; d = dcmread(sys.argv[1]); d.PatientID = 'VOLUME'; d.save_as(sys.argv[2])`, base, volume], { encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stderr);
  const [source2] = await openFiles([volume]);
  try {
    const slide = (await openSlide([source2!])) as DicomSlide;
    await assert.rejects(redactSlide(slide, { ...defaultRequest(slide), options: { uidKey: KEY } }, new NodeDirTarget(path.join(work, 'refused'))), (e: unknown) => e instanceof SlideError && e.code === 'VERIFY_FAILED');
  } finally {
    await closeAll([source2!]);
  }
});

test('a data set the engine cannot walk is refused with a SlideError naming the file', async () => {
  // The Specimen Description Sequence's item claims more bytes than its sequence holds.
  const bytes = new Uint8Array(readFileSync(baseInstance()));
  const seq = Buffer.from(bytes).indexOf(Buffer.from([0x40, 0x00, 0x60, 0x05, 0x53, 0x51]));
  assert.ok(seq > 0);
  const item = seq + 12;
  assert.deepEqual([...bytes.subarray(item, item + 4)], [0xfe, 0xff, 0x00, 0xe0]);
  new DataView(bytes.buffer).setUint32(item + 4, 0x7ffffff0, true);
  const file = path.join(work, 'bad-item.dcm');
  writeFileSync(file, bytes);
  const [source] = await openFiles([file]);
  try {
    await assert.rejects(openSlide([source!]), (e: unknown) => e instanceof SlideError && /^(CORRUPT|TRUNCATED)$/.test(e.code) && e.message.startsWith('bad-item.dcm'));
  } finally {
    await closeAll([source!]);
  }
});

test('reviewed allowlist: keywords match the dictionary; no free-text VR; standard unlisted free text is identifying', () => {
  for (const a of WSI_ALLOWLIST) {
    assert.equal(keywordOf(a.tag), a.keyword, a.tag);
    const vrs = allowedVrs(a.tag);
    // The one LO on the list is the de-identification record, which every plan rewrites.
    for (const vr of vrs) if (a.tag !== '00120063') assert.ok(!['LO', 'LT', 'ST', 'SH', 'UT', 'UC', 'PN', 'AE', 'UR'].includes(vr), `${a.keyword} is ${vr}`);
  }
  assert.equal(decide([], '00280034', 'IS').action, 'keep');
  assert.equal(decide([], '00280034', 'LO').cls, 'phi', 'an allowlisted tag with a text VR is not what the list vouches for');
  assert.equal(decide(['00480105'], '00480107', 'ST').cls, 'phi', 'Optical Path Description');
  assert.equal(decide(['00209222'], '00209421', 'LO').action, 'remove', 'Dimension Description Label');
  assert.equal(decide([], '00201020', 'LO').action, 'remove', 'retired');
  assert.equal(decide([], '00104321', 'LO').action, 'remove', 'unknown');
  assert.equal(decide([], '00020016', 'AE').action, 'remove', 'meta in the data set');
  assert.equal(decide([], '00001000', 'UI').action, 'remove', 'command element, although Annex E lists it');
  assert.equal(decide([], '0018A001', 'SQ').action, 'remove', 'contributing equipment (names sites) goes by default');
  assert.equal(decide(['00400560'], '00082228', 'SQ').action, 'recurse', 'coded anatomy is kept and judged item by item');
});
