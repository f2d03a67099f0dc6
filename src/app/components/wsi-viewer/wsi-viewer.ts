import { LitElement, html } from 'lit';
import OpenSeadragon from 'openseadragon';
import type { TileProvider } from './tile-provider.ts';
import { scaleBar } from './scale-bar.ts';
import { viewerStyles } from './wsi-viewer.styles.ts';

/** One OpenSeadragon level (smallest first) and how to get its tiles. */
interface OsdLevel {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  tile(col: number, row: number, signal: AbortSignal): Promise<ImageBitmap>;
  /** The placeholder level: its failure is not a tile the browser cannot show. */
  placeholder?: boolean;
}

/** Longest side of the placeholder level; small, so it is drawn magnified (fully opaque in OpenSeadragon). */
const PLACEHOLDER_PX = 384;

/**
 * Deep-zoom viewer over a TileProvider. OpenSeadragon levels are the slide's own levels (smallest
 * first), with their real scales: slide pyramids are often 4× apart, not 2×, so the default
 * power-of-two level scales would misplace tiles.
 *
 * First paint: OpenSeadragon loads the lowest level first. When the slide's smallest level is
 * large (a single-level slide: every tile of the full image), the provider's placeholder (a
 * thumbnail) becomes an extra lowest level of one tile, so the whole view is drawn at once and
 * sharpens as tiles arrive, instead of a staircase of tiles.
 */
export class WsiViewer extends LitElement {
  static override properties = {
    provider: { attribute: false },
    name: {},
    mpp: { attribute: false },
    fastFirstPaint: { attribute: false },
    failed: { state: true },
    scale: { state: true },
  };
  static override styles = viewerStyles;
  declare provider: TileProvider | undefined;
  /** The slide's name, for the viewer's accessible name. */
  declare name: string;
  /** Micrometres per pixel of the full-resolution level; no scale bar without it. */
  declare mpp: number | null | undefined;
  /** Use the placeholder level (on by default; off only to measure the difference). */
  declare fastFirstPaint: boolean;
  declare failed: number;
  declare scale: { label: string; px: number } | null;
  private viewer: OpenSeadragon.Viewer | undefined;

  constructor() {
    super();
    this.name = '';
    this.fastFirstPaint = true;
    this.failed = 0;
    this.scale = null;
  }

  override render() {
    const label = this.name ? `Slide viewer: ${this.name}` : 'Slide viewer';
    return html`<div id="osd" role="region" aria-label=${label}></div>
      <p id="osd-keys" hidden>Arrow keys move, plus and minus zoom, 0 shows the whole slide.</p>
      ${this.failed ? html`<div class="msg" role="status">Some tiles cannot be previewed in the browser (e.g. JPEG 2000 compression). The stored file is not affected.</div>` : ''}
      ${this.scale ? html`<div class="scale" data-testid="scale-bar">${this.scale.label}<div class="bar"></div></div>` : ''}`;
  }

  override updated(changed: Map<string, unknown>): void {
    // Through the CSSOM: the app's CSP refuses style attributes (a styleMap's first render is one).
    const bar = this.renderRoot.querySelector<HTMLElement>('.scale .bar');
    if (bar && this.scale) bar.style.width = `${Math.round(this.scale.px)}px`;
    if (changed.has('provider')) this.open();
    else if (changed.has('mpp')) this.updateScale();
    if (changed.has('name')) this.labelCanvas();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.viewer?.destroy();
    this.viewer = undefined;
  }

  /** The scale bar for the current zoom (immediate values, so it follows animations). */
  private updateScale(): void {
    const v = this.viewer;
    const item = v?.world.getItemAt(0);
    if (!v || !item || !this.mpp || !(this.mpp > 0)) {
      this.scale = null;
      return;
    }
    // Screen pixels per full-resolution pixel.
    const zoom = item.viewportToImageZoom(v.viewport.getZoom(true));
    const next = scaleBar(this.mpp / zoom);
    if (next?.label !== this.scale?.label || Math.abs((next?.px ?? 0) - (this.scale?.px ?? 0)) >= 0.5) this.scale = next;
  }

  /** OpenSeadragon's focusable canvas takes the keyboard: name it and say which keys work. */
  private labelCanvas(): void {
    const canvas = this.viewer?.canvas;
    if (!canvas) return;
    canvas.setAttribute('role', 'application');
    canvas.setAttribute('aria-roledescription', 'slide');
    canvas.setAttribute('aria-label', this.name ? `Slide: ${this.name}` : 'Slide');
    canvas.setAttribute('aria-describedby', 'osd-keys');
  }

