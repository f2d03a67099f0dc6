/**
 * Text-bearing marker segments inside the JPEG and JPEG 2000 codestreams of a TIFF (tiles, strips,
 * JPEGTables): COM, and APPn that a decoder does not need (EXIF, XMP, IPTC, vendor blocks). They are
 * blanked in place — marker and length kept, payload zeroed, same length — so every offset stays
 * and decoders skip them as before. Kept: JFIF's fixed header (its embedded thumbnail is blanked),
 * Adobe APP14 (colour transform) and ICC_PROFILE APP2 (colour), as decoders use them.
 *
 * It runs on the output as it streams by, chunk after chunk (a segment may straddle two chunks),
 * parsing each codestream's header from its start up to the first scan (SOS / SOT): the pixel
 * data is never read byte by byte. In 'check' mode it changes nothing and counts segments that
 * should be blank but are not (the output-alone verification).
 */

export const StreamKind = { Jpeg: 0, Jpeg2000: 1 } as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

/** Codestream positions, sorted by start, without duplicates. */
export interface CodestreamList {
  starts: number[];
  lengths: number[];
  kinds: StreamKind[];
}

const enum S {
  Soi0,
  Soi1,
  Marker0,
  Marker1,
  Len0,
  Len1,
  Skip,
  Blank,
  Sniff,
  Done,
}

interface Signature {
  bytes: number[];
  /** Bytes after the signature that may stay; the rest of the payload is blanked. */
  keep: number;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const ALL = Number.MAX_SAFE_INTEGER;
/** JFIF: version, units, densities, thumbnail size (9 bytes) stay; thumbnail pixels go. */
const APP_SIGNATURES: Record<number, Signature> = {
  0xe0: { bytes: ascii('JFIF\0'), keep: 9 },
  0xe2: { bytes: ascii('ICC_PROFILE\0'), keep: ALL },
  0xee: { bytes: ascii('Adobe'), keep: ALL },
};

export class SegmentScrubber {
  /** Blank mode: segments that held non-zero bytes and were blanked. */
  blanked = 0;
  /** Check mode: segments that should be blank and are not. */
  found = 0;
  private next = 0;
  private state = S.Done;
  private pos = 0;
  private streamEnd = 0;
  private kind: StreamKind = StreamKind.Jpeg;
  private rem = 0;
  private marker = 0;
  private sig: Signature | undefined;
  private sigAt = 0;
  private counted = false;
  /** After a kept signature's Skip: how many payload bytes to blank. */
  private blankAfterSkip = 0;

  constructor(readonly streams: CodestreamList, private readonly mode: 'blank' | 'check') {}

  /** Whether a codestream header is being parsed (false: between streams, or past a header's end). */
  get parsing(): boolean {
    return this.state !== S.Done;
  }

