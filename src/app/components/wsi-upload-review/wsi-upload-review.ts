import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import type { SlideEntry } from '../../state/batch-store.ts';
import { stagingDir } from '../../../upload/staging.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { associatedImages } from '../wsi-bulk-import/decisions.ts';
import { downloadStaged } from './download.ts';
import { uploadReviewStyles } from './wsi-upload-review.styles.ts';

/** Step 5: per file what goes and what stays; Download of the de-identified copy; Finalize. */
export class WsiUploadReview extends ImportStepElement {
  static override properties = { working: { state: true }, errors: { state: true } };
  static override styles = [sharedStyles, uploadReviewStyles];
  /** Slide id → de-identification progress 0..1 while a Download prepares its copy. */
  declare working: Map<string, number>;
  declare errors: Map<string, string>;

  constructor() {
    super();
    this.working = new Map();
    this.errors = new Map();
  }

  override render() {
    const ctl = this.ctl;
    if (!ctl?.batch) return nothing;
    const shown = ctl.slides.filter((s) => !s.error);
    return html`
      <h3 tabindex="-1">Review before upload</h3>
      <div class="slides">${shown.map((s) => this.card(s))}</div>
      <div class="finalize">
        <span class="muted">${ctl.usable.length} file(s) will be de-identified and uploaded.</span>
        <button class="primary" ?disabled=${ctl.usable.length === 0} @click=${() => ctl.goto(6)}>Finalize</button>
      </div>
    `;
  }

  private card(s: SlideEntry) {
    const removed = new Set(s.removeFields);
    const go = s.fields.filter((f) => removed.has(f.id));
    const stay = s.fields.filter((f) => !removed.has(f.id));
    const imgs = associatedImages(s.images);
    const imgGo = imgs.filter((i) => s.removeImages.includes(i.id));
    const imgStay = imgs.filter((i) => !s.removeImages.includes(i.id));
    const progress = this.working.get(s.id);
    const err = this.errors.get(s.id);
    return html`<div class="card ${s.excluded ? 'excluded' : ''}">
      <div class="head">
        <h4>${s.name}${s.excluded ? html` <span class="muted">(removed from the batch)</span>` : nothing}</h4>
        ${progress !== undefined ? html`<progress max="1" .value=${progress} aria-label=${`De-identifying ${s.name}`}></progress>` : nothing}
        ${s.excluded
          ? html`<button @click=${() => this.ctl!.exclude(s, false)}>Put back</button>`
          : html`<button ?disabled=${progress !== undefined} @click=${() => void this.download(s)} aria-label=${`Download de-identified ${s.name}`}>Download</button>
              <button class="danger" @click=${() => this.ctl!.exclude(s, true)} aria-label=${`Remove ${s.name} from the batch`}>Remove</button>`}
      </div>
      ${err ? html`<p class="error" role="alert">${err}</p>` : nothing}
      ${s.staged ? this.sweep(s) : nothing}
      <div class="cols">
        <div><strong>Removed (${go.length + imgGo.length})</strong>
          <ul>${go.map((f) => html`<li>${f.label}</li>`)}${imgGo.map((i) => html`<li>${i.role} image</li>`)}</ul></div>
        <div><strong>Kept (${stay.length + imgStay.length})</strong>
          <ul>${stay.map((f) => html`<li>${f.label}</li>`)}${imgStay.map((i) => html`<li>${i.role} image</li>`)}</ul></div>
      </div>
    </div>`;
  }

  private sweep(s: SlideEntry) {
    const st = s.staged!;
    const ok = st.verifyOk && st.sweep.ok;
    return html`<p class=${ok ? 'ok' : 'error'} role="status">
      ${ok ? '✓' : '✗'} PHI sweep: ${st.sweep.valuesSearched} removed value(s) searched, ${st.sweep.hits} found;
      ${st.blankedSegments ? `${st.blankedSegments} text segment(s) inside image data blanked;` : ''}
      verification ${st.verifyOk ? 'passed' : `failed: ${st.problems.join('; ')}`}.
    </p>`;
  }

  private async download(s: SlideEntry): Promise<void> {
    const ctl = this.ctl!;
    this.errors.delete(s.id);
    this.working = new Map(this.working).set(s.id, 0);
    try {
      await ctl.stageForDownload(s, (f) => (this.working = new Map(this.working).set(s.id, f)));
      if (!s.staged!.verifyOk || !s.staged!.sweep.ok) throw new Error('the de-identified copy did not pass the checks; it is not offered for download');
      await downloadStaged(s, ctl.engine, `${stagingDir(ctl.batch!, s.id)}.zip`);
    } catch (e) {
      this.errors = new Map(this.errors).set(s.id, e instanceof Error ? e.message : String(e));
    } finally {
      const w = new Map(this.working);
      w.delete(s.id);
      this.working = w;
    }
  }
}

customElements.define('wsi-upload-review', WsiUploadReview);
