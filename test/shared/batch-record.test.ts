/**
 * Issue 14, the batch record: CSV (RFC 4180, one row per slide, formula-injection safe), the
 * printable HTML page (every value escaped, no scripts, the plain-words notice), JSON round trip,
 * file names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BATCH_RECORD_NOTICE,
  CSV_COLUMNS,
  batchRecordCsv,
  batchRecordFileNames,
  batchRecordHtml,
  batchRecordJson,
  csvCell,
  parseBatchRecord,
  type BatchRecordDoc,
  type SlideRecord,
} from '../../src/shared/batch-record/index.ts';
import { SlideError } from '../../src/shared/errors.ts';

const sha = (c: string) => c.repeat(64);

function slideRecord(over: Partial<SlideRecord> = {}): SlideRecord {
  return {
    originalFiles: [{ path: 'run 1/S1.svs', size: 1_234_567, sha256: sha('a') }],
    barcodes: [{ value: 'B-0001', symbology: 'Code128', source: 'label' }],
    displayName: 'Liver 1',
    match: { how: 'manifest-barcode', line: 4, confirmed: true },
    format: 'aperio-svs',
    width: 46_000,
    height: 32_914,
    mpp: { x: 0.499, y: 0.499, source: 'metadata' },
    sent: [{ name: 'slide.svs', size: 1_200_000, sha256: sha('b') }],
    removedFields: ['Date', 'Time', 'Filename'],
    removedImages: ['label', 'macro'],
    keptIdentifyingFields: [],
    verification: { ok: true, problems: [] },
    sweep: { valuesSearched: 12, hits: 0, ok: true },
    upload: { state: 'uploaded' },
    scan: { id: 41, url: 'https://slides.example.org/scans/41', status: 'ready', serverCheck: 'passed' },
    case: { number: 'C-2025-1', state: 'linked' },
    ...over,
  };
}

function doc(slides: SlideRecord[] = [slideRecord()]): BatchRecordDoc {
  return {
    kind: 'wsi-bulk-import.batch-record',
    version: 1,
    batchId: '3f2a9c1e-7b44-4c1d-9a8e-1234567890ab',
    client: 'web',
    server: 'https://slides.example.org',
    lab: 'Pathology',
    user: 'alice',
    startedAt: '2025-03-04T10:15:00.000Z',
    finishedAt: '2025-03-04T10:45:30.000Z',
    mode: 'deidentified',
    slides,
  };
}

/** A strict RFC 4180 reader for checking the output (CRLF records, "" escapes). */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let v = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (v += '"'), (i += 2);
      else if (c === '"') (quoted = false), i++;
      else (v += c), i++;
    } else if (c === '"' && v === '') (quoted = true), i++;
    else if (c === ',') row.push(v), (v = ''), i++;
    else if (c === '\r' && text[i + 1] === '\n') row.push(v), rows.push(row), (row = []), (v = ''), (i += 2);
    else {
      assert.notEqual(c, '\n', 'a bare LF outside quotes');
      assert.notEqual(c, '"', 'a quote inside an unquoted value');
      (v += c), i++;
    }
  }
  assert.equal(v, '', 'the file ends with CRLF');
  assert.equal(row.length, 0);
  return rows;
}

