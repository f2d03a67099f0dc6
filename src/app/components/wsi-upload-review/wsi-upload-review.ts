import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import type { ImageSummary, SlideEntry } from '../../state/batch-store.ts';
import { stagingDir } from '../../../upload/staging.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { associatedImages } from '../wsi-bulk-import/decisions.ts';
import { downloadStaged, pickSaveTarget, savePicker } from './download.ts';
import { uploadReviewStyles } from './wsi-upload-review.styles.ts';
import { downloadName, serverName } from './review-names.ts';
import { keptPhotoWarning, ROLE_LABEL } from '../wsi-image-review/photo-warning.ts';
import '../wsi-slide-preview/wsi-slide-preview.ts';

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Step 5: a card per file — its thumbnail, the label and overview photos as small pictures
 * (kept or removed), how many fields go and stay, and the name the server will get; Download of
 * the de-identified copy; Finalize.
 */
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
        <span class="muted">${count(ctl.usable.length, 'file', 'files')} will be de-identified and uploaded.</span>
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
        <wsi-slide-preview .ctl=${this.ctl} .slide=${s} size="96" alt=${`Thumbnail of ${s.name}`}></wsi-slide-preview>
        <div class="title">
          <h4>${s.name}${s.excluded ? html` <span class="muted">(removed from the batch)</span>` : nothing}</h4>
          ${s.excluded ? nothing : html`<p class="server-name">Uploaded as <code>${serverName(s)}</code></p>`}
          <p class="counts">Fields: <strong>${go.length} removed</strong>, ${stay.length} kept</p>
        </div>
        ${progress !== undefined ? html`<progress max="1" .value=${progress} aria-label=${`De-identifying ${s.name}`}></progress>` : nothing}
        ${s.excluded
          ? html`<button @click=${() => this.ctl!.exclude(s, false)}>Put back</button>`
          : html`<button ?disabled=${progress !== undefined} @click=${() => void this.download(s)} aria-label=${`Download de-identified ${s.name}`}>Download</button>
              <button class="danger" @click=${() => this.ctl!.exclude(s, true)} aria-label=${`Remove ${s.name} from the batch`}>Remove</button>`}
      </div>
      ${err ? html`<p class="error" role="alert">${err}</p>` : nothing}
      ${imgs.length ? html`<div class="photos">${imgs.map((i) => this.photo(s, i, !s.removeImages.includes(i.id)))}</div>` : nothing}
      ${s.excluded ? nothing : imgStay.map((i) => html`<p class="warn" role="note">${keptPhotoWarning(i.role)}</p>`)}
      ${s.staged ? this.sweep(s) : nothing}
      <details>
        <summary>Show the fields (${go.length} removed, ${stay.length} kept)</summary>
        <div class="cols">
          <div><strong>Removed (${go.length + imgGo.length})</strong>
            <ul>${go.map((f) => html`<li>${f.label}</li>`)}${imgGo.map((i) => html`<li>${ROLE_LABEL[i.role] ?? i.role} image</li>`)}</ul></div>
          <div><strong>Kept (${stay.length + imgStay.length})</strong>
            <ul>${stay.map((f) => html`<li>${f.label}</li>`)}${imgStay.map((i) => html`<li>${ROLE_LABEL[i.role] ?? i.role} image</li>`)}</ul></div>
        </div>
      </details>
    </div>`;
  }

  /** A label or overview photo as a small picture, with what happens to it. */
  private photo(s: SlideEntry, i: ImageSummary, kept: boolean) {
    const role = ROLE_LABEL[i.role] ?? i.role;
    return html`<figure class=${kept ? 'kept' : 'removed'}>
      <wsi-slide-preview .ctl=${this.ctl} .slide=${s} image-id=${i.id} size="72" alt=${`${role} of ${s.name}, ${kept ? 'kept' : 'removed'}`}></wsi-slide-preview>
      <figcaption>${role}: ${kept ? html`<strong>kept</strong>` : 'removed'}</figcaption>
    </figure>`;
  }

  private sweep(s: SlideEntry) {
    const st = s.staged!;
    const ok = st.verifyOk && st.sweep.ok;
    return html`<p class=${ok ? 'ok' : 'error'} role="status">
      ${ok ? '✓' : '✗'} PHI sweep: ${count(st.sweep.valuesSearched, 'removed value', 'removed values')} searched, ${st.sweep.hits} found;
      ${st.blankedSegments ? `${count(st.blankedSegments, 'text segment', 'text segments')} inside image data blanked;` : ''}
      verification ${st.verifyOk ? 'passed' : `failed: ${st.problems.join('; ')}`}.
    </p>`;
  }

  private async download(s: SlideEntry): Promise<void> {
    const ctl = this.ctl!;
    this.errors.delete(s.id);
    this.working = new Map(this.working).set(s.id, 0);
    try {
      // Zero-copy on and a save picker: straight from the original into the picked file, not staged.
      const pick = savePicker();
      const viaViews = pick ? ctl.viewDownload(s) : undefined;
      if (pick && viaViews) {
        const target = await pickSaveTarget(pick, downloadName(s, [{ name: s.parts[0]!.path.split('/').pop()! }]));
        if (target) await viaViews(target, (f) => (this.working = new Map(this.working).set(s.id, f)));
        return;
      }
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
