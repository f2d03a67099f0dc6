import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { OriginalHashes, type BackgroundHashEngine } from '../../src/upload/original-hashes.ts';
import type { SlideEntry } from '../../src/upload/batch-types.ts';

/**
 * The originals' background hashing for the batch record (issue 15): one slide at a time, held
 * while an upload sends, results on the slide, an unreadable slide given up (its hash unknown).
 * The engine here hashes with node:crypto in 4-byte pieces and, like the engine worker's
 * sha256File, waits between pieces while held.
 */
class GatedEngine implements BackgroundHashEngine {
  held = false;
  holds: boolean[] = [];
  pieces = 0;
  private wake: (() => void)[] = [];

  async sha256(file: Blob, signal?: AbortSignal, opts?: { background?: boolean }): Promise<string> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const h = createHash('sha256');
    for (let at = 0; at < bytes.length; at += 4) {
      while (opts?.background && this.held && !signal?.aborted) await new Promise<void>((r) => this.wake.push(r));
      if (signal?.aborted) throw new Error('cancelled');
      h.update(bytes.subarray(at, at + 4));
      this.pieces++;
      await new Promise((r) => setImmediate(r));
    }
    return h.digest('hex');
  }

  holdBackgroundHashing(on: boolean): void {
    this.held = on;
    this.holds.push(on);
    if (!on) for (const w of this.wake.splice(0)) w();
  }
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function slide(id: string, contents: string[]): SlideEntry {
  return {
    id, sourceId: 's', name: `${id}.svs`, parts: contents.map((c, i) => ({ sourceId: 's', path: `in/${id}-${i}.svs`, size: c.length })),
    size: contents.join('').length, format: 'aperio-svs', width: 1, height: 1, fields: [], images: [], removeFields: [], removeImages: [],
  };
}

function setup(files: Record<string, string[] | Error>) {
  const engine = new GatedEngine();
  let changes = 0;
  const hashes = new OriginalHashes({
    engine,
    files: async (s) => {
      const f = files[s.id];
      if (!f || f instanceof Error) throw f ?? new Error('gone');
      return f.map((c, i) => new File([c], `${s.id}-${i}`));
    },
    onChange: () => void changes++,
  });
  return { engine, hashes, changes: () => changes };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'the condition never came true');
};

describe('originals hashed in the background', () => {
  it("puts each original part's SHA-256 on its slide, a slide at a time, and says when it is pending", async () => {
    const contents = { a: ['first original part', 'second part'], b: ['another slide entirely'] };
    const { hashes, changes } = setup(contents);
    const a = slide('a', contents.a);
    const b = slide('b', contents.b);
    hashes.want([a, b]);
    assert.equal(hashes.pending(a), true);
    assert.equal(hashes.anyPending([a, b]), true);
    await until(() => !hashes.anyPending([a, b]));
    assert.deepEqual(a.originalSha256, contents.a.map(sha));
    assert.deepEqual(b.originalSha256, contents.b.map(sha));
    assert.equal(changes(), 2, 'told once per slide');
    // Known hashes are not taken again.
    hashes.want([a, b]);
    assert.equal(hashes.pending(a), false);
  });

  it('holds (never restarts) while told an upload sends, then finishes with the right digest', async () => {
    const text = 'x'.repeat(400);
    const { engine, hashes } = setup({ a: [text] });
    const a = slide('a', [text]);
    hashes.want([a]);
    await until(() => engine.pieces >= 10);
    hashes.hold(true);
    const atHold = engine.pieces;
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    // At most the piece in progress when the hold came.
    assert.ok(engine.pieces - atHold <= 1, `${engine.pieces - atHold} pieces hashed while held`);
    assert.equal(hashes.pending(a), true);
    hashes.hold(false);
    await until(() => !hashes.pending(a));
    assert.deepEqual(a.originalSha256, [sha(text)]);
    assert.equal(engine.pieces, 100, 'every piece hashed once: resumed, not restarted');
    assert.deepEqual(engine.holds, [true, false], 'a hold is passed on once per change');
  });

  it('gives up a slide whose originals cannot be read (its hash stays unknown) and goes on with the next', async () => {
    const { hashes } = setup({ gone: new Error('NotFoundError'), ok: ['readable'] });
    const gone = slide('gone', ['unreadable']);
    const ok = slide('ok', ['readable']);
    hashes.want([gone, ok]);
    await until(() => !hashes.anyPending([gone, ok]));
    assert.equal(gone.originalSha256, undefined);
    assert.deepEqual(ok.originalSha256, [sha('readable')]);
    // Not tried again on its own; tried again when asked (the user reconnected the files).
    hashes.want([gone]);
    assert.equal(hashes.pending(gone), false);
    hashes.want([gone], true);
    assert.equal(hashes.pending(gone), true);
  });

  it('stop() ends a held hash: nothing lands, nothing is pending, the hold is let go', async () => {
    const { engine, hashes } = setup({ a: ['y'.repeat(400)] });
    const a = slide('a', ['y'.repeat(400)]);
    hashes.want([a]);
    hashes.hold(true);
    hashes.stop();
    assert.equal(hashes.pending(a), false);
    assert.equal(engine.held, false);
    for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
    assert.equal(a.originalSha256, undefined);
  });
});
