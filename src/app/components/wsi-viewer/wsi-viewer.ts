import { LitElement, html, css } from 'lit';
import OpenSeadragon from 'openseadragon';
import type { TileProvider } from './tile-provider.ts';

/**
 * Deep-zoom viewer over a TileProvider. OpenSeadragon levels are the slide's own levels (smallest
 * first), with their real scales: slide pyramids are often 4× apart, not 2×, so the default
 * power-of-two level scales would misplace tiles.
 */
export class WsiViewer extends LitElement {
  static override properties = { provider: { attribute: false }, failed: { state: true } };
  static override styles = css`
    :host { display: block; position: relative; min-height: 360px; background: #222; border-radius: 8px; overflow: hidden; }
    #osd { position: absolute; inset: 0; }
    .msg { position: absolute; inset: auto 0 0 0; color: #fff; background: rgba(0, 0, 0, 0.6); padding: 0.3rem 0.6rem; font-size: 0.85rem; }
    /* OpenSeadragon's own "mobile" rule, here because its injected copy is refused (see claimOsdMobileCss). */
    @media (hover: none) { .openseadragon-canvas:focus { outline: none !important; } }
  `;
  declare provider: TileProvider | undefined;
  declare failed: number;
  private viewer: OpenSeadragon.Viewer | undefined;

  constructor() {
    super();
    this.failed = 0;
  }

  override render() {
    return html`<div id="osd" role="img" aria-label="Slide viewer"></div>${this.failed ? html`<div class="msg" role="status">Some tiles cannot be previewed in the browser (e.g. JPEG 2000 compression). The stored file is not affected.</div>` : ''}`;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('provider')) this.open();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.viewer?.destroy();
    this.viewer = undefined;
  }

  private open(): void {
    this.viewer?.destroy();
    this.viewer = undefined;
    const p = this.provider;
    const el = this.renderRoot.querySelector<HTMLElement>('#osd');
    if (!p || !el || p.levels.length === 0) return;
    const levels = [...p.levels].reverse(); // OpenSeadragon: level 0 = smallest
    const base = p.levels[0];
    const maxLevel = levels.length - 1;
    const onFail = () => (this.failed += 1);
    const source = new OpenSeadragon.TileSource({
      width: base.width,
      height: base.height,
      tileWidth: base.tileWidth,
      tileHeight: base.tileHeight,
      minLevel: 0,
      maxLevel,
    } as unknown as OpenSeadragon.TileSourceOptions);
    const s = source as unknown as Record<string, unknown>;
    s.getLevelScale = (level: number) => levels[level].width / base.width;
    s.getTileWidth = (level: number) => levels[level].tileWidth;
    s.getTileHeight = (level: number) => levels[level].tileHeight;
    s.getNumTiles = (level: number) => {
      const l = levels[level];
      return new OpenSeadragon.Point(Math.ceil(l.width / l.tileWidth), Math.ceil(l.height / l.tileHeight));
    };
    s.getTileUrl = (level: number, x: number, y: number) => `wsi-tile/${level}/${x}/${y}`;
    s.getTilePostData = (level: number, x: number, y: number) => ({ level, x, y });
    s.downloadTileStart = (job: { postData: { level: number; x: number; y: number }; userData: { abort?: AbortController }; finish(d: unknown, r: null, t: string): void; fail(m: string): void }) => {
      const abort = new AbortController();
      job.userData.abort = abort;
      const { level, x, y } = job.postData;
      p.tile(maxLevel - level, x, y, abort.signal).then(
        (bitmap) => job.finish(bitmap, null, 'imageBitmap'),
        (e) => {
          onFail();
          job.fail(e instanceof Error ? e.message : String(e));
        },
      );
    };
    s.downloadTileAbort = (job: { userData: { abort?: AbortController } }) => job.userData.abort?.abort();
    claimOsdMobileCss();
    this.viewer = OpenSeadragon({
      element: el,
      tileSources: source,
      showNavigationControl: true,
      showNavigator: true,
      navigatorPosition: 'BOTTOM_RIGHT',
      crossOriginPolicy: false,
      imageLoaderLimit: 4,
      maxZoomPixelRatio: 2,
      visibilityRatio: 0.5,
      prefixUrl: '/osd-images/',
    } as OpenSeadragon.Options);
    // Tests and screenshots wait for this; also lets assistive tech users know loading finished.
    this.viewer.world.addHandler('add-item', (e) => {
      e.item.addHandler('fully-loaded-change', (ev) => this.toggleAttribute('data-loaded', (ev as { fullyLoaded: boolean }).fullyLoaded));
    });
  }
}

/**
 * OpenSeadragon 6 appends a <style data-openseadragon-mobile-css> with one rule to the document
 * head unless such an element is already there. The app's Content-Security-Policy allows no
 * inline styles, so that element is refused (a violation report on every scan page). Its rule is
 * in WsiViewer's styles instead, inside the shadow root where the canvas lives (the document-level
 * copy would not reach it anyway), and an empty marker of that name (the policy allows exactly the
 * empty style sheet by its hash) tells OpenSeadragon there is nothing left to add.
 */
function claimOsdMobileCss(): void {
  if (document.querySelector('style[data-openseadragon-mobile-css]')) return;
  const marker = document.createElement('style');
  marker.setAttribute('data-openseadragon-mobile-css', 'true');
  document.head.append(marker);
}

customElements.define('wsi-viewer', WsiViewer);
