import { INPUT_AT, INPUT_BYTES, SHA256_K, wasmSha256Core, type WasmSha256Core } from './sha256-wasm.ts';

/**
 * Streaming SHA-256 without platform crypto, because the engine runs in browser workers where
 * crypto.subtle cannot hash incrementally. The block function runs as generated WebAssembly where
 * it can (about twice the plain-TS speed), else in plain TS. Node callers can inject node:crypto
 * through the `Hasher` interface.
 */
export interface Hasher {
  /**
   * Add bytes (the caller may reuse them once this returns). A hasher working off-thread may
   * return a promise to push back when it falls behind.
   */
  update(bytes: Uint8Array): void | Promise<void>;
  /** Lower-case hex digest; the hasher must not be used afterwards. */
  digestHex(): string | Promise<string>;
  /** Release what the hasher holds (a worker) when it is abandoned, e.g. on cancel; idempotent. */
  dispose?(): void;
}

export type HasherFactory = () => Hasher;

const K = new Int32Array(SHA256_K);

const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

export class Sha256 implements Hasher {
  private readonly wasm: WasmSha256Core | null;
  /** The state: in the WebAssembly memory (native-endian words at 0) or a plain array. */
  private readonly h: Int32Array;
  private readonly w = new Int32Array(64);
  private readonly buf = new Uint8Array(64);
  private bufLen = 0;
  /** Total length in bytes (a plain number: exact far beyond any file size). */
  private total = 0;

  /** engine 'js' forces the plain-TS rounds (tests compare both). */
  constructor(opts: { engine?: 'wasm' | 'js' } = {}) {
    this.wasm = opts.engine === 'js' ? null : wasmSha256Core();
    this.h = this.wasm ? new Int32Array(this.wasm.memory.buffer, 0, 8) : new Int32Array(8);
    this.h.set(H0);
  }

  /** Which block function this instance uses. */
  get engine(): 'wasm' | 'js' {
    return this.wasm ? 'wasm' : 'js';
  }

  update(data: Uint8Array): void {
    this.total += data.length;
    this.absorb(data);
  }

  private absorb(data: Uint8Array): void {
    let p = 0;
    if (this.bufLen > 0) {
      const n = Math.min(64 - this.bufLen, data.length);
      this.buf.set(data.subarray(0, n), this.bufLen);
      this.bufLen += n;
      p = n;
      if (this.bufLen < 64) return;
      this.blocks(this.buf, 0, 64);
      this.bufLen = 0;
    }
    const full = (data.length - p) - ((data.length - p) % 64);
    if (full > 0) this.blocks(data, p, p + full);
    p += full;
    if (p < data.length) {
      this.buf.set(data.subarray(p), 0);
      this.bufLen = data.length - p;
    }
  }

  digestHex(): string {
    const bits = this.total * 8;
    const pad = new Uint8Array(((this.bufLen + 9 + 63) & ~63) - this.bufLen);
    pad[0] = 0x80;
    const dv = new DataView(pad.buffer);
    // 64-bit big-endian bit length, split without 32-bit operators on the (53-bit) length.
    dv.setUint32(pad.length - 8, Math.floor(bits / 0x100000000));
    dv.setUint32(pad.length - 4, bits % 0x100000000);
    this.absorb(pad);
    let hex = '';
    for (let i = 0; i < 8; i++) hex += (this.h[i]! >>> 0).toString(16).padStart(8, '0');
    return hex;
  }

  private blocks(d: Uint8Array, start: number, end: number): void {
    if (!this.wasm) return this.jsBlocks(d, start, end);
    const mem = new Uint8Array(this.wasm.memory.buffer);
    for (let p = start; p < end; p += INPUT_BYTES) {
      const n = Math.min(INPUT_BYTES, end - p);
      mem.set(d.subarray(p, p + n), INPUT_AT);
      this.wasm.b(INPUT_AT, n / 64);
    }
  }

  private jsBlocks(d: Uint8Array, start: number, end: number): void {
    const w = this.w;
    const h = this.h;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!;
    for (let p = start; p < end; p += 64) {
      let a = h0, b = h1, c = h2, dd = h3, e = h4, f = h5, g = h6, hh = h7;
      for (let i = 0; i < 64; i++) {
        let wi: number;
        if (i < 16) {
          wi = dv.getInt32(p + i * 4);
        } else {
          const x = w[(i - 15) & 63]!, y = w[(i - 2) & 63]!;
          const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
          const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
          wi = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
        }
        w[i] = wi;
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const ch = (e & f) ^ (~e & g);
        const t1 = (hh + S1 + ch + K[i]! + wi) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const maj = (a & b) ^ (a & c) ^ (b & c);
        hh = g; g = f; f = e; e = (dd + t1) | 0; dd = c; c = b; b = a; a = (t1 + S0 + maj) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + dd) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + hh) | 0;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
  }
}

export const createSha256: HasherFactory = () => new Sha256();
