/**
 * The codestream scrubber against its own one-chunk result: the same streams (JPEG and JPEG 2000
 * headers with text segments, kept segments, fill bytes, segments straddling every possible
 * boundary, overlapping and truncated streams) fed in chunks of awkward sizes must come out
 * byte-identical, with the same count; check mode finds every unblanked segment and none after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SegmentScrubber, StreamKind, type CodestreamList } from '../../src/engine/codecs/segment-scrubber.ts';

function seg(marker: number, payload: number[] | string): number[] {
  const p = typeof payload === 'string' ? Array.from(payload, (c) => c.charCodeAt(0)) : payload;
  return [0xff, marker, (p.length + 2) >> 8, (p.length + 2) & 0xff, ...p];
}

const text = 'Patient Jane Roe MRN 55501234';
const jpeg = [
  0xff, 0xd8,
  ...seg(0xe0, 'JFIF\0\x01\x02\x00\x00\x01\x00\x01\x02\x01THUMBPX'), // JFIF with a 2x1 thumbnail
  ...seg(0xfe, text),
  0xff, 0xff, // fill
  ...seg(0xe1, `Exif\0\0${text}`),
  ...seg(0xee, 'Adobe\0\x64\0\0\0\0\x01'),
  ...seg(0xe2, 'ICC_PROFILE\0\x01\x01desc'),
  ...seg(0xe2, 'ICC_PRXXX secret'), // not the ICC signature: blanked from the mismatch on
  ...seg(0xdb, Array.from({ length: 65 }, (_, i) => i)),
  0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 0xff, 0xfe, 0x00, 0x05, 0x41, 0x42, 0x43, // after SOS: entropy data, untouched
];
const j2k = [0xff, 0x4f, ...seg(0x51, [0, 1, 2, 3]), ...seg(0x64, [0, 1, ...Array.from('Kakadu Jane Roe', (c) => c.charCodeAt(0))]), ...seg(0x52, [9, 9]), 0xff, 0x90, 0, 10, 7, 7];

function layout(): { bytes: Uint8Array; streams: CodestreamList } {
  const bytes: number[] = [1, 2, 3];
  const streams: CodestreamList = { starts: [], lengths: [], kinds: [] };
  const put = (s: number[], kind: StreamKind, length = s.length) => {
    streams.starts.push(bytes.length);
    streams.lengths.push(length);
    streams.kinds.push(kind);
    bytes.push(...s, 0x55, 0x66);
  };
  put(jpeg, StreamKind.Jpeg);
  put(j2k, StreamKind.Jpeg2000);
  put(jpeg.slice(0, 40), StreamKind.Jpeg); // truncated: the stream ends inside the COM segment
  put([0x12, 0x34, ...jpeg], StreamKind.Jpeg); // not a codestream start: left alone
  put(jpeg, StreamKind.Jpeg);
  return { bytes: Uint8Array.from(bytes), streams };
}

function runChunks(bytes: Uint8Array, streams: CodestreamList, sizes: number[], mode: 'blank' | 'check'): { out: Uint8Array; count: number } {
  const s = new SegmentScrubber(streams, mode);
  const parts: Uint8Array[] = [];
  let at = 0;
  let k = 0;
  while (at < bytes.length) {
    const n = Math.min(sizes[k++ % sizes.length]!, bytes.length - at);
    const chunk = bytes.slice(at, at + n);
    parts.push(s.process(chunk, at, () => chunk));
    at += n;
  }
  const out = new Uint8Array(bytes.length);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return { out, count: mode === 'blank' ? s.blanked : s.found };
}

test('blanking is the same whatever the chunk boundaries, and keeps what decoders need', () => {
  const { bytes, streams } = layout();
  const whole = runChunks(bytes, streams, [bytes.length], 'blank');
  const region = (i: number) => Buffer.from(whole.out.subarray(streams.starts[i]!, streams.starts[i]! + streams.lengths[i]!)).toString('latin1');
  for (const i of [0, 1, 2, 4]) assert.ok(!/Jane|THUMBPX|secret/.test(region(i)), `stream ${i}`);
  assert.equal(region(3), Buffer.from(bytes.subarray(streams.starts[3]!, streams.starts[3]! + streams.lengths[3]!)).toString('latin1'), 'not a codestream: unchanged');
  const str = region(0);
  assert.ok(str.includes('JFIF\0') && str.includes('Adobe') && str.includes('ICC_PROFILE\0\x01\x01desc'));
  assert.ok(str.includes('\x01\x02\x03\x04\x05\x06\xff\xfe\x00\x05ABC'), 'entropy-coded data after SOS untouched');
  assert.equal(whole.out.length, bytes.length);
  // Per full JPEG: JFIF thumbnail, COM, APP1, the false ICC; in J2K: COM; truncated: thumbnail, COM.
  assert.equal(whole.count, 4 + 1 + 2 + 4);
  for (const sizes of [[1], [2], [3], [5, 1, 7], [13], [64, 3], [4096]]) {
    const r = runChunks(bytes, streams, sizes, 'blank');
    assert.deepEqual(r.out, whole.out, `chunks ${sizes}`);
    assert.equal(r.count, whole.count, `chunks ${sizes}`);
  }
});

test('check mode counts unblanked text segments and finds none after blanking', () => {
  const { bytes, streams } = layout();
  assert.equal(runChunks(bytes, streams, [7], 'check').count, 11);
  const blanked = runChunks(bytes, streams, [bytes.length], 'blank').out;
  for (const sizes of [[1], [5, 3], [bytes.length]]) assert.equal(runChunks(blanked, streams, sizes, 'check').count, 0);
  assert.deepEqual(runChunks(bytes, streams, [9], 'check').out, bytes, 'check mode changes nothing');
});