test('CSV: a header and one row per slide, lists joined with " | " in file order', () => {
  const d = doc([
    slideRecord(),
    slideRecord({
      originalFiles: [
        { path: 'm/slide.mrxs', size: 10, sha256: sha('c') },
        { path: 'm/slide/Data0000.dat', size: 20, sha256: null },
      ],
      displayName: null,
      match: null,
      case: null,
      scan: null,
      verification: null,
      sweep: null,
      mpp: null,
      upload: { state: 'failed', error: 'The server did not answer.' },
    }),
  ]);
  const rows = readCsv(batchRecordCsv(d));
  assert.deepEqual(rows[0], [...CSV_COLUMNS]);
  assert.deepEqual(CSV_COLUMNS, [
    'Display name', 'Case', 'Case state', 'Match', 'Original files', 'Original SHA-256', 'Barcodes', 'Format', 'Width', 'Height',
    'MPP x', 'MPP y', 'Sent files', 'Sent SHA-256', 'Removed fields', 'Removed images', 'Kept identifying fields', 'Verification',
    'Sweep', 'Upload', 'Scan id', 'Scan link', 'Error',
  ]);
  assert.equal(rows.length, 3);
  const col = (r: string[], name: string) => r[CSV_COLUMNS.indexOf(name)];
  const [, a, b] = rows;
  assert.equal(col(a, 'Display name'), 'Liver 1');
  assert.equal(col(a, 'Case'), 'C-2025-1');
  assert.equal(col(a, 'Case state'), 'Linked');
  assert.equal(col(a, 'Match'), 'Manifest, by barcode, line 4');
  assert.equal(col(a, 'Original files'), 'run 1/S1.svs');
  assert.equal(col(a, 'Original SHA-256'), sha('a'));
  assert.equal(col(a, 'Barcodes'), 'B-0001');
  assert.equal(col(a, 'Format'), 'Aperio SVS');
  assert.equal(col(a, 'Width'), '46000');
  assert.equal(col(a, 'MPP x'), '0.499');
  assert.equal(col(a, 'Sent SHA-256'), sha('b'));
  assert.equal(col(a, 'Removed fields'), 'Date | Time | Filename');
  assert.equal(col(a, 'Removed images'), 'label | macro');
  assert.equal(col(a, 'Verification'), 'Passed');
  assert.match(col(a, 'Sweep'), /^Passed/);
  assert.equal(col(a, 'Upload'), 'Uploaded');
  assert.equal(col(a, 'Scan id'), '41');
  assert.equal(col(a, 'Scan link'), 'https://slides.example.org/scans/41');
  assert.equal(col(a, 'Error'), '');
  assert.equal(col(b, 'Original files'), 'm/slide.mrxs | m/slide/Data0000.dat');
  assert.equal(col(b, 'Original SHA-256'), `${sha('c')} | not computed`);
  assert.equal(col(b, 'Display name'), '');
  assert.equal(col(b, 'Match'), 'Not matched');
  assert.equal(col(b, 'Verification'), 'Not done (Direct Upload)');
  assert.equal(col(b, 'Upload'), 'Failed');
  assert.equal(col(b, 'Error'), 'The server did not answer.');
  assert.equal(col(b, 'Scan id'), '');
});

test('CSV: quotes, separators, line breaks and outer spaces are quoted per RFC 4180', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell(' padded '), '" padded "');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(0.25), '0.25');
  const d = doc([slideRecord({ displayName: 'Name, with "quotes"\r\nand a break' })]);
  assert.equal(readCsv(batchRecordCsv(d))[1][0], 'Name, with "quotes"\r\nand a break');
});

test('CSV: values that would start a formula are neutralised with a leading quote', () => {
  for (const v of ['=HYPERLINK("http://evil","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', ' =1', '\r=1']) {
    const cell = csvCell(v);
    const text = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
    assert.equal(text, `'${v}`, JSON.stringify(v));
  }
  // In a whole record: a hostile file name and barcode.
  const d = doc([slideRecord({ originalFiles: [{ path: '=cmd|" /C calc"!A0', size: 1, sha256: null }], barcodes: [{ value: '@evil', symbology: 'QRCode', source: 'label' }] })]);
  const row = readCsv(batchRecordCsv(d))[1];
  assert.equal(row[CSV_COLUMNS.indexOf('Original files')], `'=cmd|" /C calc"!A0`);
  assert.equal(row[CSV_COLUMNS.indexOf('Barcodes')], `'@evil`);
  for (const cell of row) assert.ok(!/^\s*[=+\-@]/.test(cell), cell);
  // Numbers are numbers, not text.
  assert.equal(csvCell(-1), '-1');
});

test('CSV: an optional BOM for Excel', () => {
  assert.ok(batchRecordCsv(doc(), { bom: true }).startsWith('\uFEFFDisplay name,'));
  assert.ok(batchRecordCsv(doc()).startsWith('Display name,'));
});

test('HTML: every value is escaped — a value <script> stays text', () => {
  const evil = '<script>alert(1)</script>';
  const d = doc([
    slideRecord({
      displayName: evil,
      originalFiles: [{ path: `"><img src=x onerror=alert(1)>${evil}`, size: 5, sha256: null }],
      barcodes: [{ value: evil, symbology: '<b>', source: 'label' }],
      removedFields: [evil],
      case: { number: `${evil}&`, state: 'created' },
      upload: { state: 'failed', error: evil },
      scan: { id: 7, url: 'javascript:alert(1)', status: 'failed' },
    }),
  ]);
  d.lab = evil;
  d.user = `'${evil}`;
  d.batchId = `<x>${evil}`;
  const html = batchRecordHtml(d);
  assert.ok(!/<script/i.test(html), 'no script element');
  assert.ok(!/<img/i.test(html), 'no injected element');
  assert.ok(!/<b>/.test(html));
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!/href="javascript:/i.test(html), 'a non-web URL is not a link');
  assert.ok(html.includes('&amp;'));
});

