/**
 * The bench helper worker's API (bench.worker.ts), as a type the page can import without the
 * worker's `webworker` lib, which clashes with the DOM lib of the page's type-check.
 */
import type { GenOptions } from '../../fixtures/generate-tiff.ts';
import type { LargeDicomOptions } from '../../fixtures/dicom/large-layout.ts';

export interface BenchWorkerApi {
  makeTiff(path: string, opts: GenOptions): Promise<{ size: number; phi: string[] }>;
  /** dense: pixel data is noise (sweep and hash see realistic bytes), else zeros except marks. */
  makeDicom(path: string, opts: LargeDicomOptions & { dense?: boolean }): Promise<{ size: number; pixelStart: number; pixelBytes: number; phi: string[] }>;
  /** The reference: a plain streaming copy, File -> OPFS sync access handle. */
  copy(from: string, to: string, chunk?: number): Promise<{ ms: number; bytes: number }>;
  /** Stage timings in MB/s: each stage alone, on this machine, now. */
  profile(from: string, scratch: string, phi: string[]): Promise<Record<string, number>>;
  remove(path: string): Promise<void>;
  /** MB/s of the product's SHA-256 over `mib` MiB of noise in memory, after a warm-up. */
  hashRate(mib: number): Promise<number>;
}
