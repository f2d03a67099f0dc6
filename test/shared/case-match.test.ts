/**
 * Issue 14, matching slides to cases: manifest barcode rows first, then file rows, then a lone
 * barcode proposed (unconfirmed); conflicts are warned about without quoting any value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMatched, matchSlides, type MatchInput } from '../../src/shared/case-match.ts';
import { parseManifest } from '../../src/shared/manifest.ts';

const slide = (id: string, fileNames: string[], barcodes: string[] = []): MatchInput => ({ id, fileNames, barcodes });

test('a manifest barcode row wins over a file row', () => {
  const m = parseManifest('file,barcode,case,name\nS1.svs,,C-FILE,By file\n,B1,C-BAR,By barcode\n');
  const r = matchSlides([slide('a', ['S1.svs'], ['B1'])], m).get('a');
  assert.deepEqual(r, {
    caseNumber: 'C-BAR',
    name: 'By barcode',
    how: 'manifest-barcode',
    line: 3,
    confirmed: true,
    warning: 'Lines 3 and 2 all match this slide with a different case or name; line 3 is used.',
  });
});

test('rows that agree with the chosen one are no conflict', () => {
  const m = parseManifest('file,barcode,case\nS1.svs,,C-1\n,B1,C-1\n');
  const r = matchSlides([slide('a', ['S1.svs'], ['B1'])], m).get('a')!;
  assert.equal(r.how, 'manifest-barcode');
  assert.equal(r.warning, undefined);
});

test('file names: case-insensitive base names, with or without the extension, paths ignored', () => {
  const m = parseManifest('file,case\nC:\\scans\\ONE.SVS,C-1\ntwo,C-2\nthree.ome,C-3\nfour,C-4\nDicomFolder,C-5\nmirax1,C-6\n');
  assert.deepEqual(m.problems, []);
  const found = matchSlides(
    [
      slide('1', ['batch/one.svs']),
      slide('2', ['Two.NDPI']),
      slide('3', ['three.ome.tiff']),
      slide('4', ['four.ome.tif']),
      slide('5', ['DicomFolder', '1.2.3.dcm']),
      slide('6', ['mirax1.mrxs', 'Data0000.dat']),
      slide('7', ['five.svs']),
    ],
    m,
  );
  assert.deepEqual([...found].map(([id, r]) => [id, r?.caseNumber ?? null, r?.how ?? null]), [
    ['1', 'C-1', 'manifest-file'],
    ['2', 'C-2', 'manifest-file'],
    ['3', 'C-3', 'manifest-file'],
    ['4', 'C-4', 'manifest-file'],
    ['5', 'C-5', 'manifest-file'],
    ['6', 'C-6', 'manifest-file'],
    ['7', null, null],
  ]);
  for (const r of found.values()) if (r) assert.equal(r.confirmed, true);
});

test('a row with an extension does not match a slide with another extension', () => {
  const m = parseManifest('file,case\nS1.ndpi,C-1\n');
  assert.equal(matchSlides([slide('a', ['S1.svs'])], m).get('a'), null);
});

test('the exact file name beats the name without extension, whatever the line order', () => {
  const m = parseManifest('file,case\nS1,C-STEM\nS1.svs,C-EXACT\n');
  const r = matchSlides([slide('a', ['S1.svs'])], m).get('a')!;
  assert.equal(r.caseNumber, 'C-EXACT');
  assert.equal(r.line, 3);
  assert.equal(r.warning, 'Lines 3 and 2 all match this slide with a different case or name; line 3 is used.');
});

test('barcodes: exact after trimming; another case only when no exact row exists', () => {
  const m = parseManifest('barcode,case\nab-1,C-LOWER\nAB-1,C-EXACT\nxy-9,C-XY\n');
  const found = matchSlides([slide('a', [], ['  AB-1 ']), slide('b', [], ['XY-9'])], m);
  assert.equal(found.get('a')!.caseNumber, 'C-EXACT');
  assert.equal(found.get('a')!.warning, undefined);
  assert.equal(found.get('b')!.caseNumber, 'C-XY');
  assert.equal(found.get('b')!.how, 'manifest-barcode');
});

test('a row matching two slides: both get it, each with a warning', () => {
  const m = parseManifest('file,case\nS1,C-1\n');
  const found = matchSlides([slide('a', ['S1.svs']), slide('b', ['s1.ndpi'])], m);
  for (const id of ['a', 'b']) {
    assert.equal(found.get(id)!.caseNumber, 'C-1');
    assert.equal(found.get(id)!.warning, 'Line 2 matches 2 slides.');
  }
});

test('a name-only row names the scan and proposes no case', () => {
  const m = parseManifest('file,case,name\nS1.svs,,Liver\n');
  assert.deepEqual(matchSlides([slide('a', ['S1.svs'], ['B1'])], m).get('a'), { name: 'Liver', how: 'manifest-file', line: 2, confirmed: true });
});

test('without a manifest row, a single barcode is proposed, unconfirmed', () => {
  assert.deepEqual(matchSlides([slide('a', ['S1.svs'], ['B1', 'B1'])], null).get('a'), { caseNumber: 'B1', how: 'barcode', confirmed: false });
  // Read twice (label and metadata) in different case: still one barcode.
  assert.equal(matchSlides([slide('a', [], ['ab1', 'AB1'])], null).get('a')!.caseNumber, 'ab1');
  // With a manifest that has no line for the slide, the proposal says so.
  const m = parseManifest('file,case\nother.svs,C-1\n');
  assert.deepEqual(matchSlides([slide('a', ['S1.svs'], ['B1'])], m).get('a'), {
    caseNumber: 'B1',
    how: 'barcode',
    confirmed: false,
    warning: 'No line of the manifest matches this slide.',
  });
});

test('several different barcodes: nothing proposed, a warning says why', () => {
  const r = matchSlides([slide('a', ['S1.svs'], ['B1', 'B2'])], null).get('a')!;
  assert.deepEqual(r, { how: 'barcode', confirmed: false, warning: 'The slide has 2 different barcodes, so none is proposed as its case.' });
  assert.equal(isMatched(r), false);
});

test('a barcode that cannot be a case number is not proposed', () => {
  const r = matchSlides([slide('a', [], ['9'.repeat(80)])], null).get('a')!;
  assert.equal(r.caseNumber, undefined);
  assert.equal(r.warning, "The slide's barcode cannot be its case number: the case number is longer than 64 characters.");
});

test('no barcode and no row: null (flagged, not blocked)', () => {
  const found = matchSlides([slide('a', ['S1.svs'])], parseManifest('file,case\nS2.svs,C-2\n'));
  assert.equal(found.get('a'), null);
  assert.equal(isMatched(found.get('a')), false);
  assert.equal(matchSlides([slide('b', ['x.svs'])], null).get('b'), null);
});

test('warnings never quote a barcode, file name or case number', () => {
  const m = parseManifest('file,barcode,case\nSECRET1,,C-SECRET\n,BARSECRET,C-OTHER\n');
  const found = matchSlides(
    [slide('a', ['SECRET1.svs'], ['BARSECRET']), slide('b', ['secret1.ndpi']), slide('c', ['z.svs'], ['LONELY1', 'LONELY2'])],
    m,
  );
  const warnings = [...found.values()].map((r) => r?.warning ?? '').join(' ');
  assert.ok(warnings.length > 0);
  assert.ok(!/SECRET|LONELY/i.test(warnings), warnings);
});

test('a batch of 50 slides against a 50-row manifest is matched by barcode and file name', () => {
  const rows = Array.from({ length: 50 }, (_, i) => (i % 2 ? `,BC${i},CASE-${i}` : `slide-${i}.svs,,CASE-${i}`));
  const m = parseManifest(['file,barcode,case', ...rows].join('\n'));
  const slides = Array.from({ length: 50 }, (_, i) => slide(String(i), [`Slide-${i}.SVS`], i % 2 ? [`BC${i}`] : []));
  const found = matchSlides(slides, m);
  for (let i = 0; i < 50; i++) {
    const r = found.get(String(i))!;
    assert.equal(r.caseNumber, `CASE-${i}`);
    assert.equal(r.how, i % 2 ? 'manifest-barcode' : 'manifest-file');
    assert.equal(r.line, i + 2);
    assert.equal(r.warning, undefined);
  }
});