  /**
   * Process the output bytes [offset, offset + buf.length), in order. In blank mode, bytes are
   * changed through `writable()` (called only when something must change: the caller hands out a
   * private copy then), and the buffer to use from now on is returned.
   */
  process(buf: Uint8Array, offset: number, writable: () => Uint8Array = () => buf): Uint8Array {
    const end = offset + buf.length;
    let out = buf;
    let copied = false;
    for (;;) {
      if (this.state === S.Done && !this.open(end)) return out;
      if (this.pos < offset) {
        // Only a stream that started before the first chunk we saw: nothing sensible to parse.
        this.state = S.Done;
        continue;
      }
      const limit = Math.min(end, this.streamEnd);
      while (this.pos < limit && this.state !== S.Done) {
        const i = this.pos - offset;
        const b = out[i]!;
        switch (this.state) {
          case S.Soi0:
            this.state = b === 0xff ? S.Soi1 : S.Done;
            this.pos++;
            break;
          case S.Soi1:
            this.state = b === (this.kind === StreamKind.Jpeg ? 0xd8 : 0x4f) ? S.Marker0 : S.Done;
            this.pos++;
            break;
          case S.Marker0:
            this.state = b === 0xff ? S.Marker1 : S.Done;
            this.pos++;
            break;
          case S.Marker1:
            this.pos++;
            if (b === 0xff) break; // fill byte
            this.marker = b;
            this.state = this.afterMarker(b);
            break;
          case S.Len0:
            this.rem = b << 8;
            this.state = S.Len1;
            this.pos++;
            break;
          case S.Len1:
            this.rem = (this.rem | b) - 2;
            this.pos++;
            this.startPayload();
            break;
          case S.Skip: {
            const n = Math.min(this.rem, limit - this.pos);
            this.pos += n;
            this.rem -= n;
            if (this.rem === 0) this.endSkip();
            break;
          }
          case S.Sniff: {
            const sig = this.sig!;
            if (b !== sig.bytes[this.sigAt]) {
              // Not the expected signature: everything from here is blanked. The bytes left
              // before were a prefix of a constant signature, nothing identifying.
              this.beginBlank(this.rem);
              break;
            }
            this.sigAt++;
            this.pos++;
            this.rem--;
            if (this.sigAt === sig.bytes.length) {
              // Signature complete: skip the bytes that may stay, then blank the rest.
              const keep = Math.min(sig.keep, this.rem);
              this.blankAfterSkip = this.rem - keep;
              this.rem = keep;
              this.state = S.Skip;
              if (this.rem === 0) this.endSkip();
            } else if (this.rem === 0) this.state = S.Marker0;
            break;
          }
          case S.Blank: {
            const n = Math.min(this.rem, limit - this.pos);
            for (let k = i; k < i + n; k++) {
              if (out[k] === 0) continue;
              if (!this.counted) {
                this.counted = true;
                if (this.mode === 'blank') this.blanked++;
                else this.found++;
              }
              if (this.mode === 'check') break;
              if (!copied) {
                out = writable();
                copied = true;
              }
              out[k] = 0;
            }
            this.pos += n;
            this.rem -= n;
            if (this.rem === 0) this.state = S.Marker0;
            break;
          }
        }
      }
      if (this.state !== S.Done && this.pos >= this.streamEnd) this.state = S.Done;
      if (this.state !== S.Done) return out; // the stream goes on in the next chunk
    }
  }

  private endSkip(): void {
    if (this.blankAfterSkip > 0) this.beginBlank(this.blankAfterSkip);
    else this.state = S.Marker0;
    this.blankAfterSkip = 0;
  }

  private beginBlank(length: number): void {
    this.rem = length;
    this.state = S.Blank;
    this.counted = false;
  }

  private open(end: number): boolean {
    const { starts, lengths, kinds } = this.streams;
    const i = this.next;
    if (i >= starts.length || starts[i]! >= end) return false;
    this.next++;
    this.pos = starts[i]!;
    // Overlapping streams (a byte count that runs into the next tile): parse up to the next start.
    this.streamEnd = Math.min(starts[i]! + lengths[i]!, starts[i + 1] ?? Infinity);
    this.kind = kinds[i]!;
    this.state = S.Soi0;
    this.blankAfterSkip = 0;
    return true;
  }

  private afterMarker(m: number): S {
    if (this.kind === StreamKind.Jpeg) {
      if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) return S.Marker0; // no length
      if (m === 0xd9 || m === 0xda) return S.Done; // end of image / start of scan: pixel data follows
      return S.Len0;
    }
    if (m === 0x90 || m === 0x93 || m === 0xd9) return S.Done; // SOT / SOD / EOC
    if (m === 0x4f) return S.Marker0;
    return S.Len0;
  }

  private startPayload(): void {
    if (this.rem < 0) {
      this.state = S.Done; // a length below 2: not a codestream we understand, stop here
      return;
    }
    this.blankAfterSkip = 0;
    const m = this.marker;
    const text = this.kind === StreamKind.Jpeg ? m === 0xfe || (m >= 0xe0 && m <= 0xef) : m === 0x64;
    if (!text) this.state = S.Skip;
    else {
      const sig = this.kind === StreamKind.Jpeg ? APP_SIGNATURES[m] : undefined;
      if (sig) {
        this.sig = sig;
        this.sigAt = 0;
        this.state = S.Sniff;
      } else this.beginBlank(this.rem);
    }
    if (this.rem === 0) this.state = S.Marker0;
  }
}
