import type { BatchRecord, SlideEntry } from '../../state/batch-store.ts';
import { parseManifest, type Manifest } from '../../../shared/manifest.ts';
import { matchSlides, type SlideMatch } from '../../../shared/case-match.ts';
import { validateCaseNumber } from '../../../shared/case-number.ts';
import { validateScanName } from '../../../shared/scan-name.ts';
import type { WizardEngine } from './wizard-engine.ts';

export interface CaseMatchingHost {
  batch(): BatchRecord | undefined;
  engine: WizardEngine;
  files(slide: SlideEntry): Promise<File[]>;
  changed(): void;
}

/**
 * Step 2's "Match slides to cases": barcodes read from each slide in the worker, a manifest the
 * user loads, and the match per slide (src/shared/case-match.ts), recomputed whenever one of them
 * changes — except a match the user made or cleared by hand ('manual'), which stays. Everything
 * here stays on this PC; only a confirmed case number and the display name go with the upload.
 */
export class CaseMatching {
  /** Slides whose barcodes are being read right now (ids), for the "Reading barcodes…" line. */
  readonly reading = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly host: CaseMatchingHost) {}

  private get slides(): SlideEntry[] {
    return (this.host.batch()?.slides ?? []).filter((s) => !s.error && !s.excluded);
  }

  /**
   * Read the barcodes of slides that have none recorded yet, one slide at a time after the
   * inspection (the decoder is a worker task like any other; the user is not kept waiting).
   * Slides whose files cannot be read right now (after a reload) are tried again next time.
   */
  readBarcodes(slides: SlideEntry[] = this.slides): Promise<void> {
    const engine = this.host.engine;
    if (!engine.barcodes) return Promise.resolve();
    const todo = slides.filter((s) => !s.error && !s.zipped && s.barcodes === undefined && !this.reading.has(s.id));
    if (todo.length === 0) return this.queue;
    for (const s of todo) this.reading.add(s.id);
    this.host.changed();
    const run = this.queue.then(async () => {
      for (const s of todo) {
        try {
          // The batch may have moved on (slide removed, batch discarded) while this waited.
          if (!this.host.batch()?.slides.includes(s)) continue;
          const scan = await engine.barcodes!(s.id, await this.host.files(s));
          s.barcodes = scan.barcodes.map((b) => ({ value: b.value, symbology: b.symbology, source: b.source }));
        } catch {
          // Unreadable now (files not reconnected, slide gone): not an error, the slide is simply
          // matched without barcodes.
        } finally {
          this.reading.delete(s.id);
        }
        this.recompute();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The manifest as the matcher takes it, from the copy kept in the batch. */
  manifest(): Manifest | null {
    const m = this.host.batch()?.manifest;
    if (!m) return null;
    const columns = (['file', 'barcode', 'case', 'name'] as const).filter((c) => m.rows.some((r) => (c === 'case' ? r.caseNumber : r[c]) !== undefined));
    return { columns: [...columns], rows: m.rows, problems: m.problems };
  }

  /** Match every slide again; a match the user made or cleared ('manual') is kept. */
  recompute(): void {
    const b = this.host.batch();
    if (!b || b.uploadStarted) return this.host.changed();
    const slides = this.slides;
    const found = matchSlides(
      slides.map((s) => ({ id: s.id, fileNames: fileNamesOf(s), barcodes: (s.barcodes ?? []).map((x) => x.value) })),
      this.manifest(),
    );
    for (const s of slides) {
      const next = found.get(s.id) ?? null;
      if (s.match?.how === 'manual') continue;
      // A proposal the user confirmed stays confirmed while the same case is proposed.
      if (s.match?.how === 'barcode' && s.match.confirmed && next?.how === 'barcode' && next.caseNumber === s.match.caseNumber) continue;
      s.match = next;
    }
    this.host.changed();
  }

  /** Load a manifest (file contents or a pasted table); its problems are shown with line numbers. */
  setManifest(fileName: string, text: string): Manifest {
    const m = parseManifest(text);
    const b = this.host.batch();
    if (b && !b.uploadStarted) b.manifest = { fileName, rows: m.rows, problems: m.problems };
    this.recompute();
    return m;
  }

  clearManifest(): void {
    const b = this.host.batch();
    if (!b || b.uploadStarted) return;
    delete b.manifest;
    this.recompute();
  }

  setCreateMissingCases(on: boolean): void {
    const b = this.host.batch();
    if (!b || b.uploadStarted) return;
    b.createMissingCases = on;
    this.host.changed();
  }

  /**
   * The user typed a case and/or a name for a slide: it becomes theirs ('manual', confirmed).
   * Returns the problem (and changes nothing) when a value is not acceptable.
   */
  edit(slide: SlideEntry, caseNumber: string, name: string): string | null {
    if (this.host.batch()?.uploadStarted) return null;
    const c = caseNumber.trim();
    const n = name.trim();
    const caseProblem = c ? validateCaseNumber(c) : null;
    if (caseProblem) return caseProblem;
    const nameProblem = n ? validateScanName(n) : null;
    if (nameProblem) return nameProblem;
    slide.match = { how: 'manual', confirmed: true, ...(c ? { caseNumber: c } : {}), ...(n ? { name: n } : {}) };
    this.host.changed();
    return null;
  }

  /** "Clear": the slide has no case — and keeps none when the matches are computed again. */
  clear(slide: SlideEntry): void {
    if (this.host.batch()?.uploadStarted) return;
    slide.match = { how: 'manual', confirmed: true };
    this.host.changed();
  }

  /** Back to what the barcodes and manifest say (undo an edit or a clear). */
  reset(slide: SlideEntry): void {
    if (this.host.batch()?.uploadStarted) return;
    delete slide.match;
    this.recompute();
  }

  /** Confirm a barcode proposed as the case number: only then is it sent with the upload. */
  confirm(slide: SlideEntry): void {
    if (this.host.batch()?.uploadStarted || !slide.match) return;
    slide.match = { ...slide.match, confirmed: true };
    this.host.changed();
  }

  confirmAll(): number {
    const open = this.proposals();
    for (const s of open) s.match = { ...s.match!, confirmed: true };
    if (open.length) this.host.changed();
    return open.length;
  }

  /** Slides whose case is proposed (from a barcode) and not yet confirmed. */
  proposals(): SlideEntry[] {
    if (this.host.batch()?.uploadStarted) return [];
    return this.slides.filter((s) => s.match?.caseNumber && !s.match.confirmed);
  }
}

/**
 * The names the manifest's `file` column is compared with: each part's path (the matcher takes
 * the base name) and, for a slide made of several files (a DICOM folder), its folder's name.
 */
export function fileNamesOf(s: SlideEntry): string[] {
  const paths = s.parts.map((p) => p.path).filter(Boolean);
  // A DICOM slide (or a multi-file one) is its folder: a manifest may name the folder.
  const inFolder = (s.format === 'dicom-wsi' || paths.length > 1) && paths[0]!.includes('/');
  const folder = inFolder ? paths[0]!.split('/').slice(-2, -1)[0] : undefined;
  const names = [...paths, ...(folder ? [folder] : [])];
  return names.length ? names : [s.name];
}
