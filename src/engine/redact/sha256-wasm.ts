/**
 * The SHA-256 block function as a tiny WebAssembly module, generated here at first use (no build
 * step, no binary blob in the repo). Why: hashing a multi-GB output is the slowest stage of a
 * browser redaction, crypto.subtle cannot hash incrementally, and WebAssembly has a native 32-bit
 * rotate and no bounds checks, so the same algorithm runs well ahead of the plain-TS version.
 *
 * The 64 rounds are unrolled with the working variables renamed per round instead of moved, and
 * the message schedule lives in 16 locals (a rolling window), so a block touches memory only to
 * load its 16 words. Exported: memory `m` (state: 8 words at 0; input at INPUT_AT) and
 * `b(ptr, blocks)`, which hashes `blocks` 64-byte blocks at `ptr` into the state.
 */

export const INPUT_AT = 64;
/** Input bytes handed to the module per call (the memory holds this much after the state). */
export const INPUT_BYTES = 1024 * 1024;

/** SHA-256 round constants (FIPS 180-4 §4.2.2), shared with the TypeScript implementation. */
export const SHA256_K: readonly number[] = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

// Opcodes used.
const GET = 0x20, SET = 0x21, TEE = 0x22, LOAD = 0x28, STORE = 0x36, CONST = 0x41, EQZ = 0x45;
const ADD = 0x6a, SUB = 0x6b, AND = 0x71, OR = 0x72, XOR = 0x73, ROTL = 0x77, ROTR = 0x78;
const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40, I32 = 0x7f;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b += 128;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Signed LEB128 of a 32-bit value (constants are given as unsigned 32-bit numbers). */
function sleb(v: number): number[] {
  let n = v >= 0x80000000 ? v - 0x100000000 : v;
  const out: number[] = [];
  for (;;) {
    const b = ((n % 128) + 128) % 128;
    n = Math.floor(n / 128);
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

/** The function body of b(ptr, n). Locals: 0 ptr, 1 n, then state, working vars, schedule. */
function body(): number[] {
  const code: number[] = [];
  const S = 2, V = 10, W = 18, T1 = 34, TMP = 35;
  const get = (l: number) => code.push(GET, l);
  const rotrXor3 = (l: number, r1: number, r2: number, r3: number) => {
    get(l); code.push(CONST, ...sleb(r1), ROTR);
    get(l); code.push(CONST, ...sleb(r2), ROTR, XOR);
    get(l); code.push(CONST, ...sleb(r3), ROTR, XOR);
  };
  for (let i = 0; i < 8; i++) code.push(CONST, 0, LOAD, 2, ...uleb(4 * i), SET, S + i);
  code.push(BLOCK, VOID, LOOP, VOID);
  get(1); code.push(EQZ, BR_IF, 1);
  for (let i = 0; i < 8; i++) code.push(GET, S + i, SET, V + i);
  // Big-endian words: load little-endian, then byte-swap with two rotates and two masks.
  for (let j = 0; j < 16; j++) {
    get(0); code.push(LOAD, 2, ...uleb(4 * j), TEE, TMP, CONST, 8, ROTR, CONST, ...sleb(0xff00ff00), AND);
    get(TMP); code.push(CONST, 8, ROTL, CONST, ...sleb(0x00ff00ff), AND, OR, SET, W + j);
  }
  let v = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => V + i);
  for (let i = 0; i < 64; i++) {
    const w = W + (i % 16);
    if (i >= 16) {
      // w[i] = σ1(w[i-2]) + w[i-7] + σ0(w[i-15]) + w[i-16]
      const w2 = W + ((i - 2) % 16), w7 = W + ((i - 7) % 16), w15 = W + ((i - 15) % 16);
      get(w2); code.push(CONST, 17, ROTR); get(w2); code.push(CONST, 19, ROTR, XOR); get(w2); code.push(CONST, 10, 0x76 /* shr_u */, XOR);
      get(w7); code.push(ADD);
      get(w15); code.push(CONST, 7, ROTR); get(w15); code.push(CONST, 18, ROTR, XOR); get(w15); code.push(CONST, 3, 0x76, XOR, ADD);
      get(w); code.push(ADD, SET, w);
    }
    const [a, b, c, d, e, f, g, h] = v as [number, number, number, number, number, number, number, number];
    // t1 = h + Σ1(e) + Ch(e,f,g) + K[i] + w[i]; Ch = g ^ (e & (f ^ g))
    get(h); rotrXor3(e, 6, 11, 25); code.push(ADD);
    get(g); get(e); get(f); get(g); code.push(XOR, AND, XOR, ADD);
    code.push(CONST, ...sleb(SHA256_K[i]!), ADD); get(w); code.push(ADD, SET, T1);
    get(d); get(T1); code.push(ADD, SET, d);
    // h = t1 + Σ0(a) + Maj(a,b,c); Maj = (a & b) | (c & (a | b))
    get(T1); rotrXor3(a, 2, 13, 22); code.push(ADD);
    get(a); get(b); code.push(AND); get(c); get(a); get(b); code.push(OR, AND, OR, ADD, SET, h);
    v = [h, a, b, c, d, e, f, g];
  }
  for (let i = 0; i < 8; i++) code.push(GET, S + i, GET, V + i, ADD, SET, S + i);
  get(0); code.push(CONST, ...sleb(64), ADD, SET, 0);
  get(1); code.push(CONST, 1, SUB, SET, 1, BR, 0, END, END);
  for (let i = 0; i < 8; i++) code.push(CONST, 0, GET, S + i, STORE, 2, ...uleb(4 * i));
  code.push(END);
  const locals = [1, ...uleb(34), I32];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function moduleBytes(): Uint8Array {
  const pages = Math.ceil((INPUT_AT + INPUT_BYTES) / 65536);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...uleb(pages)]),
    ...section(7, [2, ...name('b'), 0x00, 0, ...name('m'), 0x02, 0]),
    ...section(10, [1, ...body()]),
  ]);
}

export interface WasmSha256Core {
  /** Hash `blocks` 64-byte blocks already copied to INPUT_AT. */
  b(ptr: number, blocks: number): void;
  memory: { buffer: ArrayBuffer };
}

/** The part of the WebAssembly API used (declared here: the Node type-check has no DOM lib). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let compiled: object | null | undefined;

/**
 * A fresh instance (own memory = own state), or null where WebAssembly is missing or refused
 * (e.g. a CSP without 'wasm-unsafe-eval'): callers fall back to the plain-TS rounds.
 */
export function wasmSha256Core(): WasmSha256Core | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  if (!compiled || !wasm) return null;
  const ex = new wasm.Instance(compiled, {}).exports as { b: (p: number, n: number) => void; m: { buffer: ArrayBuffer } };
  return { b: ex.b, memory: ex.m };
}
