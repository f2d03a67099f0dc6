import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeKeptFields, maxKeptFields, parseKeptFields } from '../../src/shared/kept-fields.ts';

test('keptFields: ids with commas, spaces, slashes, colons and non-ASCII survive the round trip', () => {
  const ids = ['tiff:306', 'aperio:ScanScope ID', 'aperio:a,b', 'dicom:00400560/00400551', 'aperio:Größe', 'aperio:50%'];
  const wire = encodeKeptFields(ids);
  assert.equal(wire.split(',').length, ids.length, 'a comma inside an id never splits it');
  assert.deepEqual(parseKeptFields(wire), ids);
  assert.deepEqual(parseKeptFields(''), []);
  assert.equal(encodeKeptFields([]), '');
  assert.deepEqual(parseKeptFields(encodeKeptFields(['tiff:306', 'tiff:306'])), ['tiff:306']);
});

test('keptFields: malformed values are refused with a message that does not repeat them', () => {
  for (const v of ['tiff:306', 'a,,b', ',', '%ZZ', '%C3%28', encodeURIComponent('Patient Name'), encodeURIComponent('TIFF:306'), encodeURIComponent('aperio:x\u0007')]) {
    const r = parseKeptFields(v);
    assert.equal(typeof r, 'string', v);
    assert.match(r as string, /^keptFields/);
    assert.ok(!(r as string).includes('Patient'));
  }
  assert.match(parseKeptFields(Array.from({ length: maxKeptFields + 1 }, (_, i) => `tiff%3A${i}`).join(',')) as string, /at most/);
});
