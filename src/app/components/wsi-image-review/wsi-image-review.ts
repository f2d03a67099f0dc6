import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import type { ImageSummary, SlideEntry } from '../../state/batch-store.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { associatedImages } from '../wsi-bulk-import/decisions.ts';
import { imageReviewStyles } from './wsi-image-review.styles.ts';
import '../wsi-slide-preview/wsi-slide-preview.ts';
import { keptPhotoWarning, ROLE_LABEL as ROLE } from './photo-warning.ts';

/** Step 4: label and overview images, shown, with keep/remove (removed by default). */
export class WsiImageReview extends ImportStepElement {
  static override styles = [sharedStyles, imageReviewStyles];


  override render() {
    const ctl = this.ctl;
    if (!ctl?.batch) return nothing;
    return html`
      <h3 tabindex="-1">Label and overview images</h3>
      <p class="muted">These photographs of the glass slide often show the patient's name or a barcode. They are removed unless you keep them.</p>
      <div class="slides">${ctl.usable.map((s) => this.slideCard(s))}</div>
    `;
  }

  private slideCard(s: SlideEntry) {
    const images = associatedImages(s.images);
    return html`<div class="card">
      <h4>${s.name}</h4>
      ${images.length === 0
        ? html`<p class="muted">No label or overview image.</p>`
        : html`<div class="images">${images.map((i) => this.image(s, i))}</div>`}
    </div>`;
  }

  private image(s: SlideEntry, i: ImageSummary) {
    const removed = s.removeImages.includes(i.id);
    const name = `${ROLE[i.role] ?? i.role} of ${s.name}`;
    return html`<figure class=${removed ? 'removed' : ''}>
      <wsi-slide-preview .ctl=${this.ctl} .slide=${s} image-id=${i.id} size="240" alt=${name}></wsi-slide-preview>
      <figcaption>
        <span>${ROLE[i.role] ?? i.role} <span class="muted">${i.width}×${i.height}</span></span>
        <label><input type="checkbox" .checked=${removed} aria-label=${`Remove ${name}`}
          @change=${(e: Event) => this.ctl!.setImageRemoved(s, i.id, (e.target as HTMLInputElement).checked)} /> Remove</label>
        ${removed ? html`<span class="muted">will be removed</span>` : html`<strong>kept</strong>`}
      </figcaption>
      ${removed ? nothing : html`<p class="warn" role="note">${keptPhotoWarning(i.role)}</p>`}
    </figure>`;
  }
}

customElements.define('wsi-image-review', WsiImageReview);
