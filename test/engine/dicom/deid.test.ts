/** Profile options, UID mapping, associated images, grouping: behaviour the cases do not pin down. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSlide } from '../../../src/engine/open.ts';
import { defaultRequest, redactSlide } from '../../../src/engine/redact/redact.ts';
import { NodeDirTarget } from '../../../src/engine/io/node/dir-target.ts';
import { SlideError } from '../../../src/shared/errors.ts';
import { groupDicomInstances } from '../../../src/engine/dicom/group.ts';
import { UidRemapper } from '../../../src/engine/dicom/uid-remap.ts';
import { decide, userRemovalAction } from '../../../src/engine/dicom/deid-profile.ts';
import { iodRequirement, WSI_IOD_ATTRIBUTES } from '../../../src/engine/dicom/tables/wsi-iod.ts';
import { keywordOf } from '../../../src/engine/dicom/dictionary.ts';
import { BufferSource } from '../../../src/engine/io/buffer-source.ts';
import { cleanupGenerated, generateSeries, seriesFiles } from '../../fixtures/dicom/generate.ts';
import { applyPlan, closeAll, dciodvfyErrors, dcmdump, openFiles, sharedFixtures } from './support.ts';

const KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const work = mkdtempSync(path.join(tmpdir(), 'wsi-dicom-deid-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  cleanupGenerated();
});

function top(dump: string, tag: string): string | undefined {
  const m = new RegExp(`^\\(${tag}\\) \\w\\w (?:\\[([^\\]]*)\\]|\\(no value available\\))`, 'm').exec(dump);
  return m ? (m[1] ?? '') : undefined;
}

test('UID remapping: keyed, deterministic, 2.25 form, distinct per key and per input', async () => {
  const a = new UidRemapper(KEY);
  const b = new UidRemapper(KEY);
  const c = new UidRemapper(KEY.replace(/^00/, 'ff'));
  const u = '1.2.826.0.1.3680043.10.999.1.1';
  assert.equal(await a.uid(u), await b.uid(u));
  assert.notEqual(await a.uid(u), await c.uid(u));
  assert.notEqual(await a.uid(u), await a.uid(`${u}0`));
  assert.match(await a.uid(u), /^2\.25\.[1-9]\d{0,38}$/);
  assert.ok((await a.uid(u)).length <= 64);
  assert.throws(() => new UidRemapper('abc'), /at least 16 bytes/);
});

test('profile: class UIDs kept, instance UIDs remapped, Type 1 dummied, Type 2 emptied, private removed', () => {
  assert.equal(decide([], '00080016', 'UI', {}, '1.2.840.10008.5.1.4.1.1.77.1.6').action, 'keep');
  assert.equal(decide(['00081140'], '00081150', 'UI', {}, '1.2.840.10008.5.1.4.1.1.77.1.6').action, 'keep');
  assert.equal(decide(['00081140'], '00081155', 'UI', {}, '1.2.3.4').action, 'remap');
  assert.equal(decide([], '00400512', 'LO').action, 'dummy');
  assert.equal(decide(['00400560'], '00400551', 'LO').action, 'dummy');
  assert.equal(decide([], '00100010', 'PN').action, 'empty');
  assert.equal(decide([], '0008002A', 'DT').action, 'dummy');
  assert.equal(decide([], '00081010', 'SH').action, 'remove');
  assert.equal(decide([], '00091001', 'LO').action, 'remove');
  assert.equal(decide([], '00181000', 'LO', { retainDeviceIdentity: true }).action, 'keep');
  assert.equal(decide([], '00400600', 'LO', { cleanDescriptors: true }).action, 'clean');
  assert.equal(decide(['52009229', '00289110'], '00280030', 'DS').cls, 'critical');
});

test('WSI IOD table: tags and keywords agree with the PS3.6 dictionary; one requirement per place', () => {
  const places = new Set<string>();
  for (const a of WSI_IOD_ATTRIBUTES) {
    assert.match(a.tag, /^[0-9A-F]{8}$/);
    assert.equal(keywordOf(a.tag), a.keyword, a.tag);
    for (const where of a.in ?? ['top']) {
      assert.ok(!places.has(`${where}>${a.tag}`), `${a.keyword} listed twice for ${where}`);
      places.add(`${where}>${a.tag}`);
    }
  }
  // Context matters: InstanceNumber is Type 1 at the top level (Multi-frame Functional Groups),
  // FrameType only inside the WSI frame type functional group, CodeValue in any code sequence item.
  assert.equal(iodRequirement([], '00200013')?.type, '1');
  assert.equal(iodRequirement(['52009229', '00400710'], '00089007')?.type, '1');
  assert.equal(iodRequirement([], '00089007'), undefined);
  assert.equal(iodRequirement(['00400560', '00082228'], '00080100')?.type, '1C');
  assert.equal(iodRequirement([], '00080100'), undefined);
});

test('profile vs IOD: what a removal request may do to each kind of attribute', () => {
  const onRemove = (parents: string[], tag: string, vr: string, uid?: string) => {
    const d = decide(parents, tag, vr, {}, uid);
    return [d.cls, userRemovalAction(d)];
  };
  // Type 1, not identifying: critical, kept whatever is asked.
  assert.deepEqual(onRemove([], '00080060', 'CS'), ['critical', 'keep']);
  assert.deepEqual(onRemove([], '00200013', 'IS'), ['critical', 'keep']);
  assert.deepEqual(onRemove(['52009229', '00400710'], '00089007', 'CS'), ['critical', 'keep']);
  assert.deepEqual(onRemove(['00400560', '00400518'], '00080104', 'LO'), ['critical', 'keep']);
  assert.deepEqual(onRemove(['00480105'], '00480106', 'SH'), ['critical', 'keep']);
  assert.deepEqual(onRemove([], '00181020', 'LO'), ['critical', 'keep']);
  assert.deepEqual(onRemove(['0018A001'], '00080070', 'LO'), ['critical', 'keep']);
  // Type 1, identifying: dummy (dates too) or remapped, never deleted.
  assert.deepEqual(onRemove([], '00080023', 'DA'), ['phi', 'dummy']);
  assert.deepEqual(onRemove([], '00080033', 'TM'), ['phi', 'dummy']);
  assert.deepEqual(onRemove([], '00181000', 'LO'), ['phi', 'dummy']);
  assert.deepEqual(onRemove([], '00200052', 'UI', '1.2.3.4'), ['phi', 'remap']);
  // Type 2: emptied, identifying or not; Type 2 sequences emptied.
  assert.deepEqual(onRemove([], '00200011', 'IS'), ['neutral', 'empty']);
  // Free text that no rule vouches for is identifying by default, emptied where the IOD wants it.
  assert.deepEqual(onRemove([], '00201040', 'LO'), ['phi', 'empty']);
  assert.deepEqual(onRemove([], '00100030', 'DA'), ['phi', 'empty']);
  assert.deepEqual(onRemove([], '22000002', 'UT'), ['phi', 'empty']);
  assert.deepEqual(onRemove([], '00400555', 'SQ'), ['phi', 'empty']);
  assert.deepEqual(onRemove(['00400560'], '00400610', 'SQ'), ['phi', 'empty']);
  // Type 3 (or not in the IOD): deleted.
  assert.deepEqual(onRemove(['00480105'], '00282002', 'CS'), ['neutral', 'remove']);
  assert.deepEqual(onRemove([], '00080021', 'DA'), ['phi', 'remove']);
  assert.deepEqual(onRemove(['0018A001'], '00081090', 'LO'), ['phi', 'remove']);
});

test('removing every non-critical field: Type 1 dates dummied, Type 2 emptied, Type 1 kept as is', async () => {
  const files = seriesFiles(generateSeries('full-native')).filter((f) => /level0/.test(f));
  const parts = await openFiles(files);
  try {
    const slide = await openSlide(parts);
    const input = dcmdump(files[0]);
    assert.notEqual(top(input, '0008,0023'), '19000101');
    const request = { removeFields: slide.fields.filter((f) => f.class !== 'critical').map((f) => f.id), removeImages: [], options: { uidKey: KEY } };
    const [out] = await applyPlan(await slide.plan(request), parts, path.join(work, 'strict'));
    const dump = dcmdump(out);
    assert.equal(top(dump, '0008,0023'), '19000101', 'ContentDate (Type 1 in Multi-frame Functional Groups) dummied');
    assert.equal(top(dump, '0008,0033'), '000000', 'ContentTime dummied');
    assert.equal(top(dump, '0020,0011'), '', 'SeriesNumber (Type 2) emptied');
    for (const tag of ['0008,0060', '0020,0013', '0008,0070', '0008,1090', '0018,1020']) assert.equal(top(dump, tag), top(input, tag), `${tag} kept`);
    assert.notEqual(top(dump, '0018,1000'), top(input, '0018,1000'), 'DeviceSerialNumber dummied');
    assert.ok(top(dump, '0018,1000'), 'DeviceSerialNumber present');
    assert.deepEqual(dciodvfyErrors(out).filter((e) => !new Set(dciodvfyErrors(files[0])).has(e)), []);
  } finally {
    await closeAll(parts);
  }
});

test('options: Retain Device Identity keeps device attributes; Clean Descriptors blanks identifiers inside descriptions; recorded in the code sequence', async () => {
  const files = seriesFiles(generateSeries('full-native')).filter((f) => /level/.test(f));
  const parts = await openFiles(files);
  try {
    const slide = await openSlide(parts);
    const request = { ...defaultRequest(slide), options: { uidKey: KEY, retainDeviceIdentity: true, cleanDescriptors: true } };
    const plan = await slide.plan(request);
    assert.ok(!plan.removedFields.includes('dicom:00181000'), 'device serial kept');
    assert.ok(!plan.removedFields.includes('dicom:00081010'), 'station name kept');
    const [out] = await applyPlan(plan, parts, path.join(work, 'options'));
    const dump = dcmdump(out);
    assert.equal(top(dump, '0018,1000'), 'SN-4431-ZX');
    assert.equal(top(dump, '0008,1010'), 'SCANNER-ROOM-12');
    assert.match(dump, /\[113109\]/);
    assert.match(dump, /\[113105\]/);
    assert.equal(top(dump, '0010,0010'), '');
    // Specimen Short Description is kept under Clean Descriptors (removed values inside it are blanked).
    const desc = /\(0040,0600\) LO \[([^\]]*)\]/.exec(dump)?.[1];
    assert.ok(desc?.startsWith('Left breast core'), 'description kept');
  } finally {
    await closeAll(parts);
  }
});

test('label and overview are dropped by default and kept on request, with consistent UIDs', async () => {
  const parts = await openFiles(seriesFiles(generateSeries('jpeg-nobot')));
  try {
    const slide = await openSlide(parts);
    const req = defaultRequest(slide);
    assert.deepEqual(req.removeImages.map((id) => slide.images.find((i) => i.id === id)!.role).sort(), ['label', 'overview']);
    const keepAll = await slide.plan({ ...req, removeImages: [], options: { uidKey: KEY } });
    const dropped = await slide.plan({ ...req, options: { uidKey: KEY } });
    assert.equal(keepAll.outputs.length, 6);
    assert.equal(dropped.outputs.length, 4);
    assert.deepEqual(dropped.removedImages.map((i) => i.role).sort(), ['label', 'overview']);
    const written = await applyPlan(keepAll, parts, path.join(work, 'keep'));
    const studies = new Set(written.map((f) => top(dcmdump(f), '0020,000d')));
    assert.equal(studies.size, 1);
    const label = written.find((f) => f.endsWith('label.dcm'))!;
    const dump = dcmdump(label);
    // Slide Label module (required for LABEL images): LabelText and BarcodeValue are Type 2, so the
    // profile's X/Z becomes Z — present and empty; deleting them fails dciodvfy.
    assert.equal(top(dump, '2200,0002'), '', 'LabelText emptied');
    assert.equal(top(dump, '2200,0005'), '', 'BarcodeValue emptied');
    const labelInput = seriesFiles(generateSeries('jpeg-nobot')).find((f) => f.endsWith('label.dcm'))!;
    const before = new Set(dciodvfyErrors(labelInput));
    assert.deepEqual(dciodvfyErrors(label).filter((e) => !before.has(e)), []);
    // Same batch key, a subset of instances: the same new UIDs (a resumed batch stays one study).
    assert.equal(top(dcmdump(written.find((f) => f.endsWith('level-0.dcm'))!), '0020,000d'), [...studies][0]);
    const single = await openSlide([parts[seriesFiles(generateSeries('jpeg-nobot')).findIndex((f) => f.endsWith('level0.dcm'))]]);
    const singlePlan = await single.plan({ ...defaultRequest(single), options: { uidKey: KEY } });
    const [one] = await applyPlan(singlePlan, single.parts, path.join(work, 'single'));
    assert.equal(top(dcmdump(one), '0020,000d'), [...studies][0]);
  } finally {
    await closeAll(parts);
  }
});

test('grouping: instances of two slides + non-DICOM + non-WSI DICOM; rejects reported, slides intact', async () => {
  const a = seriesFiles(generateSeries('full-native'));
  const b = seriesFiles(generateSeries('jpeg-nobot'));
  const text = path.join(work, 'README.txt');
  writeFileSync(text, 'scanned on the new scanner, see notes');
  const files = [...a, ...b, text, path.join(sharedFixtures, 'highdicom/sm_annotations.dcm'), path.join(sharedFixtures, 'highdicom/seg_image_sm_dots_tiled_full.dcm')];
  const sources = await openFiles(files);
  try {
    const g = await groupDicomInstances(sources);
    assert.equal(g.slides.length, 2);
    assert.deepEqual(g.slides.map((s) => s.parts.length).sort(), [6, 6]);
    assert.deepEqual(g.rejected.map((r) => [r.name, r.code]).sort(), [
      ['README.txt', 'NOT_RECOGNIZED'],
      ['seg_image_sm_dots_tiled_full.dcm', 'UNSUPPORTED'],
      ['sm_annotations.dcm', 'UNSUPPORTED'],
    ]);
    for (const s of g.slides) {
      const slide = await openSlide(s.parts);
      assert.equal(slide.images.length, 6);
    }
    // A broken instance is reported, not fatal for the others.
    const broken = new BufferSource(new Uint8Array(readFileSync(a[0])).subarray(0, 700), 'broken.dcm');
    const g2 = await groupDicomInstances([broken, ...sources.slice(0, a.length)]);
    assert.equal(g2.slides.length, 1);
    assert.equal(g2.rejected.length, 1);
    assert.match(g2.rejected[0].code, /^(TRUNCATED|CORRUPT)$/);
  } finally {
    await closeAll(sources);
  }
});

test('a removed numeric ID that a fresh UID happens to contain does not fail the sweep; elsewhere it does', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsi-deid-uid-'));
  const sources = await openFiles(seriesFiles(generateSeries('jpeg-nobot')));
  try {
    const slide = await openSlide(sources);
    const request = { ...defaultRequest(slide), options: { uidKey: 'ab'.repeat(32) } };
    // Which digits the remapped UIDs will hold: take 6 of them as if they were a patient ID
    // (with a random batch key that happens to about 2 % of slides for a 5-digit ID).
    const plan = await slide.plan(request);
    const header = (plan.outputs[0]!.segments[0] as { bytes: Uint8Array }).bytes;
    const range = plan.outputs[0]!.generated![0]!;
    const digits = Buffer.from(header.subarray(range.offset, range.offset + range.length)).toString('latin1').slice(10, 16);
    assert.match(digits, /^\d{6}$/);
    const withId = (extra: string[]) => Object.assign(Object.create(slide) as typeof slide, {
      plan: async (r: typeof request) => {
        const p = await slide.plan(r);
        p.sweepValues.push(...extra.map((e) => new TextEncoder().encode(e)));
        return p;
      },
    });
    const report = await redactSlide(withId([digits]), request, new NodeDirTarget(path.join(dir, 'a')));
    assert.equal(report.sweep.hits, 0, 'digits inside a generated UID are not a leak');
    // The same check still catches a value that is in the output for real (here: the SOP Class
    // UID, kept as it is, outside every generated range).
    await assert.rejects(redactSlide(withId(['1.2.840.10008.5.1.4.1.1.77.1.6']), request, new NodeDirTarget(path.join(dir, 'b'))), (e: unknown) => e instanceof SlideError && e.code === 'VERIFY_FAILED');
  } finally {
    await closeAll(sources);
    rmSync(dir, { recursive: true, force: true });
  }
});
