/**
 * Test helpers for the DICOM engine: a minimal plan applier (tests only — the product applies
 * plans with the generic pipeline in src/engine/redact/), oracle runners and paths.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ByteSource } from '../../../src/engine/io/byte-source.ts';
import { NodeFileSink, NodeFileSource } from '../../../src/engine/io/node/file-source.ts';
import type { RedactionPlan } from '../../../src/engine/redact/plan-types.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const sharedFixtures = path.resolve(repoRoot, '../shared/fixtures');

const CHUNK = 8 * 1024 * 1024;

/** Write every output of a plan under outDir (output names contain the slide folder). */
export async function applyPlan(plan: RedactionPlan, parts: ByteSource[], outDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const out of plan.outputs) {
    const file = path.join(outDir, out.name);
    mkdirSync(path.dirname(file), { recursive: true });
    const sink = await NodeFileSink.create(file);
    let pos = 0;
    for (const seg of out.segments) {
      if (seg.kind === 'bytes') {
        await sink.write(pos, seg.bytes);
        pos += seg.bytes.length;
        continue;
      }
      for (let done = 0; done < seg.length; ) {
        const n = Math.min(CHUNK, seg.length - done);
        const bytes = await parts[seg.part].read(seg.offset + done, n);
        if (bytes.length !== n) throw new Error('short read');
        await sink.write(pos, bytes);
        pos += n;
        done += n;
      }
    }
    for (const p of out.patches) {
      await sink.write(p.offset, 'bytes' in p ? p.bytes : new Uint8Array(p.length).fill(p.fill));
    }
    await sink.truncate(out.size);
    await sink.close();
    if (pos !== out.size) throw new Error(`plan size mismatch for ${out.name}: wrote ${pos}, declared ${out.size}`);
    written.push(file);
  }
  return written;
}

export async function openFiles(files: string[]): Promise<NodeFileSource[]> {
  return Promise.all(files.map((f) => NodeFileSource.open(f)));
}

export async function closeAll(sources: ByteSource[]): Promise<void> {
  for (const s of sources) if (s instanceof NodeFileSource) await s.close();
}

/** dciodvfy's Error lines (normalised: no values that legitimately change, e.g. UIDs). */
export function dciodvfyErrors(file: string): string[] {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const text = `${r.stdout}\n${r.stderr}`;
  return [...new Set(text.split('\n').filter((l) => l.startsWith('Error')).map((l) => l.replace(/<[^>]*\d[^>]*>/g, '<…>').trim()))];
}

/** dcmdump as text (+P all paths would be noisy: the plain dump lists nested items). */
export function dcmdump(file: string, args: string[] = ['+L']): string {
  return execFileSync('dcmdump', [...args, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

export function hasTool(name: string): boolean {
  return spawnSync('which', [name]).status === 0;
}

export function listDcm(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(dir, f));
}

export function bufferIncludes(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).includes(Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength));
}
