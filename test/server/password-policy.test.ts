import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commonPasswords, minPasswordLength, passwordProblem } from '../../src/server/auth/password-policy.ts';
import { generatePassword } from '../../src/server/auth/password.ts';

const code = (p: string, user?: string) => passwordProblem(p, user)?.code ?? 'OK';

test('length >= 12 or a passphrase of 4 different words; no composition rules', () => {
  assert.equal(minPasswordLength, 12);
  assert.equal(code('tulip-kettle'), 'OK', '12 characters, lower case only, is enough');
  assert.equal(code('tulipkettle'), 'TOO_SHORT', '11 characters, one word');
  assert.equal(code('ox ant elk yak'), 'OK', 'four different words, shorter than 12');
  assert.equal(code('ox ox ox ya'), 'TOO_SHORT', 'repeated words do not count twice');
  assert.equal(code('ox ant elk'), 'TOO_SHORT', 'three words');
  assert.equal(code('Zürich-Glühwein'), 'OK', 'any Unicode letters');
  assert.equal(code('ß'.repeat(11) + 'x'), 'OK', 'length counts characters, not bytes, and no class is required');
  assert.equal(code('x'.repeat(1001)), 'TOO_LONG');
});

test('common passwords from the shipped list are refused, also with digits or symbols around them', () => {
  const list = commonPasswords();
  assert.ok(list.size > 5000, `the list has ${list.size} entries`);
  assert.ok(list.has('password') && list.has('qwertyuiop12'), 'ranked entries are there');
  for (const p of ['password1234', 'qwertyuiop12', 'Password2024!', '!!Sunshine2023', 'iloveyou1234', 'P-A-S-S-W-O-R-D-1-2', 'correct horse battery staple', 'WSI-Bulk-Import-1']) {
    assert.equal(code(p), 'COMMON', p);
  }
  // A common word inside a longer password is fine: only the whole (undecorated) password is checked.
  assert.equal(code('dragon-on-the-microscope'), 'OK');
});

test('trivial patterns and the username are refused', () => {
  assert.equal(code('aaaaaaaaaaaa'), 'PATTERN');
  assert.equal(code('abcdefghijklm'), 'PATTERN');
  assert.equal(code('987654321098'), 'PATTERN');
  assert.equal(code('567890123456'), 'PATTERN');
  assert.equal(code('xyzxyzxyzxyz'), 'PATTERN');
  assert.equal(code('dr.jane.fitzgerald', 'dr.jane.fitzgerald'), 'USERNAME');
  assert.equal(code('Dr.Jane.Fitzgerald!!', 'dr.jane.fitzgerald'), 'USERNAME');
  assert.equal(code('dr.jane.fitzgerald', 'someone.else'), 'OK');
});

test('generated passwords (first admin, resets) always pass', () => {
  for (let i = 0; i < 500; i++) {
    const p = generatePassword();
    assert.equal(passwordProblem(p, 'admin'), null, p);
  }
});
