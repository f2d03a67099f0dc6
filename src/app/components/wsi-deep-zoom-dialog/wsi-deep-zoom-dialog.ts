import { LitElement, html, css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { engine } from '../../engine-client.ts';
import { providerFor } from '../../viewer-provider.ts';
import type { TileProvider } from '../wsi-viewer/tile-provider.ts';
import '../wsi-viewer/wsi-viewer.ts';

/**
 * A deep-zoom preview of a local slide before anything is uploaded: the engine worker opens the
 * picked files (read in place, nothing copied) and decodes tiles on demand. The slide is closed in
 * the worker when the dialog closes.
 */
export class WsiDeepZoomDialog extends LitElement {
  static override properties = { provider: { state: true }, error: { state: true }, title: {}, mpp: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      dialog { width: min(1100px, 92vw); height: min(800px, 88vh); padding: 0.8rem; border: 1px solid var(--wsi-border); border-radius: 8px; }
      dialog[open] { display: grid; grid-template-rows: auto 1fr; gap: 0.6rem; }
      header { display: flex; justify-content: space-between; align-items: center; gap: 1rem; }
      h2 { font-size: 1.05rem; margin: 0; overflow-wrap: anywhere; }
      wsi-viewer { min-height: 0; height: 100%; }
    `,
  ];
  declare provider: TileProvider | undefined;
  declare error: string;
  declare title: string;
  /** µm per pixel of the slide's full resolution, for the scale bar; null when unknown. */
  declare mpp: number | null;
  private key: string | undefined;

  constructor() {
    super();
    this.error = '';
    this.title = '';
    this.mpp = null;
  }

  /** Open the dialog on the given files of one slide. */
  async show(name: string, files: File[]): Promise<void> {
    this.title = name;
    this.error = '';
    this.provider = undefined;
    await this.updateComplete;
    this.renderRoot.querySelector('dialog')!.showModal();
    try {
      const [r] = await engine().inspect(files);
      if (!r?.ok) throw new Error(r ? r.error.message : 'nothing to show');
      this.key = r.slide.key;
      // Tiled pyramid levels only: a stripped level has no tile grid the viewer could address.
      const levels = r.slide.images
        .filter((i) => i.role === 'level' && i.tileWidth && i.tileHeight)
        .sort((a, b) => (a.level ?? 0) - (b.level ?? 0))
        .map((i) => ({ imageId: i.id, width: i.width, height: i.height, tileWidth: i.tileWidth!, tileHeight: i.tileHeight! }));
      if (levels.length === 0) throw new Error('this slide has no tiled levels to preview');
      this.mpp = r.slide.mpp?.x ?? null;
      this.provider = providerFor(r.slide.key, levels, r.slide.images);
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  override render() {
    return html`<dialog aria-labelledby="dz-title" @close=${this.closed}>
      <header>
        <h2 id="dz-title">Preview: ${this.title}</h2>
        <button @click=${() => this.renderRoot.querySelector('dialog')!.close()}>Close</button>
      </header>
      ${this.error
        ? html`<p class="error" role="alert">${this.error}</p>`
        : this.provider
          ? html`<wsi-viewer .provider=${this.provider} .mpp=${this.mpp} name=${this.title}></wsi-viewer>`
          : html`<p class="muted">Opening…</p>`}
    </dialog>`;
  }

  private closed(): void {
    if (this.key) void engine().close(this.key);
    this.key = undefined;
    this.provider = undefined;
  }
}

customElements.define('wsi-deep-zoom-dialog', WsiDeepZoomDialog);
