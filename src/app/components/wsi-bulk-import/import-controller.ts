import {
  addSource, BatchSaver, batchIdsOf, createBatch, deleteBatch, deleteSource, getSources, loadCurrentBatch, makeCurrent, newBatch,
  type BatchRecord, type SlideEntry, type SourceRecord, type StepNo,
} from '../../state/batch-store.ts';
import { setBusy } from '../../state/activity.ts';
import { redactionRequest } from '../../../upload/batch-types.ts';
import { currentUser } from '../../state/session.ts';
import { BatchUploader, resetCancelled, type BatchUploaderOptions } from '../../../upload/batch-uploader.ts';
import { OriginalHashes } from '../../../upload/original-hashes.ts';
import { batchStagingDir, deleteStagedDir, stagingDir, sweepStaging } from '../../../upload/staging.ts';
import { terminateStoredUploads } from '../../../upload/terminate-uploads.ts';
import { SlideError } from '../../../shared/errors.ts';
import { entriesOf, inputsOfFiles, walkDirectory } from '../wsi-file-select/pick-files.ts';
import { duplicatesOf, type KnownFile } from '../wsi-file-select/duplicates.ts';
import { baseName } from '../wsi-file-select/selection-rules.ts';
import { slidesOfSelection, zipNeedsDirect } from '../wsi-file-select/selection-slides.ts';
import type { EngineInput, WizardEngine } from './wizard-engine.ts';
import { Originals, type ReselectResult } from './originals.ts';
import { CaseMatching } from './case-matching.ts';
import { reportBatchFinished } from './batch-finished.ts';
import { saveThroughViews, type SaveTarget } from '../wsi-upload-review/download.ts';

/** Progress bars move 4 times a second; that is as often as anyone reads them. */
const PROGRESS_RENDER_MS = 250;
const PROGRESS_SAVE_MS = 2000;

/**
 * Whose batch this is (default: the signed-in user when the controller is made) and test seams:
 * the uploader's disk estimate and queue settings.
 */
export type ControllerOptions = Pick<BatchUploaderOptions, 'estimate' | 'queue' | 'stagingCap' | 'zeroCopy'> & { userId?: number };

/**
 * The wizard's state and actions, shared by the step components. Components render from `batch`
 * and call these methods; every change is saved (coalesced) to IndexedDB and announced to
 * subscribers, so a reload comes back to the same place.
 */
export class ImportController {
  batch: BatchRecord | undefined;
  sources: SourceRecord[] = [];
  /** Selections being read right now (by label), for the "Reading…" line. */
  reading: string[] = [];
  /**
   * Selections whose original files cannot be read since a reload (handles without permission,
   * <input> picks not selected again). Only those the current step needs are shown: see `needed`.
   */
  unavailable: SourceRecord[] = [];
  readonly originals = new Originals();
  /** Step 2's case matching: barcodes, manifest, match per slide (case-matching.ts). */
  readonly matching: CaseMatching;
  uploader: BatchUploader | undefined;
  /** The originals' SHA-256 for the batch record, taken in the background from step 2 on (original-hashes.ts). */
  readonly originalHashes: OriginalHashes;
  message = '';
  /** A note on the last change to the selections (duplicates left out, a selection removed): not an error. */
  notice = '';
  /** A new pick holds files the batch already has: it waits for the user's choice (step 1). */
  duplicates: { label: string; paths: string[]; choose(add: boolean): void } | undefined;
  /** Picks are taken one after another, so a file picked twice in a row is still caught. */
  private selecting: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();
  /** Told when only bytes moved (the progress step): the rest of the wizard does not re-render. */
  private readonly progressListeners = new Set<() => void>();
  private readonly saver = new BatchSaver(() => this.batch!);
  /** Progress-only saves: a reload resumes from the server's offset, so bytesSent may lag. */
  private readonly progressSaver = new BatchSaver(() => this.batch!, PROGRESS_SAVE_MS);
  private progressTimer: ReturnType<typeof setTimeout> | undefined;
  private progressFrame: number | undefined;
  private lastNotified = 0;
  private readonly previews = new Map<string, Promise<string | null>>();
  private wasBusy = false;
  private loading: Promise<void> | undefined;
  /** Closed (signed out, session ended): nothing more is saved or run for this batch here. */
  private closed = false;
  private suspended = false;
  /** The user the batch belongs to; every record and staged copy is theirs. */
  readonly userId: number | undefined;

