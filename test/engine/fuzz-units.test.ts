/** The fuzzer's own parts: deterministic cases, exact replay, the leak search and the classifier. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCase, mutatorsOf } from '../fuzz/generate-case.ts';
import { diffSpan, mutateKeyValues, mutateXml } from '../fuzz/mutate-text.ts';
import { applyOps } from '../fuzz/ops.ts';
import { caseSeed, Prng } from '../fuzz/prng.ts';
import { findLeaks } from '../fuzz/leak.ts';
import { classifyError } from '../fuzz/run-case.ts';
import { loadSeeds } from '../fuzz/seeds.ts';
import { walkTiff } from '../fuzz/tiff-walk.ts';
import { walkDicom } from '../fuzz/dicom-walk.ts';
import { tiffRewriteAtEnd } from '../fuzz/mutate-tiff.ts';
import { dicomInsertElement } from '../fuzz/mutate-dicom.ts';
import { SlideError } from '../../src/shared/errors.ts';

const seeds = await loadSeeds((n) => n === 'openslide-python/small.svs' || n === 'highdicom/sm_image.dcm');
const svs = seeds.find((s) => s.kind === 'tiff')!;
const dcm = seeds.find((s) => s.kind === 'dicom')!;

test('fuzz units: a case is the same ops for the same PRNG seed, and replays to the same bytes', () => {
  for (const seed of [svs, dcm]) {
    for (let i = 0; i < 50; i++) {
      const a = generateCase(new Prng(caseSeed(7, i)), seed);
      const b = generateCase(new Prng(caseSeed(7, i)), seed);
      assert.deepEqual(a, b);
      const bytesA = applyOps(seed.parts.map((p) => p.bytes), a.flat());
      const bytesB = applyOps(seed.parts.map((p) => p.bytes), JSON.parse(JSON.stringify(a.flat())));
      assert.deepEqual(bytesA, bytesB, 'a recipe read back from JSON gives the same bytes');
    }
  }
  assert.notDeepEqual(generateCase(new Prng(caseSeed(7, 1)), svs), generateCase(new Prng(caseSeed(7, 2)), svs));
});

test('fuzz units: the tiffset mutation appends the new description and leaves the old one in place', () => {
  const before = svs.parts[0]!.bytes;
  const layout = walkTiff(before)!;
  assert.equal(layout.ifds.length, 2);
  const ops = tiffRewriteAtEnd({ rng: new Prng(3), parts: [before], part: 0, identifying: svs.identifying });
  const after = applyOps([before], ops)[0]!;
  const moved = walkTiff(after)!.ifds.flatMap((i) => i.entries).find((e) => e.valuePos >= before.length);
  assert.ok(moved && moved.tag === 270, 'one description now points past the old end of file');
  const fresh = Buffer.from(after.subarray(moved.valuePos, moved.valuePos + moved.byteLength)).toString('latin1');
  assert.ok(!fresh.includes('CMU-1') && fresh.includes('AppMag'), 'the new text lost the identifying values only');
  assert.ok(Buffer.from(after.subarray(0, before.length)).includes('CMU-1'), 'the old text is still there');
});

test('fuzz units: an element inserted inside a sequence item keeps the dataset walkable', () => {
  const b = dcm.parts[0]!.bytes;
  const n = walkDicom(b)!.elements.length;
  let inserted = 0;
  for (let i = 0; i < 40; i++) {
    const ops = dicomInsertElement({ rng: new Prng(i), parts: [b], part: 0, identifying: dcm.identifying });
    const after = walkDicom(applyOps([b], ops)[0]!)!;
    assert.ok(after.pixelDataPos !== undefined, `insert ${i} (${ops[0]?.why}): Pixel Data still reached`);
    assert.equal(after.elements.length, n + 1);
    inserted++;
  }
  assert.equal(inserted, 40);
});

test('fuzz units: leaks are found in Latin-1, UTF-16LE and UTF-16BE; digits inside a fresh UID are chance', () => {
  const needles = [{ index: 0, value: 'Test^Patient' }, { index: 1, value: '17890505' }];
  for (const enc of ['latin1', 'utf16le'] as const) {
    const hits = findLeaks('out', Buffer.concat([Buffer.alloc(9, 0x41), Buffer.from('Test^Patient', enc)]), needles, []);
    assert.deepEqual(hits.map((h) => [h.index, h.encoding]), [[0, enc]]);
  }
  const be = Buffer.from('Test^Patient', 'utf16le').swap16();
  assert.deepEqual(findLeaks('out', be, needles, []).map((h) => h.encoding), ['utf16be']);
  const uid = Buffer.from('\0\x002.25.3317890505999123456789\0');
  assert.deepEqual(findLeaks('out', uid, needles, []), [], 'digits inside a UID the engine generated');
  assert.equal(findLeaks('out', uid, needles, [uid]).length, 1, 'the same UID copied from the input is a leak');
  assert.equal(findLeaks('out', Buffer.from('DA17890505'), needles, []).length, 1);
});

test('fuzz units: refusals, crashes, unnamed refusals and values in messages are told apart', () => {
  const names = ['sm_image.dcm'];
  const needles = [{ index: 0, value: 'Test^Patient' }];
  assert.equal(classifyError(new SlideError('CORRUPT', 'sm_image: bad length'), names, needles).kind, 'refused');
  assert.equal(classifyError(new SlideError('TRUNCATED', 'sm_image.dcm: ends early'), names, needles).kind, 'refused');
  assert.equal(classifyError(new TypeError("Cannot read properties of undefined (reading 'x')"), names, needles).kind, 'crash');
  assert.equal(classifyError(new SlideError('INTERNAL', 'sm_image: x', { cause: new RangeError('Offset is outside the bounds') }), names, needles).kind, 'crash');
  assert.equal(classifyError(new SlideError('CORRUPT', 'bad length'), names, needles).kind, 'unnamed');
  const leak = classifyError(new SlideError('CORRUPT', 'sm_image: Test^Patient is odd'), names, needles);
  assert.equal(leak.kind, 'leak');
  const crash = classifyError(new Error('Test^Patient broke it'), names, needles);
  assert.ok(crash.kind === 'crash' && !crash.what.includes('Test^Patient') && crash.what.includes('«#0»'), 'reports never carry the value');
});

test('fuzz units: XML and key=value edits keep the text a document, plant values, and diff to small ops', async () => {
  const xml = '<root xmlns="urn:a"><a id="1">PATIENT-NAME-1</a><b k="v"/><c>text</c></root>';
  const whys = new Set<string>();
  let changed = 0;
  for (let i = 0; i < 200; i++) {
    const e = mutateXml(new Prng(i), xml, ['PATIENT-NAME-1']);
    if (!e) continue;
    whys.add(e.why.split(' ')[0]!);
    // A value moved onto itself leaves the text as it was; most edits change it.
    if (e.text !== xml) changed++;
  }
  assert.ok(changed >= 150, `only ${changed} of 200 edits changed the text`);
  assert.ok(whys.size >= 8, `only ${[...whys].join(', ')}`);
  const ini = '[GENERAL]\r\nSLIDE_NAME = PATIENT-NAME-1\r\nIMAGENUMBER_X = 4\r\n[DATAFILE]\r\nFILE_0 = Data0000.dat\r\n';
  for (let i = 0; i < 50; i++) assert.ok(mutateKeyValues(new Prng(i), ini, ['PATIENT-NAME-1']), `ini edit ${i}`);
  const d = diffSpan(Buffer.from('abcXYZdef'), Buffer.from('abc12def'));
  assert.deepEqual([d.at, d.deleteLen, Buffer.from(d.insert).toString()], [3, 3, '12']);
});

test('fuzz units: vendor seeds (NDPI, SCN, BIF, Philips, OME, MIRAX) make replayable cases with their own mutators', async () => {
  const vendor = await loadSeeds((n) => /gen:(ndpi|leica-scn|philips-tiff|mirax)$/.test(n));
  assert.equal(vendor.length, 4);
  const used = new Set<string>();
  for (const seed of vendor) {
    for (let i = 0; i < 60; i++) {
      const a = generateCase(new Prng(caseSeed(11, i)), seed);
      assert.deepEqual(a, generateCase(new Prng(caseSeed(11, i)), seed));
      applyOps(seed.parts.map((p) => p.bytes), JSON.parse(JSON.stringify(a.flat())));
      for (const m of mutatorsOf(a)) used.add(m);
    }
  }
  for (const m of ['tiff-text', 'ndpi-high', 'mirax-ini', 'mirax-index', 'mirax-data']) assert.ok(used.has(m), `${m} never chosen: ${[...used].join(', ')}`);
});
