import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attr, cutSpans, elements, localName, parseXml, textOf } from '../../src/engine/xml/xml-tree.ts';
import { SlideError } from '../../src/shared/errors.ts';

const doc = `<?xml version="1.0" encoding="UTF-8"?>
<!-- made by a scanner -->
<scn xmlns="http://www.leica-microsystems.com/scn/2010/10/01">
  <collection name="J. Smith &amp; Co" uuid='u-1'>
    <barcode>QUJD</barcode>
    <image><![CDATA[a < b]]></image>
    <empty/>
  </collection>
</scn>\0\0`;

test('parses elements, attributes, text, CDATA, comments with exact spans', () => {
  const d = parseXml(doc, 'the test XML');
  assert.equal(d.root.name, 'scn');
  assert.equal(d.prolog.filter((n) => n.kind === 'comment').length, 1);
  const [collection] = elements(d.root, 'collection');
  assert.ok(collection);
  assert.equal(attr(collection, 'name'), 'J. Smith & Co');
  assert.equal(attr(collection, 'uuid'), 'u-1');
  const [barcode] = elements(collection, 'barcode');
  assert.equal(textOf(barcode!), 'QUJD');
  assert.equal(doc.slice(barcode!.start, barcode!.end), '<barcode>QUJD</barcode>');
  assert.equal(textOf(elements(collection, 'image')[0]!), 'a < b');
  const nameAttr = collection.attributes[0]!;
  assert.equal(doc.slice(nameAttr.start, nameAttr.end), ' name="J. Smith &amp; Co"');
  assert.equal(localName('ome:Pixels'), 'Pixels');
});

test('cutSpans removes pieces, merges overlaps, never grows, stays parseable', () => {
  const d = parseXml(doc, 'x');
  const collection = elements(d.root, 'collection')[0]!;
  const barcode = elements(collection, 'barcode')[0]!;
  const out = cutSpans(doc, [barcode, collection.attributes[0]!, collection.attributes[1]!, barcode]);
  assert.ok(out.length < doc.length);
  assert.ok(!out.includes('QUJD') && !out.includes('Smith') && !out.includes('u-1'));
  const again = parseXml(out, 'x');
  assert.equal(elements(elements(again.root, 'collection')[0]!).length, 2);
  assert.equal(cutSpans('abcdef', [{ start: 1, end: 4 }, { start: 2, end: 3 }, { start: 5, end: 6 }]), 'ae');
});

test('refuses malformed XML and DOCTYPE/entities with SlideError', () => {
  const bad: [string, string][] = [
    ['<a><b></a>', 'CORRUPT'], ['<a x="1" x="2"/>', 'CORRUPT'], ['<a>&bogus;</a>', 'CORRUPT'], ['<a/><b/>', 'CORRUPT'],
    ['text<a/>', 'CORRUPT'], ['<a', 'CORRUPT'], ['', 'CORRUPT'], ['<a x=1/>', 'CORRUPT'], ['<a>&#0;</a>', 'CORRUPT'],
    ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 'UNSUPPORTED'], ['<a/>trailing', 'CORRUPT'],
  ];
  for (const [src, code] of bad) {
    assert.throws(() => parseXml(src, 'the test XML'), (e: unknown) => e instanceof SlideError && e.code === code && e.message.includes('the test XML'), src);
  }
  let deep = '';
  for (let i = 0; i < 1000; i++) deep += '<a>';
  assert.throws(() => parseXml(deep, 'x'), SlideError);
});