test('HTML: self-contained — no scripts, no external resources, links only to the scans', () => {
  const d = doc([slideRecord(), slideRecord({ scan: { id: 42, url: 'https://slides.example.org/scans/42', status: 'needs-mpp' } })]);
  const html = batchRecordHtml(d);
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<html lang="en">/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
  assert.ok(!/<script|<link|<img|<iframe|@import|url\(/i.test(html));
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(hrefs.filter((h) => !h.startsWith('#')), ['https://slides.example.org/scans/41', 'https://slides.example.org/scans/42']);
  assert.ok(/src=/.test(html) === false);
  assert.match(html, /<main>/);
  assert.match(html, /@page \{ size: A4;/);
  assert.match(html, /@media print/);
});

test('HTML: the plain-words notice, the summary and a table per slide', () => {
  const d = doc([
    slideRecord(),
    slideRecord({ displayName: 'Second', upload: { state: 'failed', error: 'Upload failed.' }, scan: null, case: null }),
    slideRecord({ displayName: 'Third', upload: { state: 'cancelled' }, scan: null }),
  ]);
  const html = batchRecordHtml(d);
  assert.ok(html.includes(BATCH_RECORD_NOTICE));
  assert.match(BATCH_RECORD_NOTICE, /original file names and barcodes/);
  assert.match(BATCH_RECORD_NOTICE, /written on this computer/);
  assert.match(BATCH_RECORD_NOTICE, /not uploaded/);
  assert.match(BATCH_RECORD_NOTICE, /Keep it with the lab’s records/);
  const summary = html.slice(html.indexOf('<table class="summary">'), html.indexOf('</table>', html.indexOf('<table class="summary">')));
  assert.match(summary, /<th scope="row">Slides<\/th><td>3 slides<\/td>/);
  assert.match(summary, /<th scope="row">Uploaded<\/th><td>1<\/td>/);
  assert.match(summary, /<th scope="row">Failed<\/th><td><span class="bad">1<\/span><\/td>/);
  assert.match(summary, /<th scope="row">Not uploaded<\/th><td>1 cancelled<\/td>/);
  assert.ok(summary.includes('3f2a9c1e-7b44-4c1d-9a8e-1234567890ab'));
  assert.ok(summary.includes('datetime="2025-03-04T10:15:00.000Z"'));
  assert.ok(summary.includes('https://slides.example.org'));
  assert.ok(summary.includes('Pathology') && summary.includes('alice'));
  assert.equal((html.match(/<section class="slide"/g) ?? []).length, 3);
  assert.match(html, /Slide 2 of 3: Second/);
  assert.ok(html.includes('run 1/S1.svs'));
  assert.ok(html.includes('B-0001'));
  assert.ok(html.includes(sha('a')) && html.includes(sha('b')));
  assert.ok(html.includes('46,000 × 32,914 pixels'));
  assert.ok(html.includes('Aperio SVS'));
  assert.ok(html.includes('C-2025-1 — Linked'));
  assert.ok(html.includes('Scan 41 — Ready'));
});

test('JSON: pretty, complete, and reads back to the same record', () => {
  const d = doc([slideRecord(), slideRecord({ error: 'x', upload: { state: 'not-started' }, mpp: null })]);
  const text = batchRecordJson(d);
  assert.ok(text.startsWith('{\n  "kind": "wsi-bulk-import.batch-record",'));
  assert.deepEqual(JSON.parse(text), d);
  assert.deepEqual(parseBatchRecord(text), d);
  assert.throws(() => parseBatchRecord('{"kind":"other"}'), (e: unknown) => e instanceof SlideError && e.code === 'BAD_REQUEST');
  assert.throws(() => parseBatchRecord('not json'), SlideError);
  assert.throws(() => parseBatchRecord(JSON.stringify({ ...d, version: 2 })), (e: unknown) => e instanceof SlideError && e.code === 'UNSUPPORTED');
});

test('file names: batch-<date>-<id8>, safe characters only', () => {
  const d = doc();
  const started = new Date(d.startedAt);
  const date = `${started.getFullYear()}-${String(started.getMonth() + 1).padStart(2, '0')}-${String(started.getDate()).padStart(2, '0')}`;
  assert.deepEqual(batchRecordFileNames(d), { json: `batch-${date}-3f2a9c1e.json`, csv: `batch-${date}-3f2a9c1e.csv`, html: `batch-${date}-3f2a9c1e.html` });
  assert.equal(batchRecordFileNames({ ...d, batchId: '../../etc/passwd' }).json, `batch-${date}-etcpassw.json`);
  assert.equal(batchRecordFileNames({ ...d, startedAt: 'soon', batchId: '' }).csv, 'batch-undated-batch.csv');
});
