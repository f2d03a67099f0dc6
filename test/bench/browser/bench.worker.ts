/// <reference lib="webworker" />
/**
 * Bench helper worker (Comlink): makes big inputs in OPFS, runs the plain streaming copy that
 * redaction is compared with, and times the pipeline's stages one by one (read, write, hash,
 * sweep) under the same conditions as the engine worker (a dedicated module worker).
 */
import { expose } from 'comlink';
import { generateSlide, type GenOptions } from '../../fixtures/generate-tiff.ts';
import { largeDicomLayout, type LargeDicomOptions } from '../../fixtures/dicom/large-layout.ts';
import { Sha256 } from '../../../src/engine/redact/sha256.ts';
import { PhiSweeper } from '../../../src/engine/redact/sweep.ts';
import type { BenchWorkerApi } from './bench-api.ts';
import { opfsFileHandle, openSyncHandle, writeAll, type SyncHandle } from '../../browser/opfs-sync.ts';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (xorshift32): stands in for compressed pixel data. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, Math.floor(length / 4));
  let x = seed || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return out;
}

/** Fill [from, to) with noise in 8 MiB writes (one buffer, its first word varied per write). */
function fillNoise(h: SyncHandle, from: number, to: number): void {
  const buf = noise(8 * MiB, 0x9e3779b9);
  const dv = new DataView(buf.buffer);
  let i = 0;
  for (let at = from; at < to; at += buf.length) {
    dv.setUint32(0, i++);
    writeAll(h, buf.subarray(0, Math.min(buf.length, to - at)), at);
  }
}

const api: BenchWorkerApi = {
  async makeTiff(path: string, opts: GenOptions): Promise<{ size: number; phi: string[] }> {
    const h = await openSyncHandle(path);
    try {
      const g = generateSlide(opts);
      h.truncate(g.layout.size);
      if (h.getSize() !== g.layout.size) throw new Error(`truncate gave ${h.getSize()} bytes`);
      for (const piece of g.layout.pieces) writeAll(h, piece.bytes, piece.offset);
      h.flush();
      return { size: g.layout.size, phi: g.phi };
    } finally {
      h.close();
    }
  },

  /** dense: pixel data is noise (sweep and hash see realistic bytes), else zeros except marks. */
  async makeDicom(path: string, opts: LargeDicomOptions & { dense?: boolean }): Promise<{ size: number; pixelStart: number; pixelBytes: number; phi: string[] }> {
    const h = await openSyncHandle(path);
    try {
      const l = largeDicomLayout(opts);
      h.truncate(l.size);
      if (h.getSize() !== l.size) throw new Error(`truncate gave ${h.getSize()} bytes`);
      if (opts.dense) fillNoise(h, l.pixelStart, l.pixelStart + l.pixelBytes);
      for (const piece of l.pieces) writeAll(h, piece.bytes, piece.offset);
      h.flush();
      return { size: l.size, pixelStart: l.pixelStart, pixelBytes: l.pixelBytes, phi: l.phi };
    } finally {
      h.close();
    }
  },

  /**
   * The reference: a plain streaming copy, File -> OPFS sync access handle, `chunk`-byte slices,
   * the next slice read while the current one is written (as the redaction pipeline does).
   */
  async copy(from: string, to: string, chunk = 8 * MiB): Promise<{ ms: number; bytes: number }> {
    const file = await (await opfsFileHandle(from, false)).getFile();
    const h = await openSyncHandle(to);
    const t0 = performance.now();
    try {
      h.truncate(0);
      const read = (o: number) => file.slice(o, Math.min(file.size, o + chunk)).arrayBuffer();
      let next: Promise<ArrayBuffer> | undefined = read(0);
      for (let o = 0; o < file.size; o += chunk) {
        const buf = new Uint8Array(await next!);
        next = o + chunk < file.size ? read(o + chunk) : undefined;
        writeAll(h, buf, o);
      }
      h.flush();
    } finally {
      h.close();
    }
    return { ms: performance.now() - t0, bytes: file.size };
  },

  /** Stage timings in MB/s: each stage alone, on this machine, now. */
  async profile(from: string, scratch: string, phi: string[]): Promise<Record<string, number>> {
    const file = await (await opfsFileHandle(from, false)).getFile();
    const limit = Math.min(file.size, 2 * 1024 * MiB);
    const r: Record<string, number> = {};
    for (const chunk of [8 * MiB, 32 * MiB]) {
      let t = performance.now();
      for (let o = 0; o < limit; o += chunk) await file.slice(o, o + chunk).arrayBuffer();
      r[`read File slices ${chunk / MiB} MiB`] = limit / 1e3 / (performance.now() - t);
    }
    const buf = noise(8 * MiB, 7);
    const h = await openSyncHandle(scratch);
    try {
      const t = performance.now();
      for (let o = 0; o < limit; o += buf.length) writeAll(h, buf, o);
      h.flush();
      r['OPFS write 8 MiB (generated data)'] = limit / 1e3 / (performance.now() - t);
    } finally {
      h.close();
    }
    const data = noise(64 * MiB, 11);
    let t = performance.now();
    const sha = new Sha256();
    for (let i = 0; i < 4; i++) sha.update(data);
    sha.digestHex();
    r['sha256 (Sha256 class, cold)'] = (4 * data.length) / 1e3 / (performance.now() - t);
    const values = phi.map((v) => new TextEncoder().encode(v));
    for (const [label, bytes] of [['noise', data], ['zeros', new Uint8Array(64 * MiB)]] as const) {
      const sw = new PhiSweeper(values, file.size);
      t = performance.now();
      for (let o = 0; o < bytes.length; o += 8 * MiB) sw.push(bytes.subarray(o, o + 8 * MiB));
      r[`sweep (${label})`] = bytes.length / 1e3 / (performance.now() - t);
    }
    return r;
  },

  async hashRate(mib: number): Promise<number> {
    const data = noise(8 * MiB, 5);
    new Sha256().update(data); // warm-up: compile and tier up the WebAssembly
    const sha = new Sha256();
    const t = performance.now();
    for (let done = 0; done < mib; done += 8) sha.update(data);
    sha.digestHex();
    return (mib * MiB) / 1e3 / (performance.now() - t);
  },

  async remove(path: string): Promise<void> {
    let d = await navigator.storage.getDirectory();
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop()!;
    for (const p of parts) d = await d.getDirectoryHandle(p);
    await d.removeEntry(name, { recursive: true });
  },
};

export type { BenchWorkerApi };
expose(api);
