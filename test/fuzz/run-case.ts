/**
 * One fuzz case, in-process: replay the ops on the seed, open, Auto redact into a fresh temp dir,
 * and classify. Runs inside the fuzz child process (child.ts) so the parent can kill it on a hang
 * or a memory blow-up; tests of the classifier may call it directly.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openSlide } from '../../src/engine/open.ts';
import { BufferSource } from '../../src/engine/io/buffer-source.ts';
import { NodeDirTarget, nodeSha256 } from '../../src/engine/io/node/dir-target.ts';
import { defaultRequest, redactSlide } from '../../src/engine/redact/redact.ts';
import { SlideError } from '../../src/shared/errors.ts';
import { applyOps, type MutationOp } from './ops.ts';
import { findLeaks, leaksInText, type LeakHit, type Needle } from './leak.ts';
import { needles, type Seed } from './seeds.ts';

export type Outcome =
  | { kind: 'ok'; outputs: number }
  | { kind: 'refused'; code: string }
  | { kind: 'leak'; hits: LeakHit[] }
  | { kind: 'crash'; what: string }
  /** Refused properly otherwise, but the message does not say which file: the user cannot act on it. */
  | { kind: 'unnamed'; what: string }
  | { kind: 'hang'; ms: number }
  | { kind: 'memory'; what: string };

export type OutcomeKind = Outcome['kind'];

/** Values never reach a report: each identifying string is replaced by its index. */
export function scrub(text: string, list: readonly Needle[]): string {
  let s = text;
  for (const n of list) s = s.split(n.value).join(`«#${n.index}»`);
  return s;
}

function errorChain(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur !== undefined && cur !== null && i < 4; i++) {
    if (cur instanceof Error) {
      parts.push(`${cur.name}${cur instanceof SlideError ? `[${cur.code}]` : ''}: ${cur.message}`);
      const frame = cur.stack?.split('\n').slice(1).find((l) => l.includes('/src/'));
      if (frame && !(cur instanceof SlideError)) parts.push(`  ${frame.trim()}`);
      cur = cur.cause;
    } else {
      parts.push(`thrown ${typeof cur}: ${String(cur)}`);
      break;
    }
  }
  return parts.join(' <- ');
}

/**
 * A refusal is fine only as a SlideError with a real code whose message names a file of the slide.
 * INTERNAL is the engine's own "this cannot happen" (an invariant broke, or a TypeError/RangeError
 * was wrapped on the way out): a crash, whatever its wrapper.
 */
export function classifyError(e: unknown, partNames: readonly string[], list: readonly Needle[]): Outcome {
  if (!(e instanceof SlideError)) return { kind: 'crash', what: `not a SlideError: ${scrub(errorChain(e), list)}` };
  if (e.code === 'INTERNAL' || e.code === 'ABORTED') return { kind: 'crash', what: scrub(errorChain(e), list) };
  const text = `${e.message}\n${e.detail ?? ''}`;
  const inText = leaksInText(text, list);
  if (inText.length > 0) return { kind: 'leak', hits: inText.map((index) => ({ index, encoding: 'latin1', file: '(error message)', offset: -1 })) };
  // The slide is named after its first file, without the extension ("sm_image" for sm_image.dcm).
  const named = partNames.some((n) => e.message.includes(n) || e.message.startsWith(`${n.replace(/\.[^.]*$/, '')}:`));
  if (!named) return { kind: 'unnamed', what: `refusal does not name the file: ${e.code}: ${scrub(e.message, list)}` };
  return { kind: 'refused', code: e.code };
}

export async function runCase(seed: Seed, ops: readonly MutationOp[], tmpRoot: string): Promise<Outcome> {
  const list = needles(seed);
  const parts = applyOps(seed.parts.map((p) => p.bytes), ops);
  const names = seed.parts.map((p) => p.name);
  const sources = parts.map((b, i) => new BufferSource(b, names[i]));
  const outDir = await mkdtemp(join(tmpRoot, 'case-'));
  try {
    try {
      const slide = await openSlide(sources);
      // allowIncomplete: the user may agree to de-identify a MIRAX slide with missing Data files
      // (only MIRAX reads it), so that path is fuzzed too; the real MIRAX sample is one.
      const request = { ...defaultRequest(slide), options: { allowIncomplete: true } };
      await redactSlide(slide, request, new NodeDirTarget(outDir), { hasher: nodeSha256 });
    } catch (e) {
      return classifyError(e, names, list);
    }
    const files = (await readdir(outDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
    const inputs = parts.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    const hits: LeakHit[] = [];
    for (const f of files) {
      const path = join(f.parentPath, f.name);
      hits.push(...findLeaks(path.slice(outDir.length + 1), await readFile(path), list, inputs));
    }
    return hits.length > 0 ? { kind: 'leak', hits } : { kind: 'ok', outputs: files.length };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
