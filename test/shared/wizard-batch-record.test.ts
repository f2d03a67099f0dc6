import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchRecordDoc } from '../../src/upload/batch-record-doc.ts';
import { matchMetadata } from '../../src/shared/match-metadata.ts';
import { validateScanName } from '../../src/shared/scan-name.ts';
import { batchRecordCsv, batchRecordHtml, batchRecordJson } from '../../src/shared/batch-record/index.ts';
import type { BatchRecord, SlideEntry } from '../../src/upload/batch-types.ts';

/** The wizard's side of issue 14: a batch → its record (C6), a match → its upload metadata (C1). */
function slide(over: Partial<SlideEntry>): SlideEntry {
  return {
    id: crypto.randomUUID(), sourceId: 's', name: 'S24-0001 Smith.svs', parts: [{ sourceId: 's', path: 'in/S24-0001 Smith.svs', size: 1000 }], size: 1000,
    format: 'aperio-svs', width: 2000, height: 1000, mpp: { x: 0.25, y: 0.25, source: 'metadata' },
    fields: [
      { id: 'f:name', label: 'File name', value: 'S24-0001 Smith.svs', class: 'phi' },
      { id: 'aperio:User', label: 'User', value: 'dr. who', class: 'phi' },
      { id: 'aperio:MPP', label: 'MPP', value: '0.25', class: 'critical' },
    ],
    images: [{ id: 'label', role: 'label', width: 10, height: 10, compression: 'lzw' }, { id: 'macro', role: 'overview', width: 10, height: 10, compression: 'jpeg' }],
    removeFields: ['f:name'], removeImages: ['label', 'macro'],
    ...over,
  };
}

function batch(slides: SlideEntry[], over: Partial<BatchRecord> = {}): BatchRecord {
  return { id: 'b1234567-aaaa', userId: 1, createdAt: Date.UTC(2026, 0, 2), updatedAt: 0, step: 7, directUpload: false, uidKey: 'k', slides, uploadStarted: true, uploadPaused: false, finishedAt: Date.UTC(2026, 0, 2, 1), ...over };
}