  constructor(readonly engine: WizardEngine, private readonly options: ControllerOptions = {}) {
    this.userId = options.userId ?? currentUser()?.user.id;
    this.matching = new CaseMatching({ batch: () => this.batch, engine, files: (s) => this.filesOf(s), changed: () => this.changed() });
    this.originalHashes = new OriginalHashes({ engine, files: (s) => this.filesOf(s), onChange: () => this.changed() });
  }

  private get owner(): number {
    if (this.userId === undefined) throw new SlideError('FORBIDDEN', 'sign in to use Bulk Import');
    return this.userId;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Also told when only bytes moved (see progressed()): for what shows upload progress. */
  subscribeProgress(fn: () => void): () => void {
    this.progressListeners.add(fn);
    return () => this.progressListeners.delete(fn);
  }

  /**
   * Bytes moved, nothing else: re-render at most PROGRESS_RENDER_MS apart, save less often. Every
   * notification is main-thread work (Lit render, style, layout, paint, commit); on a busy
   * 2-core lab PC each task can be held up behind the de-identification and upload threads.
   * Only the progress listeners are told, in an animation frame: the render and its layout and
   * paint are then one task (not a timer task and a frame task), and a hidden tab renders nothing.
   */
  progressed(): void {
    if (this.closed) return;
    this.progressSaver.schedule();
    if (this.progressTimer !== undefined || this.progressFrame !== undefined) return;
    const wait = Math.max(0, this.lastNotified + PROGRESS_RENDER_MS - Date.now());
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      this.progressFrame = requestAnimationFrame(() => {
        this.progressFrame = undefined;
        if (this.closed) return;
        this.lastNotified = Date.now();
        for (const l of this.progressListeners) l();
      });
    }, wait);
  }

  /** Something changed: re-render, save soon, keep the "busy" flag (no SW reload) in step. */
  changed(): void {
    if (this.closed) return;
    this.saver.schedule();
    const busy = !!this.uploader?.active && !this.batch?.uploadPaused;
    if (busy !== this.wasBusy) {
      setBusy(busy);
      this.wasBusy = busy;
    }
    // The user reviews for minutes: the originals are hashed meanwhile, not beside the upload.
    const b = this.batch;
    if (b && !b.directUpload && !this.suspended && b.step >= 2 && b.step <= 6) this.originalHashes.want(this.usable);
    if (this.batch?.step === 6 && this.batch.uploadStarted && this.uploader && this.allDone()) {
      this.batch.step = 7;
      this.batch.finishedAt = Date.now();
      void reportBatchFinished(this.batch);
      // Finished: the saved record keeps no values or names from here on (batch-store's
      // finishedForm), and what is left in its staging folder (a Download's zip) goes.
      void this.saver.now();
      void deleteStagedDir(batchStagingDir(this.batch)).catch(() => undefined);
    }
    this.notify();
  }

  private notify(): void {
    this.lastNotified = Date.now();
    for (const l of this.listeners) l();
  }

  /** load(), once: every wizard element of the page shares this controller. */
  ensureLoaded(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  async load(): Promise<void> {
    const userId = this.owner;
    this.batch = await loadCurrentBatch(userId);
    this.sources = await getSources(this.batch);
    // Staged copies no batch of this user owns any more (and copies from before they were per
    // user) would fill the disk unseen.
    await sweepStaging(userId, new Set(await batchIdsOf(userId))).catch(() => undefined);
    this.unavailable = [];
    for (const s of this.sources) if (!(await this.originals.available(s, s.entries.map((e) => e.path)))) this.unavailable.push(s);
    this.changed();
    // A reload in the middle of step 6 continues on its own unless the user had paused. Slides
    // already de-identified upload from their staged copies and need no original; one that still
    // needs its original waits in the uploader until the user reconnects or re-selects it.
    if (this.batch.step === 6 && this.batch.uploadStarted && !this.batch.uploadPaused) this.startUpload();
    // Slides whose barcodes were not read before the reload (files readable without a click).
    else if (!this.batch.uploadStarted) void this.matching.readBarcodes();
  }

  /**
   * Unreadable selections the current step needs: for the review steps every selection with a
   * slide in the batch; during the upload only those of slides that still need their original (not
   * yet de-identified, or Direct Upload parts not yet sent); after the upload none.
   */
  get needed(): SourceRecord[] {
    const b = this.batch;
    if (!b || this.unavailable.length === 0 || b.step === 7) return [];
    const slides = this.usable.filter((s) => {
      if (!b.uploadStarted) return true;
      if (this.uploader?.partsDone(s)) return false;
      return b.directUpload || !s.staged;
    });
    const ids = new Set(slides.map((s) => s.sourceId));
    return this.unavailable.filter((s) => ids.has(s.id));
  }

  /** "Reconnect files": ask again for permission on stored handles. Call from a click handler. */
  async reconnect(): Promise<void> {
    const still: SourceRecord[] = [];
    for (const s of this.unavailable) {
      if (s.origin === 'input' || !(await this.originals.reconnect(s))) still.push(s);
    }
    this.afterReconnect(still);
  }

  /** The files of an <input> selection picked again after a reload, matched against the first pick. */
  reselect(source: SourceRecord, files: File[]): ReselectResult {
    const r = this.originals.reselect(source, inputsOfFiles(files));
    const complete = r.matched === source.entries.length;
    const notes = [
      ...(r.different.length ? [`${r.different.join(', ')}: not the file selected before (size or date differs), not used`] : []),
      ...(r.missing.length ? [`${r.missing.join(', ')}: not among the selected files`] : []),
    ];
    this.afterReconnect(complete ? this.unavailable.filter((s) => s !== source) : this.unavailable);
    // After afterReconnect, which clears the message.
    this.message = notes.length ? `${source.label}: ${notes.join('; ')}.` : '';
    this.changed();
    return r;
  }

  private afterReconnect(still: SourceRecord[]): void {
    const gained = still.length < this.unavailable.length;
    this.unavailable = still;
    this.message = '';
    if (gained) {
      // Previews that failed for want of the files get another chance.
      for (const [k, p] of this.previews) void p.then((u) => u === null && this.previews.delete(k));
      this.uploader?.originalsChanged();
      void this.matching.readBarcodes();
      if (this.batch && !this.batch.directUpload) this.originalHashes.want(this.usable, true);
    }
    this.changed();
  }

  get slides(): SlideEntry[] {
    return this.batch?.slides ?? [];
  }

  /** Slides that take part in the upload: readable and not removed. */
  get usable(): SlideEntry[] {
    return this.slides.filter((s) => !s.error && !s.excluded);
  }

  goto(step: StepNo): void {
    if (!this.batch) return;
    this.batch.step = step;
    this.message = '';
    this.changed();
    void this.saver.now();
  }

  /** The step "Next" goes to: Direct Upload skips the metadata, image and review steps. */
  nextStep(): StepNo {
    const s = this.batch?.step ?? 1;
    if (this.batch?.directUpload && s === 2) return 6;
    return Math.min(7, s + 1) as StepNo;
  }

  prevStep(): StepNo {
    const s = this.batch?.step ?? 1;
    if (this.batch?.directUpload && s === 6) return 2;
    return Math.max(1, s - 1) as StepNo;
  }

  setDirectUpload(on: boolean): void {
    if (!this.batch || this.batch.uploadStarted) return;
    this.batch.directUpload = on;
    // Zipped DICOM can go only as it is: usable with Direct Upload, an error without.
    for (const s of this.batch.slides) {
      if (!s.zipped) continue;
      if (on) delete s.error;
      else s.error = zipNeedsDirect();
    }
    this.changed();
  }

  /**
   * A pick from the <input type=file> fallback (or webkitdirectory): only names, sizes and dates
   * are stored — after a reload the user selects the same files again.
   */
  async addFiles(files: File[], label: string, folder = false): Promise<void> {
    await this.addInputs(inputsOfFiles(files), label, folder);
  }

  /** Files with their paths (a dropped folder's files, read through webkitGetAsEntry): as addFiles. */
  async addInputs(inputs: EngineInput[], label: string, folder = false): Promise<void> {
    if (!this.batch || inputs.length === 0) return;
    const source: SourceRecord = { id: crypto.randomUUID(), batchId: this.batch.id, userId: this.batch.userId, origin: 'input', label, entries: entriesOf(inputs), ...(folder ? { folder } : {}), addedAt: Date.now() };
    await this.addSelection(source, inputs);
  }

  /** A pick from showOpenFilePicker: the handles are stored (a reload re-reads them after a click). */
  async addFileHandles(handles: FileSystemFileHandle[]): Promise<void> {
    if (!this.batch || handles.length === 0) return;
    const inputs = await Promise.all(handles.map(async (h) => ({ path: h.name, file: await h.getFile() })));
    const label = handles.length === 1 ? handles[0].name : `${handles.length} files`;
    const source: SourceRecord = { id: crypto.randomUUID(), batchId: this.batch.id, userId: this.batch.userId, origin: 'handles', label, entries: entriesOf(inputs), handles, addedAt: Date.now() };
    await this.addSelection(source, inputs, handles);
  }

  /** A pick from showDirectoryPicker: the handle is stored, its files are read now. */
  async addDirectory(dir: FileSystemDirectoryHandle): Promise<void> {
    if (!this.batch) return;
    const inputs = await walkDirectory(dir);
    const source: SourceRecord = { id: crypto.randomUUID(), batchId: this.batch.id, userId: this.batch.userId, origin: 'directory', label: dir.name, entries: entriesOf(inputs), dir, addedAt: Date.now() };
    await this.addSelection(source, inputs);
  }

  private addSelection(source: SourceRecord, inputs: EngineInput[], handles?: FileSystemFileHandle[]): Promise<void> {
    const run = this.selecting.then(() => this.addSelectionNow(source, inputs, handles));
    this.selecting = run.catch(() => undefined);
    return run;
  }

  private async addSelectionNow(source: SourceRecord, picked: EngineInput[], handles?: FileSystemFileHandle[]): Promise<void> {
    const batch = this.batch;
    if (!batch || this.closed) return;
    this.reading = [...this.reading, source.label];
    this.notice = '';
    this.changed();
    try {
      const inputs = await this.withoutDuplicates(source, picked, handles);
      if (inputs.length === 0 || this.batch !== batch) return;
      source.entries = entriesOf(inputs);
      if (handles) source.handles = handles.filter((_, k) => inputs.includes(picked[k]!));
      this.originals.remember(source.id, inputs);
      await addSource(source);
      this.sources.push(source);
      const { slides, skipped } = await slidesOfSelection(this.engine, source, inputs, batch.directUpload);
      if (this.batch !== batch || !this.sources.includes(source)) return;
      batch.slides.push(...slides);
      this.matching.recompute();
      void this.matching.readBarcodes(slides);
      if (skipped.length) {
        source.skipped = skipped;
        await addSource(source);
      }
    } catch (e) {
      this.message = `${source.label}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.reading = this.reading.filter((l) => l !== source.label);
      this.changed();
      await this.saver.now();
    }
  }

  /** Files of the batch's selections, to compare a new pick with (skipped non-slides do not count). */
  private knownFiles(): KnownFile[] {
    const out: KnownFile[] = [];
    for (const s of this.sources) {
      const live = this.originals.known(s.id);
      const skipped = new Set(s.skipped ?? []);
      s.entries.forEach((e, k) => {
        if (skipped.has(e.path)) return;
        const file = live?.get(e.path);
        const handle = s.handles?.[k];
        out.push({ name: baseName(e.path), size: e.size, lastModified: e.lastModified, ...(file ? { file } : {}), ...(handle ? { handle } : {}) });
      });
    }
    return out;
  }

  /** The pick without the files the batch already has, unless the user adds them anyway. */
  private async withoutDuplicates(source: SourceRecord, inputs: EngineInput[], handles?: FileSystemFileHandle[]): Promise<EngineInput[]> {
    const known = this.knownFiles();
    if (known.length === 0) return inputs;
    const dups = await duplicatesOf(inputs.map((i, k) => ({ ...i, ...(handles?.[k] ? { handle: handles[k] } : {}) })), known);
    if (dups.length === 0) return inputs;
    const add = await new Promise<boolean>((resolve) => {
      this.duplicates = { label: source.label, paths: dups, choose: (a) => { this.duplicates = undefined; resolve(a); } };
      this.changed();
    });
    if (add) return inputs;
    const gone = new Set(dups);
    this.notice = dups.length === 1
      ? `${baseName(dups[0]!)} is already in this batch: it was not added again.`
      : `${dups.length} files are already in this batch: they were not added again.`;
    return inputs.filter((i) => !gone.has(i.path));
  }

  /**
   * Take one selection (one pick) out of the batch, with its slides and any copy staged for them.
   * Until the upload starts; the files on disk are not touched.
   */
  async removeSource(source: SourceRecord): Promise<void> {
    const b = this.batch;
    if (!b || b.uploadStarted) return;
    for (const s of b.slides) if (s.sourceId === source.id && s.staged) void deleteStagedDir(stagingDir(b, s.id)).catch(() => undefined);
    b.slides = b.slides.filter((s) => s.sourceId !== source.id);
    this.sources = this.sources.filter((s) => s.id !== source.id);
    this.unavailable = this.unavailable.filter((s) => s.id !== source.id);
    this.originals.forget(source.id);
    this.notice = `"${source.label}" was removed from the batch.`;
    this.matching.recompute();
    await deleteSource(source);
    this.changed();
    await this.saver.now();
  }

  /** "Discard batch": the batch, its selections, decisions and staged copies go; an empty one begins. */
  async discardBatch(): Promise<void> {
    await this.startOver();
    this.notice = 'The batch was discarded. The files on this computer were not touched.';
    this.changed();
  }

  /**
   * The original files of a slide in part order. Throws an ORIGINALS_NEEDED SlideError when they
   * cannot be read since a reload (the banner then offers "Reconnect files" / "Select again").
   */
  async filesOf(slide: SlideEntry): Promise<File[]> {
    const source = this.sources.find((s) => s.id === slide.sourceId);
    if (!source) throw new Error(`${slide.name}: its files are no longer available — select them again`);
    return this.originals.files(source, slide.parts.map((p) => p.path), slide.name);
  }

  /** Object URL of a preview, cached for the page's lifetime; null = no preview for this codec. */
  preview(slide: SlideEntry, imageId?: string, maxSize = 160): Promise<string | null> {
    const key = `${slide.id}/${imageId ?? ''}/${maxSize}`;
    let p = this.previews.get(key);
    if (!p) {
      p = this.filesOf(slide)
        .then((files) => this.engine.preview(slide.id, files, imageId, maxSize))
        .then((b) => (b ? URL.createObjectURL(b) : null))
        .catch(() => null);
      this.previews.set(key, p);
    }
    return p;
  }

  // ---- decisions (steps 3 and 4) ----

  setFieldRemoved(slide: SlideEntry, fieldId: string, removed: boolean): void {
    const set = new Set(slide.removeFields);
    if (removed) set.add(fieldId);
    else set.delete(fieldId);
    slide.removeFields = [...set];
    this.decisionsChanged(slide);
  }

  setImageRemoved(slide: SlideEntry, imageId: string, removed: boolean): void {
    const set = new Set(slide.removeImages);
    if (removed) set.add(imageId);
    else set.delete(imageId);
    slide.removeImages = [...set];
    this.decisionsChanged(slide);
  }

  /**
   * An incomplete slide (MIRAX Data files missing): the user agrees to de-identify and upload the
   * levels that are there. Without it, that slide fails alone at de-identification with the reason.
   */
  setAllowIncomplete(slide: SlideEntry, allow: boolean): void {
    slide.allowIncomplete = allow;
    this.decisionsChanged(slide);
  }

  /** "Auto redact": every field that is not critical goes, in every file of the batch. */
  autoRedact(): void {
    for (const s of this.usable) {
      s.removeFields = s.fields.filter((f) => f.class !== 'critical').map((f) => f.id);
      this.decisionsChanged(s, false);
    }
    this.changed();
  }

  /** Copy one file's field decisions to every other file of the same format (by field id). */
  applyToSameFormat(from: SlideEntry): number {
    const removed = new Set(from.removeFields);
    const known = new Set(from.fields.map((f) => f.id));
    let n = 0;
    for (const s of this.usable) {
      if (s === from || s.format !== from.format) continue;
      const keep = s.removeFields.filter((id) => !known.has(id));
      s.removeFields = [...keep, ...s.fields.filter((f) => known.has(f.id) && removed.has(f.id)).map((f) => f.id)];
      this.decisionsChanged(s, false);
      n++;
    }
    this.changed();
    return n;
  }

  /** A staged copy made before a decision changed no longer matches it: drop it. */
  private decisionsChanged(slide: SlideEntry, notify = true): void {
    if (slide.staged && this.batch) {
      slide.staged = undefined;
      void deleteStagedDir(stagingDir(this.batch, slide.id));
    }
    if (notify) this.changed();
  }

  exclude(slide: SlideEntry, excluded: boolean): void {
    slide.excluded = excluded;
    // A copy staged for Download is not needed for a slide that will not be uploaded.
    if (excluded) this.decisionsChanged(slide, false);
    this.changed();
  }

  // ---- step 5: de-identify one slide now, for "Download" ----

  async stageForDownload(slide: SlideEntry, onProgress: (f: number) => void): Promise<void> {
    if (slide.staged || !this.batch) return;
    const files = await this.filesOf(slide);
    slide.staged = await this.engine.deidentify(
      slide.id,
      files,
      redactionRequest(slide, this.batch.uidKey),
      stagingDir(this.batch, slide.id),
      (d, t) => onProgress(t > 0 ? d / t : 0),
    );
    this.changed();
  }

  /**
   * Download through the views (issue 15): with zero-copy on, a one-file slide not staged yet is
   * read from its original, checked chunk by chunk in the worker, into the file the user picked —
   * nothing written to this PC's storage. undefined when that does not apply (several files, a
   * copy already staged, zero-copy off): the caller stages as before.
   */
  viewDownload(slide: SlideEntry): ((target: SaveTarget, onProgress: (f: number) => void) => Promise<void>) | undefined {
    const views = this.engine.views;
    const batch = this.batch;
    if (!this.options.zeroCopy || !views || !batch || slide.staged || slide.parts.length !== 1) return undefined;
    return async (target, onProgress) => {
      let files: File[];
      try {
        files = await this.filesOf(slide);
      } catch (e) {
        await target.abort(e).catch(() => undefined);
        throw e;
      }
      await saveThroughViews(views, slide.id, files, redactionRequest(slide, batch.uidKey), target, onProgress);
    };
  }

  // ---- step 6 ----

  startUpload(): void {
    if (!this.batch) return;
    this.batch.uploadStarted = true;
    this.uploader ??= new BatchUploader({
      ...this.options,
      batch: () => this.batch!,
      files: (s) => this.filesOf(s),
      reconnectable: (s) => {
        const src = this.sources.find((x) => x.id === s.sourceId);
        return !!src && src.origin !== 'input' && !!(src.dir ?? src.handles?.length);
      },
      engine: this.engine,
      originalHashes: this.originalHashes,
      onChange: () => this.changed(),
      onProgress: () => this.progressed(),
    });
    if (this.batch.uploadPaused) this.uploader.resume();
    else this.uploader.start();
    this.changed();
  }

  /**
   * "Start again" after Cancel: the slides not yet uploaded are de-identified and sent anew, by a
   * new uploader (the cancelled one has stopped for good).
   */
  restartCancelled(): void {
    if (!this.batch) return;
    this.uploader?.stop();
    this.uploader = undefined;
    resetCancelled(this.batch);
    this.startUpload();
  }

  /**
   * Every slide is on the server and, when de-identified, passed the server's verification. A
   * quarantined slide keeps the wizard on the upload step, where it shows as failed.
   */
  allDone(): boolean {
    const u = this.usable;
    return !!this.uploader && u.length > 0 && u.every((s) => this.uploader!.slideDone(s));
  }

  /** Forget this batch (and its staged copies) and begin an empty one. */
  async startOver(): Promise<void> {
    this.duplicates?.choose(false);
    if (this.uploader?.active) await this.uploader.cancel();
    const old = this.batch;
    this.uploader = undefined;
    this.originalHashes.stop();
    this.forgetPreviews();
    this.batch = newBatch(this.owner);
    this.sources = [];
    this.unavailable = [];
    this.notice = '';
    this.originals.forget();
    await createBatch(this.batch);
    await makeCurrent(this.batch);
    if (old) await deleteBatch(old);
    this.changed();
  }

  /**
   * The session ended by itself (expired, or signed out in another tab): stop uploads and
   * de-identification — they would go on as nobody, or as whoever signs in next — and save where
   * the batch stands. The picked files stay in memory: if the same user signs in again, resume()
   * continues without asking for them again; anyone else signing in closes this controller.
   */
  async suspend(): Promise<void> {
    if (this.closed) return;
    this.suspended = true;
    this.originalHashes.stop();
    this.uploader?.stop();
    this.uploader = undefined;
    if (this.wasBusy) setBusy(false);
    this.wasBusy = false;
    await this.saver.now();
    await this.progressSaver.now();
  }

  /** The same user is signed in again after suspend(): an upload that was running goes on. */
  resume(): void {
    const b = this.batch;
    if (this.closed || !this.suspended || !b) return;
    this.suspended = false;
    if (b.step === 6 && b.uploadStarted && !b.uploadPaused) this.startUpload();
    this.changed();
  }

  /**
   * The user signs out keeping the batch, or another user signs in: stop uploads and
   * de-identification (nothing is deleted, on the server or here), save where the batch stands
   * and let go of everything held in memory for it (the picked files too). The same user signing
   * in again gets a new controller that loads the batch and continues.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.suspend();
    this.release();
  }

  /**
   * The user discards the batch (at sign-out): unfinished uploads are deleted on the server while
   * the session still lets us, then the record with its values, its selections, stored upload URLs
   * and staged copies go from this PC.
   */
  async discard(): Promise<void> {
    const b = this.batch;
    this.uploader?.stop();
    this.release();
    if (!b) return;
    await terminateStoredUploads(b.userId, b.id);
    await deleteBatch(b);
  }

  private release(): void {
    this.closed = true;
    this.originalHashes.stop();
    this.duplicates?.choose(false);
    clearTimeout(this.progressTimer);
    if (this.progressFrame !== undefined) cancelAnimationFrame(this.progressFrame);
    if (this.wasBusy) setBusy(false);
    this.wasBusy = false;
    this.forgetPreviews();
    this.originals.forget();
    void this.engine.close?.();
    this.listeners.clear();
    this.progressListeners.clear();
  }

  private forgetPreviews(): void {
    for (const p of this.previews.values()) void p.then((u) => u && URL.revokeObjectURL(u));
    this.previews.clear();
  }
}
