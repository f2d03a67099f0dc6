import { redactionRequest, type PartUpload, type SlideEntry } from './batch-types.ts';
import { ViewUpload, type ViewEngine } from './view-source.ts';
import type { RedactionRequest } from '../engine/redact/plan-types.ts';
import { SlideError } from '../shared/errors.ts';
import type { OpenedViews } from '../workers/engine-api-types.ts';

export type { OpenedViews };

/** The worker's zero-copy API as the uploader uses it (src/workers/upload-views.ts). */
export interface ZeroCopyEngine extends ViewEngine {
  /** Plan the slide, build its outputs as views over `files` and verify them: nothing written or sent. */
  openUploadViews(slideId: string, files: File[], request: RedactionRequest): Promise<OpenedViews>;
  closeUploadViews(viewSetId: string): Promise<void> | void;
}


/**
 * The zero-copy slides' views in the worker, opened once per run and per slide (again after a
 * failure or a reload), and what the upload queue reads of each part: a checked view of its output.
 */
export class SlideViews {
  private readonly views = new Map<string, Promise<OpenedViews>>();

  constructor(
    private readonly engine: ZeroCopyEngine | undefined,
    private readonly files: (s: SlideEntry) => Promise<File[]>,
    private readonly uidKey: () => string,
  ) {}

  open(s: SlideEntry, files: File[]): Promise<OpenedViews> {
    if (!this.engine) return Promise.reject(new SlideError('INTERNAL', 'this browser cannot send slides without staging them'));
    let v = this.views.get(s.id);
    if (!v) {
      v = this.engine.openUploadViews(s.id, files, redactionRequest(s, this.uidKey()));
      this.views.set(s.id, v);
      v.catch(() => this.views.delete(s.id));
    }
    return v;
  }

  has(s: SlideEntry): boolean {
    return this.views.has(s.id);
  }

  close(s: SlideEntry): void {
    const v = this.views.get(s.id);
    this.views.delete(s.id);
    void v?.then((o) => this.engine?.closeUploadViews(o.viewSetId)).catch(() => undefined);
  }

  closeAll(slides: SlideEntry[]): void {
    for (const s of slides) if (this.views.has(s.id)) this.close(s);
  }

  /** The part's reader for tus, opened on first use. */
  async part(s: SlideEntry, p: PartUpload): Promise<ViewUpload> {
    if (!this.engine) throw new SlideError('INTERNAL', 'this browser cannot send slides without staging them');
    const opened = await this.open(s, await this.files(s));
    const out = opened.outputs[p.part];
    // The plan is made again after a reload: it must give the very same outputs.
    if (!out || out.size !== p.size) throw new SlideError('CONFLICT', 'the de-identified file would differ from the one being sent; start this slide again');
    return new ViewUpload(this.engine, { viewSetId: opened.viewSetId, output: p.part, size: p.size });
  }
}