describe('batch record of a wizard batch', () => {
  it('a zero-copy slide: verified and swept once all its parts are on the server, not claimed before', () => {
    const part = { part: 0, name: 'slide-12345678.svs', size: 900, sha256: 'c'.repeat(64), state: 'done' as const, bytesSent: 900 };
    const sent = slide({ sendMode: 'zero-copy', zeroCopy: { planKey: 'k', keptFields: ['aperio:User'], valuesSearched: 3 }, uploads: [part], scanId: 8 });
    const halfway = slide({ sendMode: 'zero-copy', zeroCopy: { planKey: 'k', keptFields: [], valuesSearched: 3 }, uploads: [{ ...part, state: 'uploading', bytesSent: 100 }] });
    const [a, b] = batchRecordDoc(batch([sent, halfway]), { server: 'https://slides.example', lab: null, user: null }).slides;
    assert.deepEqual(a!.verification, { ok: true, problems: [] });
    assert.deepEqual(a!.sweep, { valuesSearched: 3, hits: 0, ok: true });
    assert.deepEqual(a!.keptIdentifyingFields, ['User']);
    assert.deepEqual(a!.sent, [{ name: 'slide-12345678.svs', size: 900, sha256: 'c'.repeat(64) }]);
    assert.equal(b!.verification, null);
    assert.equal(b!.sweep, null);
  });

  it('holds the original names, barcodes and hashes, labels of what was removed, never a removed value', () => {
    const done = slide({
      barcodes: [{ value: 'LAB-7731-A', symbology: 'Code128', source: 'label' }],
      match: { caseNumber: 'C-1', name: 'Case 1 A', how: 'manifest-barcode', line: 2, confirmed: true },
      originalSha256: ['a'.repeat(64)],
      staged: { outputs: [{ name: 'x.svs', opfsPath: 'p/x.svs', size: 900, sha256: 'b'.repeat(64), deleted: true }], verifyOk: true, problems: [], sweep: { valuesSearched: 2, hits: 0, ok: true }, keptFields: ['aperio:User'] },
      uploads: [{ part: 0, name: 'slide-12345678.svs', size: 900, sha256: 'b'.repeat(64), state: 'done', bytesSent: 900 }],
      scanId: 7, serverCheck: { state: 'passed' },
    });
    const broken = slide({ name: 'broken.svs', parts: [{ sourceId: 's', path: 'broken.svs', size: 3 }], error: { code: 'CORRUPT', message: 'The file is damaged' } });
    const doc = batchRecordDoc(batch([done, broken]), {
      server: 'https://slides.example', lab: 'Pathology', user: 'alice',
      scans: new Map([[done.id, { status: 'ready', name: 'Case 1 A', caseLink: { caseNumber: 'C-1', state: 'created' } }]]),
    });
    assert.equal(doc.kind, 'wsi-bulk-import.batch-record');
    assert.equal(doc.mode, 'deidentified');
    assert.equal(doc.startedAt, '2026-01-02T00:00:00.000Z');
    const [a, b] = doc.slides;
    assert.deepEqual(a!.originalFiles, [{ path: 'in/S24-0001 Smith.svs', size: 1000, sha256: 'a'.repeat(64) }]);
    assert.deepEqual(a!.barcodes, [{ value: 'LAB-7731-A', symbology: 'Code128', source: 'label' }]);
    assert.equal(a!.displayName, 'Case 1 A');
    assert.deepEqual(a!.match, { how: 'manifest-barcode', line: 2, confirmed: true });
    assert.deepEqual(a!.sent, [{ name: 'slide-12345678.svs', size: 900, sha256: 'b'.repeat(64) }]);
    assert.deepEqual(a!.removedFields, ['File name']);
    assert.deepEqual(a!.removedImages, ['label', 'overview']);
    assert.deepEqual(a!.keptIdentifyingFields, ['User']);
    assert.deepEqual(a!.verification, { ok: true, problems: [] });
    assert.deepEqual(a!.upload, { state: 'uploaded' });
    assert.deepEqual(a!.scan, { id: 7, url: 'https://slides.example/scans/7', status: 'ready', serverCheck: 'passed' });
    assert.deepEqual(a!.case, { number: 'C-1', state: 'created' });
    assert.deepEqual(b!.upload, { state: 'skipped' });
    assert.equal(b!.error, 'The file is damaged');
    const json = batchRecordJson(doc);
    assert.ok(!json.includes('dr. who'), 'field values are never in the record');
    for (const text of [json, batchRecordCsv(doc), batchRecordHtml(doc)]) {
      assert.ok(text.includes('S24-0001 Smith.svs') && text.includes('LAB-7731-A'), 'names and barcodes in every form');
    }
  });

  it('Direct Upload: nothing removed or verified; the sent hash is the original hash', () => {
    const s = slide({ uploads: [{ part: 0, name: 'S24-0001 Smith.svs', size: 1000, sha256: 'c'.repeat(64), state: 'done', bytesSent: 1000 }], originalSha256: ['c'.repeat(64)], scanId: 3 });
    const [r] = batchRecordDoc(batch([s], { directUpload: true }), { server: 'http://x', lab: null, user: null }).slides;
    assert.equal(r!.verification, null);
    assert.equal(r!.sweep, null);
    assert.deepEqual(r!.removedFields, []);
    assert.equal(r!.originalFiles[0]!.sha256, r!.sent[0]!.sha256);
    assert.equal(r!.scan!.status, 'unknown');
  });
});

describe('upload metadata of a match (C1)', () => {
  it('sends the name always, the case only once confirmed, createCase only with it', () => {
    assert.deepEqual(matchMetadata(null, true), {});
    assert.deepEqual(matchMetadata({ caseNumber: 'LAB-1', how: 'barcode', confirmed: false }, true), {}, 'a proposed barcode never goes');
    assert.deepEqual(matchMetadata({ caseNumber: 'LAB-1', how: 'barcode', confirmed: true }, true), { caseNumber: 'LAB-1', createCase: '1' });
    assert.deepEqual(matchMetadata({ caseNumber: ' C-1 ', name: ' A ', how: 'manifest-file', line: 3, confirmed: true }, false), { scanName: 'A', caseNumber: 'C-1' });
    assert.deepEqual(matchMetadata({ name: 'Only a name', how: 'manual', confirmed: true }, true), { scanName: 'Only a name' });
    assert.deepEqual(matchMetadata({ how: 'manual', confirmed: true }, true), {}, 'cleared');
  });

  it('checks a display name as the server does', () => {
    assert.equal(validateScanName('Case 1 A'), null);
    assert.match(validateScanName('  ')!, /empty/);
    assert.match(validateScanName('x'.repeat(201))!, /200/);
    assert.match(validateScanName('a\tb')!, /control/);
  });
});
