import type { SlideEntry } from './batch-types.ts';

/** What the originals' hashing needs from the engine worker (see src/app/engine-client.ts). */
export interface BackgroundHashEngine {
  /** SHA-256 (hex) of a file in the worker; `background` hashes wait while held (below). */
  sha256(file: Blob, signal?: AbortSignal, opts?: { background?: boolean }): Promise<string>;
  /** Hold background hashes between pieces (an upload is sending) or let them go on. Optional: engines without it never hold. */
  holdBackgroundHashing?(on: boolean): void | Promise<void>;
}

export interface OriginalHashesOptions {
  engine: BackgroundHashEngine;
  /** The slide's original files in part order (throws when they cannot be read now). */
  files: (slide: SlideEntry) => Promise<File[]>;
  /** A slide's hashes came in (or were given up): re-render, save. */
  onChange: () => void;
}

/**
 * The SHA-256 of each slide's original files, for the batch record (the proof of which file a scan
 * came from). They do not take part in the upload (the server checks what is sent, not the
 * originals), so they are taken in the background: from the moment the slides are known (the user
 * spends minutes reviewing, the PC is idle), held — not restarted — while an upload sends (a
 * second full SHA-256 beside the upload's own costs it ~20 % of its speed on a 2-core PC), and
 * finished when sending is idle or done. One slide at a time, in batch order. Results land in
 * `s.originalSha256` and are saved with the batch; a reload starts a slide's hash again.
 * A slide whose originals cannot be read is given up: its record says the hash is not known.
 */
export class OriginalHashes {
  private readonly queue: SlideEntry[] = [];
  /** Slide ids queued or being hashed. */
  private readonly wanted = new Set<string>();
  /** Slide ids whose hash failed (unreadable, cancelled): not tried again until a new want(). */
  private readonly failed = new Set<string>();
  private running: Promise<void> | undefined;
  private abort = new AbortController();
  private held = false;

  constructor(private readonly o: OriginalHashesOptions) {}

  /** Hash these slides' originals (those not known yet) in the background, in order. */
  want(slides: SlideEntry[], retryFailed = false): void {
    for (const s of slides) {
      if (known(s) || this.wanted.has(s.id) || (!retryFailed && this.failed.has(s.id))) continue;
      this.failed.delete(s.id);
      this.wanted.add(s.id);
      this.queue.push(s);
    }
    if (this.queue.length > 0) this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** The slide's hashes are still to come (the record should wait for them). */
  pending(s: SlideEntry): boolean {
    return this.wanted.has(s.id) && !known(s);
  }

  /** Whether any slide's hashes are still to come. */
  anyPending(slides: SlideEntry[]): boolean {
    return slides.some((s) => this.pending(s));
  }

  /** An upload sends (true) or nothing sends (false): background hashing waits or goes on. */
  hold(on: boolean): void {
    if (on === this.held) return;
    this.held = on;
    void this.o.engine.holdBackgroundHashing?.(on);
  }

  /** Stop hashing (the batch is gone, the user signed out); what is known stays. */
  stop(): void {
    this.abort.abort();
    this.abort = new AbortController();
    this.queue.length = 0;
    this.wanted.clear();
    this.hold(false);
  }

  private async run(): Promise<void> {
    for (let s = this.queue.shift(); s; s = this.queue.shift()) {
      const signal = this.abort.signal;
      try {
        if (!known(s)) {
          const files = await this.o.files(s);
          const out: string[] = [];
          for (const f of files) out.push(await this.o.engine.sha256(f, signal, { background: true }));
          // A slide's parts can change only by re-inspection, which makes a new entry.
          if (!signal.aborted) s.originalSha256 = out;
        }
      } catch {
        // Unreadable or cancelled: the record says the hash is not known (null), honestly.
        if (!signal.aborted) this.failed.add(s.id);
      } finally {
        this.wanted.delete(s.id);
      }
      if (!signal.aborted) this.o.onChange();
    }
  }
}

/** The slide's originals' hashes are all known. */
function known(s: SlideEntry): boolean {
  return s.originalSha256?.length === s.parts.length && s.parts.length > 0;
}
