import {
  addSource, BatchSaver, deleteBatch, getSources, loadCurrentBatch, makeCurrent, newBatch, saveBatch,
  type BatchRecord, type SlideEntry, type SourceRecord, type StepNo,
} from '../../state/batch-store.ts';
import { setBusy } from '../../state/activity.ts';
import { BatchUploader } from '../../../upload/batch-uploader.ts';
import { deleteStagedDir, STAGING_ROOT, stagingDir } from '../../../upload/staging.ts';
import { directoryPermission, inputsOfFiles, inputsOfSource, walkDirectory } from '../wsi-file-select/pick-files.ts';
import type { EngineInput, WizardEngine } from './wizard-engine.ts';
import { defaultRemovedFields, defaultRemovedImages } from './decisions.ts';

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
  /** Directory selections that need a click to re-grant read permission after a reload. */
  needsPermission: SourceRecord[] = [];
  uploader: BatchUploader | undefined;
  message = '';
  private readonly listeners = new Set<() => void>();
  private readonly saver = new BatchSaver(() => this.batch!);
  private readonly previews = new Map<string, Promise<string | null>>();
  private wasBusy = false;

  constructor(readonly engine: WizardEngine) {}

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Something changed: re-render, save soon, keep the "busy" flag (no SW reload) in step. */
  changed(): void {
    this.saver.schedule();
    const busy = !!this.uploader?.active && !this.batch?.uploadPaused;
    if (busy !== this.wasBusy) {
      setBusy(busy);
      this.wasBusy = busy;
    }
    if (this.batch?.step === 6 && this.batch.uploadStarted && this.uploader && this.allDone()) {
      this.batch.step = 7;
      void this.saver.now();
    }
    for (const l of this.listeners) l();
  }

  async load(): Promise<void> {
    this.batch = await loadCurrentBatch();
    this.sources = await getSources(this.batch.id);
    this.needsPermission = [];
    for (const s of this.sources) if (s.dir && (await directoryPermission(s.dir, false)) !== 'granted') this.needsPermission.push(s);
    this.changed();
    // A reload in the middle of step 6 continues on its own unless the user had paused.
    if (this.batch.step === 6 && this.batch.uploadStarted && !this.batch.uploadPaused && this.needsPermission.length === 0) this.startUpload();
  }

  /** After a reload, directory handles need a user click to be readable again. */
  async grantPermissions(): Promise<void> {
    const still: SourceRecord[] = [];
    for (const s of this.needsPermission) if ((await directoryPermission(s.dir!, true)) !== 'granted') still.push(s);
    this.needsPermission = still;
    this.changed();
    if (still.length === 0 && this.batch?.step === 6 && this.batch.uploadStarted && !this.batch.uploadPaused) this.startUpload();
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
    this.changed();
  }

  /** A pick from "Select files" (or the webkitdirectory fallback): stored, then inspected. */
  async addFiles(files: File[], label: string): Promise<void> {
    if (!this.batch || files.length === 0) return;
    const source: SourceRecord = { id: crypto.randomUUID(), batchId: this.batch.id, kind: 'files', label, files, addedAt: Date.now() };
    await this.addSelection(source, inputsOfFiles(files));
  }

  /** A pick from showDirectoryPicker: the handle is stored, its files are read now. */
  async addDirectory(dir: FileSystemDirectoryHandle): Promise<void> {
    if (!this.batch) return;
    const source: SourceRecord = { id: crypto.randomUUID(), batchId: this.batch.id, kind: 'directory', label: dir.name, dir, addedAt: Date.now() };
    await this.addSelection(source, await walkDirectory(dir));
  }

  private async addSelection(source: SourceRecord, inputs: EngineInput[]): Promise<void> {
    const batch = this.batch!;
    this.reading = [...this.reading, source.label];
    this.changed();
    try {
      await addSource(source);
      this.sources.push(source);
      const sizes = new Map(inputs.map((i) => [i.path, i.file.size]));
      const outcomes = await this.engine.inspect(inputs);
      for (const o of outcomes) {
        const parts = o.paths.map((path) => ({ sourceId: source.id, path, size: sizes.get(path) ?? 0 }));
        const size = parts.reduce((n, p) => n + p.size, 0);
        const base = { id: crypto.randomUUID(), sourceId: source.id, parts, size };
        if (!o.slide) {
          batch.slides.push({ ...base, name: o.paths.join(', ') || source.label, fields: [], images: [], removeFields: [], removeImages: [], error: o.error ?? { code: 'INTERNAL', message: 'could not be read' } });
          continue;
        }
        const { fields, images } = o.slide;
        batch.slides.push({
          ...base,
          name: o.slide.name,
          format: o.slide.format,
          width: o.slide.width,
          height: o.slide.height,
          mpp: o.slide.mpp,
          fields,
          images,
          removeFields: defaultRemovedFields(fields),
          removeImages: defaultRemovedImages(images),
        });
      }
    } catch (e) {
      this.message = `${source.label}: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.reading = this.reading.filter((l) => l !== source.label);
      this.changed();
      await this.saver.now();
    }
  }

  /** The original files of a slide in part order. */
  async filesOf(slide: SlideEntry): Promise<File[]> {
    const source = this.sources.find((s) => s.id === slide.sourceId);
    if (!source) throw new Error(`${slide.name}: its files are no longer available — select them again`);
    const inputs = await inputsOfSource(source);
    const byPath = new Map(inputs.map((i) => [i.path, i.file]));
    return slide.parts.map((p) => {
      const f = byPath.get(p.path);
      if (!f) throw new Error(`${slide.name}: ${p.path} is missing from the selected folder`);
      return f;
    });
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
      void deleteStagedDir(stagingDir(this.batch.id, slide.id));
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
      { removeFields: slide.removeFields, removeImages: slide.removeImages, options: { uidKey: this.batch.uidKey } },
      stagingDir(this.batch.id, slide.id),
      (d, t) => onProgress(t > 0 ? d / t : 0),
    );
    this.changed();
  }

  // ---- step 6 ----

  startUpload(): void {
    if (!this.batch) return;
    this.batch.uploadStarted = true;
    this.uploader ??= new BatchUploader({
      batch: () => this.batch!,
      files: (s) => this.filesOf(s),
      engine: this.engine,
      onChange: () => this.changed(),
    });
    if (this.batch.uploadPaused) this.uploader.resume();
    else this.uploader.start();
    this.changed();
  }

  allDone(): boolean {
    const u = this.usable;
    return u.length > 0 && u.every((s) => s.uploads?.length && s.uploads.every((p) => p.state === 'done'));
  }

  /** Forget this batch (and its staged copies) and begin an empty one. */
  async startOver(): Promise<void> {
    if (this.uploader?.active) await this.uploader.cancel();
    const old = this.batch;
    this.uploader = undefined;
    this.previews.clear();
    this.batch = newBatch();
    this.sources = [];
    this.needsPermission = [];
    await saveBatch(this.batch);
    await makeCurrent(this.batch.id);
    if (old) {
      await deleteBatch(old.id);
      await deleteStagedDir(`${STAGING_ROOT}/${old.id}`).catch(() => undefined);
    }
    this.changed();
  }
}
