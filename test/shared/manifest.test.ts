/**
 * Issue 14, the batch manifest: valid files in the shapes labs produce (comma, semicolon, tab,
 * quoted values, BOM, CRLF, header aliases), malformed files (each problem with its line number),
 * and conflicting ones (duplicate keys). Problems never quote a row's values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MANIFEST_ROWS, parseManifest, type Manifest } from '../../src/shared/manifest.ts';

const lines = (m: Manifest) => m.problems.map((p) => p.line);
const messages = (m: Manifest) => m.problems.map((p) => p.message);

test('comma-separated with file, case and name', () => {
  const m = parseManifest('file,case,name\nS1.svs,C-1,First\nS2.svs,C-2,Second\n');
  assert.deepEqual(m.columns, ['file', 'case', 'name']);
  assert.deepEqual(m.problems, []);
  assert.deepEqual(m.rows, [
    { line: 2, file: 'S1.svs', caseNumber: 'C-1', name: 'First' },
    { line: 3, file: 'S2.svs', caseNumber: 'C-2', name: 'Second' },
  ]);
});

test('semicolon-separated (a European Excel export) with a BOM and CRLF', () => {
  const m = parseManifest('\uFEFFBarcode;Case Number;Display Name\r\nB1;C-1;Liver, left\r\nB2;C-2;\r\n');
  assert.deepEqual(m.columns, ['barcode', 'case', 'name']);
  assert.deepEqual(m.problems, []);
  assert.deepEqual(m.rows, [
    { line: 2, barcode: 'B1', caseNumber: 'C-1', name: 'Liver, left' },
    { line: 3, barcode: 'B2', caseNumber: 'C-2' },
  ]);
});

test('a table pasted from a spreadsheet (tabs), with trailing empty columns and rows', () => {
  const m = parseManifest('File name\tAccession\t\t\nS1.svs\tC-1\t\t\nS2.svs\tC 2\t\t\n\t\t\t\n');
  assert.deepEqual(m.columns, ['file', 'case']);
  assert.deepEqual(m.problems, []);
  assert.deepEqual(m.rows.map((r) => [r.line, r.file, r.caseNumber]), [[2, 'S1.svs', 'C-1'], [3, 'S2.svs', 'C 2']]);
});

test('quoted values with separators, quotes and newlines; line numbers follow the file', () => {
  const text = 'filename,case_number,scan name\n"S1.svs","C-1","Liver, ""left"" lobe"\n"S2.svs",C-2,"two\r\nlines"\nS3.svs,C-3,x\n';
  const m = parseManifest(text);
  assert.deepEqual(m.problems, []);
  assert.equal(m.rows[0].name, 'Liver, "left" lobe');
  // A line break in a name (Alt+Enter in a spreadsheet cell) becomes a space.
  assert.equal(m.rows[1].name, 'two lines');
  // Row 3 starts on line 5: the quoted name of line 3 spans two lines.
  assert.deepEqual(m.rows.map((r) => r.line), [2, 3, 5]);
});

test('values are trimmed; spaces around a quoted value are ignored', () => {
  const m = parseManifest('file , case \n  S1.svs ,  "C-1"  \n');
  assert.deepEqual(m.rows, [{ line: 2, file: 'S1.svs', caseNumber: 'C-1' }]);
});

test('aliases for each column, in any case', () => {
  for (const [header, col] of [
    ['FILE', 'file'], ['Filename', 'file'], ['file name', 'file'], ['BARCODE', 'barcode'], ['bar code', 'barcode'],
  ] as const) {
    const m = parseManifest(`${header},case\nX,C-1\n`);
    assert.deepEqual(m.columns, [col, 'case'], header);
    assert.deepEqual(m.problems, [], header);
  }
  for (const header of ['case', 'Case Number', 'case_number', 'accession', 'CASE-NUMBER']) {
    assert.deepEqual(parseManifest(`file,${header}\nX,C-1\n`).columns, ['file', 'case'], header);
  }
  for (const header of ['name', 'Display name', 'scan_name']) {
    assert.deepEqual(parseManifest(`file,${header}\nX,N\n`).columns, ['file', 'name'], header);
  }
});

test('a row with an empty case but a name is kept (it names the scan, links no case)', () => {
  const m = parseManifest('file,case,name\nS1.svs,,Only a name\n');
  assert.deepEqual(m.problems, []);
  assert.deepEqual(m.rows, [{ line: 2, file: 'S1.svs', name: 'Only a name' }]);
});

test('a row with both a file and a barcode', () => {
  const m = parseManifest('file,barcode,case\nS1.svs,B1,C-1\n,B2,C-2\nS3.svs,,C-3\n');
  assert.deepEqual(m.problems, []);
  assert.deepEqual(m.rows.map((r) => [r.file, r.barcode]), [['S1.svs', 'B1'], [undefined, 'B2'], ['S3.svs', undefined]]);
});

test('malformed: an unknown column is named (a header is not PHI) and ignored', () => {
  const m = parseManifest('file,case,Patient\nS1.svs,C-1,Jane Doe\n');
  assert.deepEqual(lines(m), [1]);
  assert.match(m.problems[0].message, /^Line 1: the column "Patient" is not one the import knows/);
  assert.deepEqual(m.rows, [{ line: 2, file: 'S1.svs', caseNumber: 'C-1' }]);
  assert.ok(!messages(m).join(' ').includes('Jane'));
});

test('malformed: no key column', () => {
  const m = parseManifest('case,name\nC-1,N\n');
  assert.deepEqual(lines(m), [1]);
  assert.match(m.problems[0].message, /^Line 1: the manifest needs a file or a barcode column/);
  assert.deepEqual(m.rows, []);
});

test('malformed: no case or name column', () => {
  const m = parseManifest('file,barcode\nS1.svs,B1\n');
  assert.match(m.problems[0].message, /needs a case or a name column/);
  assert.deepEqual(m.rows, []);
});

test('malformed: a first line that is data, not a header, is not quoted back', () => {
  const m = parseManifest('S1.svs,C-1\nS2.svs,C-2\n');
  assert.deepEqual(lines(m), [1]);
  assert.match(m.problems[0].message, /^Line 1 is not a header the import knows/);
  assert.ok(!m.problems[0].message.includes('S1'));
  assert.deepEqual(m.rows, []);
});

test('malformed: a row with neither file nor barcode, an empty file, an empty barcode', () => {
  let m = parseManifest('file,barcode,case\nS1.svs,,C-1\n,,C-2\n');
  assert.deepEqual(m.problems, [{ line: 3, message: 'Line 3: there is neither a file nor a barcode.' }]);
  assert.equal(m.rows.length, 1);
  m = parseManifest('file,case\n,C-1\n');
  assert.deepEqual(m.problems, [{ line: 2, message: 'Line 2: the file is empty.' }]);
  m = parseManifest('barcode,case\n,C-1\n');
  assert.deepEqual(m.problems, [{ line: 2, message: 'Line 2: the barcode is empty.' }]);
});

test('malformed: an empty case (and no name) is a problem on its line', () => {
  const m = parseManifest('file,case,name\nS1.svs,C-1,\nS2.svs,,\nS3.svs,C-3,\n');
  assert.deepEqual(m.problems, [{ line: 3, message: 'Line 3: the case is empty.' }]);
  assert.deepEqual(m.rows.map((r) => r.line), [2, 4]);
  const byName = parseManifest('file,name\nS1.svs,\n');
  assert.deepEqual(byName.problems, [{ line: 2, message: 'Line 2: the name is empty.' }]);
});

test('malformed: an invalid case number (validateCaseNumber) and an invalid name', () => {
  const m = parseManifest(`file,case,name\nS1.svs,${'9'.repeat(65)},N\nS2.svs,"C\u0007",N\nS3.svs,C-3,${'n'.repeat(201)}\nS4.svs,C-4,"a\tb"\n`);
  assert.deepEqual(m.problems, [
    { line: 2, message: 'Line 2: the case number is longer than 64 characters.' },
    { line: 3, message: 'Line 3: the case number holds control characters.' },
    { line: 4, message: 'Line 4: the name is longer than 200 characters.' },
    { line: 5, message: 'Line 5: the name holds control characters.' },
  ]);
  assert.deepEqual(m.rows, []);
});

test('malformed: too many values in a row (empty extras are trailing separators and fine)', () => {
  const m = parseManifest('file,case\nS1.svs,C-1,extra,more\nS2.svs,C-2,,\nS3.svs\n');
  assert.deepEqual(m.problems, [
    { line: 2, message: 'Line 2 has 4 values but the header has 2 columns.' },
    { line: 4, message: 'Line 4: the case is empty.' },
  ]);
  assert.deepEqual(m.rows.map((r) => r.line), [3]);
});

test('malformed: an unterminated quote drops its line and the rest, keeps the lines before', () => {
  const m = parseManifest('file,case\nS1.svs,C-1\nS2.svs,"C-2\nS3.svs,C-3\n');
  assert.deepEqual(lines(m), [3]);
  assert.match(m.problems[0].message, /^Line 3: a quoted value is not closed/);
  assert.deepEqual(m.rows.map((r) => r.line), [2]);
  const inHeader = parseManifest('"file,case\nS1.svs,C-1\n');
  assert.deepEqual(inHeader.problems.map((p) => p.line), [1]);
  assert.deepEqual(inHeader.rows, []);
});

test('malformed: an empty file, a header with no rows', () => {
  for (const t of ['', '\uFEFF', '\r\n\r\n', ' , \n']) {
    const m = parseManifest(t);
    assert.deepEqual(m.problems, [{ line: 0, message: 'The manifest is empty.' }], JSON.stringify(t));
    assert.deepEqual(m.rows, []);
  }
  assert.deepEqual(parseManifest('file,case\n').problems, [{ line: 0, message: 'The manifest has a header but no rows below it.' }]);
});

test('malformed: more than 10,000 rows', () => {
  const ok = ['file,case', ...Array.from({ length: MAX_MANIFEST_ROWS }, (_, i) => `S${i}.svs,C-${i}`)].join('\n');
  const okM = parseManifest(ok);
  assert.equal(okM.rows.length, MAX_MANIFEST_ROWS);
  assert.deepEqual(okM.problems, []);
  const tooMany = parseManifest(`${ok}\nX.svs,C-X\n`);
  assert.deepEqual(tooMany.rows, []);
  assert.deepEqual(tooMany.problems, [{ line: 0, message: 'The manifest has more than 10,000 rows; split it into smaller files.' }]);
});

test('malformed: a column given twice, a column with no name', () => {
  const m = parseManifest('file,case,,accession\nS1.svs,C-1,x,C-9\n');
  assert.deepEqual(m.columns, ['file', 'case']);
  assert.deepEqual(m.problems.map((p) => p.message), [
    'Line 1: column 3 has no name, so its values are not used.',
    'Line 1: columns 2 and 4 are both the case column; only column 2 is used.',
  ]);
  assert.deepEqual(m.rows, [{ line: 2, file: 'S1.svs', caseNumber: 'C-1' }]);
});

test('conflicting: duplicate barcodes and file names leave every row of the group out, without echoing values', () => {
  const m = parseManifest(
    'file,barcode,case\n' +
      ',B1,C-1\n' + // 2
      'S1.svs,,C-2\n' + // 3
      ',B2,C-3\n' + // 4
      'dir/s1.SVS,,C-4\n' + // 5  same file name as line 3 (base name, case-insensitive)
      ',B1,C-5\n' + // 6
      ',B1,C-6\n', // 7
  );
  assert.deepEqual(m.problems, [
    { line: 2, message: 'Lines 2, 6 and 7 have the same barcode, so none of them is used.' },
    { line: 3, message: 'Lines 3 and 5 have the same file name, so none of them is used.' },
  ]);
  assert.deepEqual(m.rows.map((r) => r.line), [4]);
  for (const msg of messages(m)) assert.ok(!/B1|S1|s1|C-\d/.test(msg), msg);
});

test('barcodes differing only in case are not duplicates (the matcher prefers the exact one)', () => {
  const m = parseManifest('barcode,case\nAB1,C-1\nab1,C-2\n');
  assert.deepEqual(m.problems, []);
  assert.equal(m.rows.length, 2);
});

test('every problem is a sentence with a capital and a full stop', () => {
  const m = parseManifest('file,barcode,case,Other,\nS1.svs,,\n,,C\nS2.svs,B,C,x,y,z\n"S3.svs,C\n');
  assert.ok(m.problems.length >= 4);
  for (const p of m.problems) assert.match(p.message, /^[A-Z].*\.$/s, p.message);
});