  /** OpenSeadragon's levels, smallest first, with the placeholder level when it helps. */
  private osdLevels(p: TileProvider, el: HTMLElement): OsdLevel[] {
    const real: OsdLevel[] = p.levels.map((l, i) => ({ ...l, tile: (col: number, row: number, signal?: AbortSignal) => p.tile(i, col, row, signal) })).reverse();
    const base = p.levels[0];
    const smallest = real[0];
    const long = Math.max(base.width, base.height);
    // As large as the slide appears at home zoom, at most PLACEHOLDER_PX: drawn magnified, never shrunk.
    const fit = Math.min((el.clientWidth || PLACEHOLDER_PX) / base.width, (el.clientHeight || PLACEHOLDER_PX) / base.height) * long;
    const size = Math.max(64, Math.floor(Math.min(PLACEHOLDER_PX, fit)));
    if (!this.fastFirstPaint || !p.placeholder || Math.max(smallest.width, smallest.height) <= 2 * size) return real;
    const width = Math.max(1, Math.round((base.width / long) * size));
    const height = Math.max(1, Math.round((base.height / long) * size));
    let picture: Promise<ImageBitmap> | undefined;
    const get = (): Promise<ImageBitmap> =>
      (picture ??= p.placeholder!().then(async (bmp) => {
        if (!bmp) throw new Error('no placeholder');
        // Drawn to the level's exact size: a thumbnail's aspect may differ from the slide's by a pixel.
        const c = new OffscreenCanvas(width, height);
        c.getContext('2d')!.drawImage(bmp, 0, 0, width, height);
        bmp.close();
        return c.transferToImageBitmap();
      }));
    // OpenSeadragon may close a bitmap it evicts: every request gets a copy.
    const placeholder: OsdLevel = { width, height, tileWidth: width, tileHeight: height, placeholder: true, tile: async () => createImageBitmap(await get()) };
    return [placeholder, ...real];
  }

  private open(): void {
    this.viewer?.destroy();
    this.viewer = undefined;
    this.scale = null;
    const p = this.provider;
    const el = this.renderRoot.querySelector<HTMLElement>('#osd');
    if (!p || !el || p.levels.length === 0) return;
    const levels = this.osdLevels(p, el);
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
      levels[level].tile(x, y, abort.signal).then(
        (bitmap) => job.finish(bitmap, null, 'imageBitmap'),
        (e) => {
          if (!levels[level].placeholder) onFail();
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
      minPixelRatio: minPixelRatioFor(levels, el),
    } as OpenSeadragon.Options);
    // Tests and screenshots wait for this; also lets assistive tech users know loading finished.
    this.viewer.world.addHandler('add-item', (e) => {
      e.item.addHandler('fully-loaded-change', (ev) => this.toggleAttribute('data-loaded', (ev as { fullyLoaded: boolean }).fullyLoaded));
    });
    // The scale bar follows every frame of a zoom or resize (update-viewport: each redraw that moved).
    for (const ev of ['open', 'update-viewport', 'animation-finish'] as const) this.viewer.addHandler(ev, () => this.updateScale());
    this.labelCanvas();
  }
}

/** OpenSeadragon's default: a level is loaded while its pixels are at least half a screen pixel. */
const OSD_MIN_PIXEL_RATIO = 0.5;
/** Below this a level is too fine to load for the whole view (a huge single-level slide). */
const MIN_PIXEL_RATIO_FLOOR = 0.1;

/**
 * With a placeholder below the real levels, the smallest real level may be too fine for
 * OpenSeadragon's default at the home view (a single-level slide: its only level is 0.14 screen
 * pixels per pixel there), so the placeholder would never give way to real tiles until the user
 * zooms in (measured: 0 of 432 tiles requested). Lower the bar just enough for that level to load
 * at home, but never below a tenth of a screen pixel (thousands of tiles for one view).
 */
function minPixelRatioFor(levels: OsdLevel[], el: HTMLElement): number {
  const firstReal = levels.find((l) => !l.placeholder);
  if (!levels[0]?.placeholder || !firstReal) return OSD_MIN_PIXEL_RATIO;
  const homeWidth = Math.min(el.clientWidth || 1, (el.clientHeight || 1) * (firstReal.width / firstReal.height));
  const ratio = homeWidth / firstReal.width;
  return Math.max(MIN_PIXEL_RATIO_FLOOR, Math.min(OSD_MIN_PIXEL_RATIO, 0.9 * ratio));
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
