import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plural } from '../../src/shared/plural.ts';
import { sentence } from '../../src/shared/sentence.ts';
import { STATUS_LABELS, statusLabel } from '../../src/shared/status-names.ts';

/** Issue 13, words for lab staff: counts with their noun, messages as sentences, statuses in words. */
test('plural: "1 slide", "2 slides", "0 slides", irregular plurals, thousands separated', () => {
  assert.equal(plural(1, 'slide'), '1 slide');
  assert.equal(plural(2, 'slide'), '2 slides');
  assert.equal(plural(0, 'slide'), '0 slides');
  assert.equal(plural(3, 'copy', 'copies'), '3 copies');
  assert.equal(plural(12345, 'byte'), '12,345 bytes');
});

test('sentence: a capital first letter and a full stop, added only when missing', () => {
  assert.equal(sentence('a case with this number already exists'), 'A case with this number already exists.');
  assert.equal(sentence('Wrong username or password.'), 'Wrong username or password.');
  assert.equal(sentence('too many attempts?'), 'Too many attempts?');
  assert.equal(sentence('  '), '');
});

test('statusLabel: every status in words, never a slug; an unknown status shown as sent', () => {
  assert.equal(statusLabel('needs-mpp'), 'Needs MPP');
  assert.equal(statusLabel('quarantined'), 'Quarantined — failed verification');
  for (const label of Object.values(STATUS_LABELS)) assert.match(label, /^[A-Z][^-]*( — [a-z ]+)?$/, label);
  assert.equal(statusLabel('archived'), 'archived');
  assert.equal(statusLabel(null), 'Unknown');
});
