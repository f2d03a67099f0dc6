import { LitElement, html } from 'lit';
import type { SlideEntry } from '../../state/batch-store.ts';
import type { ImportController } from '../wsi-bulk-import/import-controller.ts';
import { slidePreviewStyles } from './wsi-slide-preview.styles.ts';

/** A slide's thumbnail (or a label/overview image) decoded in the engine worker. */
export class WsiSlidePreview extends LitElement {
  static override properties = {
    ctl: { attribute: false },
    slide: { attribute: false },
    imageId: { attribute: 'image-id' },
    size: { type: Number },
    alt: {},
    url: { state: true },
  };
  static override styles = slidePreviewStyles;
  declare ctl: ImportController | undefined;
  declare slide: SlideEntry | undefined;
  declare imageId: string | undefined;
  declare size: number;
  declare alt: string;
  /** undefined = loading, null = no preview for this codec. */
  declare url: string | null | undefined;
  private requested = '';

  constructor() {
    super();
    this.size = 160;
    this.alt = '';
    this.url = undefined;
  }

  protected override willUpdate(): void {
    if (!this.ctl || !this.slide) return;
    const key = `${this.slide.id}/${this.imageId ?? ''}/${this.size}`;
    if (key === this.requested) return;
    this.requested = key;
    this.url = undefined;
    void this.ctl.preview(this.slide, this.imageId, this.size).then((u) => {
      if (this.requested === key) this.url = u;
    });
  }

  override render() {
    this.style.setProperty('--preview-size', `${this.size}px`);
    if (this.url === undefined) return html`<span class="none" role="img" aria-label="loading preview">…</span>`;
    if (this.url === null) return html`<span class="none" role="img" aria-label=${`${this.alt}: no preview`}>no preview</span>`;
    return html`<img src=${this.url} alt=${this.alt} />`;
  }
}

customElements.define('wsi-slide-preview', WsiSlidePreview);
