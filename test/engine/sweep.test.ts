/**
 * The PHI sweep against a naive search: values of the shortest searched lengths (5..9 bytes, where
 * the one-unit-per-4-bytes scan has the least slack) planted at every offset modulo 4, overlapping
 * each other and chunk boundaries, fed in chunks of awkward sizes and at odd byte offsets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhiSweeper } from '../../src/engine/redact/sweep.ts';
import { encodedForms, freeTextRuns, valuePieces } from '../../src/engine/redact/encodings.ts';

function rnd(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = x % 7; // few symbols: many partial matches
  }
  return out;
}

function naive(data: Uint8Array, values: Uint8Array[]): number {
  let hits = 0;
  for (const v of values) {
    outer: for (let i = 0; i + v.length <= data.length; i++) {
      for (let j = 0; j < v.length; j++) if (data[i + j] !== v[j]) continue outer;
      hits++;
    }
  }
  return hits;
}

test('sweep counts exactly what a naive search finds, for short values at every alignment', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const values = [5, 6, 7, 9].map((len, k) => rnd(len, seed * 100 + k).map((b) => b + 1));
    const data = rnd(3000, seed);
    let at = 3;
    for (const v of values) {
      for (let shift = 0; shift < 4; shift++) {
        data.set(v, at + shift);
        at += 37 + shift;
      }
    }
    data.set(values[0]!, 500);
    data.set(values[0]!, 503); // overlapping occurrences of one value
    const want = naive(data, values);
    assert.ok(want >= 12, `planted ${want}`);
    for (const chunk of [1, 2, 5, 8, 63, 4096]) {
      for (const lead of [0, 1]) {
        // Chunks copied to odd offsets of a bigger buffer, as a source's views might be.
        const s = new PhiSweeper(values, 1000);
        for (let i = 0; i < data.length; i += chunk) {
          const piece = data.subarray(i, i + chunk);
          const host = new Uint8Array(piece.length + lead);
          host.set(piece, lead);
          s.push(host.subarray(lead));
        }
        assert.equal(s.hits, want, `seed ${seed} chunk ${chunk} lead ${lead}`);
      }
    }
  }
});

test('sweep: a match wholly inside a generated range (a remapped UID) is not a hit; anywhere else it is', () => {
  const enc = new TextEncoder();
  const id = enc.encode('731946'); // a numeric patient ID
  const uid = '2.25.118273194655012093847561029384756102'; // a fresh UID that holds it by chance
  const head = 'UI\0\0';
  const data = enc.encode(`${head}${uid}\0\0PatientID 731946 ...2.25.1182731946`);
  const generated = [{ offset: head.length, length: uid.length }];
  for (const chunk of [1, 3, 7, 16, 4096]) {
    const s = new PhiSweeper([id], 1000, generated);
    for (let i = 0; i < data.length; i += chunk) s.push(data.subarray(i, i + chunk));
    // The one inside the generated UID is exempt; the plain one and the one in an
    // ungenerated look-alike count.
    assert.equal(s.hits, 2, `chunk ${chunk}`);
  }
  const plain = new PhiSweeper([id], 1000);
  plain.push(data);
  assert.equal(plain.hits, 3, 'without generated ranges every occurrence counts');
});

test('every encoded form of a value is found: Latin-1, UTF-8, UTF-16LE/BE, base64 at any alignment', async () => {
  const { sweepPatterns } = await import('../../src/engine/redact/encodings.ts');
  const value = Buffer.from('Jos\xe9 Ru\xedz 1961-04-12', 'latin1');
  const text = value.toString('latin1');
  const containers = [
    Buffer.from(`..${text}..`, 'latin1'),
    Buffer.from(`<x>${text}</x>`, 'utf8'),
    Buffer.from(`name=${text};`, 'utf16le'),
    Buffer.from(`name=${text};`, 'utf16le').swap16(),
    ...['', 'a', 'ab', 'abc'].map((pre) => Buffer.from(Buffer.from(`${pre}<n>${text}</n>`, 'latin1').toString('base64'), 'latin1')),
  ];
  for (const [i, c] of containers.entries()) {
    const s = new PhiSweeper(sweepPatterns([value]), 1000);
    s.push(Uint8Array.from(c));
    assert.ok(s.hits > 0, `container ${i} not found`);
  }
  const clean = new PhiSweeper(sweepPatterns([value]), 1000);
  clean.push(Uint8Array.from(Buffer.from(`..${text.replace('Ru', 'Xu')}..${Buffer.from('other').toString('base64')}`, 'latin1')));
  assert.equal(clean.hits, 0);
});

test('a value read out of XML is also searched as written there (entities escaped)', () => {
  const forms = encodedForms(Uint8Array.from('Smith&Sons Clinic', (c) => c.charCodeAt(0))).map((f) => Buffer.from(f).toString('latin1'));
  assert.ok(forms.includes('Smith&amp;Sons Clinic'));
  assert.ok(!encodedForms(Uint8Array.from('Plain Name', (c) => c.charCodeAt(0))).some((f) => Buffer.from(f).toString('latin1').includes('&')));
});

test('removed free text is searched by its runs of words too (a name inside a comment), not by short words', () => {
  const runs = freeTextRuns('  scanned by Dr Comment Phi-Person ');
  assert.equal(runs[0], 'scanned by Dr Comment Phi-Person');
  assert.ok(runs.includes('Dr Comment Phi-Person'));
  assert.ok(runs.every((r) => r.length >= 12));
  assert.deepEqual(freeTextRuns('two words'), ['two words']);
  // A long token (an identifier) is a run on its own: "exported for DR-COMMENT-PHI-3312".
  assert.ok(freeTextRuns('<!-- exported for DR-COMMENT-PHI-3312 -->').includes('DR-COMMENT-PHI-3312'));
  assert.deepEqual(freeTextRuns('   '), []);
  assert.ok(freeTextRuns(Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ')).length <= 129);
});

test('a URN value is also searched without its prefix (urn:uuid:…)', () => {
  const pieces = valuePieces(Uint8Array.from('<UUID>urn:uuid:5d1e0a4c-PHI-UUID-000000000001</UUID>', (c) => c.charCodeAt(0))).map((p) => Buffer.from(p).toString('latin1'));
  assert.ok(pieces.includes('5d1e0a4c-PHI-UUID-000000000001'));
});
