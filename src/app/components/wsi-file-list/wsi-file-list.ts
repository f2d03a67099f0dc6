import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { formatBytes, formatDims, formatMpp } from '../../format.ts';
import { getSetting, setSetting } from '../../state/db.ts';
import type { SlideEntry } from '../../state/batch-store.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { fileListStyles } from './wsi-file-list.styles.ts';
import '../wsi-slide-preview/wsi-slide-preview.ts';
import '../wsi-deep-zoom-dialog/wsi-deep-zoom-dialog.ts';
import type { WsiDeepZoomDialog } from '../wsi-deep-zoom-dialog/wsi-deep-zoom-dialog.ts';
import { formatLabel } from '../../../shared/format-names.ts';
import { plural } from '../../../shared/plural.ts';
import '../wsi-batch-selections/wsi-batch-selections.ts';


/** Step 2: one row per slide (a DICOM directory is grouped into slides), thumbnails on request. */
export class WsiFileList extends ImportStepElement {
  static override properties = { showThumbs: { state: true } };
  static override styles = [sharedStyles, fileListStyles];
  declare showThumbs: boolean;

  constructor() {
    super();
    this.showThumbs = true;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Remembered across batches and reloads: some users find thumbnails slow on big DICOM folders.
    void getSetting('show-thumbnails', true).then((v) => (this.showThumbs = v));
  }

  override render() {
    const ctl = this.ctl;
    if (!ctl?.batch) return nothing;
    return html`
      <h3 tabindex="-1">Loaded files</h3>
      <div class="toolbar">
        <label><input type="checkbox" role="switch" .checked=${this.showThumbs}
          @change=${(e: Event) => this.toggleThumbs((e.target as HTMLInputElement).checked)} /> Show thumbnails</label>
        <span class="muted">${plural(ctl.usable.length, 'slide')}</span>
      </div>
      <wsi-batch-selections .ctl=${ctl}></wsi-batch-selections>
      <table>
        <thead><tr>
          ${this.showThumbs ? html`<th scope="col">Thumbnail</th>` : nothing}
          <th scope="col">Name</th><th scope="col">Format</th><th scope="col">Dimensions</th>
          <th scope="col">Size</th><th scope="col">MPP</th><th scope="col"><span class="sr-only">Preview</span></th>
        </tr></thead>
        <tbody>${ctl.slides.filter((s) => !s.excluded).map((s) => this.row(s))}</tbody>
      </table>
      <wsi-deep-zoom-dialog></wsi-deep-zoom-dialog>
    `;
  }

  private row(s: SlideEntry) {
    const ctl = this.ctl!;
    if (s.error) {
      return html`<tr class="bad">
        ${this.showThumbs ? html`<td></td>` : nothing}
        <th scope="row">${s.name}</th><td colspan="3">${s.error.message}</td><td>${formatBytes(s.size)}</td><td></td>
      </tr>`;
    }
    return html`<tr>
      <!-- A zip is opened on the server only: no thumbnail or preview here. -->
      ${this.showThumbs ? html`<td>${s.zipped ? nothing : html`<wsi-slide-preview .ctl=${ctl} .slide=${s} size="96" alt=${`Thumbnail of ${s.name}`}></wsi-slide-preview>`}</td>` : nothing}
      <th scope="row">${s.name}${s.parts.length > 1 ? html` <span class="muted">(${s.parts.length} files)</span>` : nothing}</th>
      <td>${s.zipped ? 'Zipped DICOM (unpacked on the server)' : formatLabel(s.format)}</td>
      <td class="num">${formatDims(s.width, s.height)}</td>
      <td class="num">${formatBytes(s.size)}</td>
      <td>${formatMpp(s.mpp)}</td>
      <td>${s.zipped ? nothing : html`<button @click=${() => void this.preview(s)} aria-label=${`Deep-zoom preview of ${s.name}`}>Preview</button>`}</td>
    </tr>${s.incomplete ? this.incompleteRow(s) : nothing}`;
  }

  /** Parts of the slide are missing: say what cannot be read, and let the user agree to the rest. */
  private incompleteRow(s: SlideEntry) {
    const ctl = this.ctl!;
    return html`<tr class="warn">
      ${this.showThumbs ? html`<td></td>` : nothing}
      <td colspan="6">
        <p role="note">${s.incomplete}.</p>
        <label><input type="checkbox" .checked=${!!s.allowIncomplete} ?disabled=${ctl.batch?.uploadStarted}
          @change=${(e: Event) => ctl.setAllowIncomplete(s, (e.target as HTMLInputElement).checked)} />
          De-identify and upload the levels that are there</label>
      </td>
    </tr>`;
  }

  /** Deep-zoom preview of the local files: nothing leaves the PC. */
  private async preview(s: SlideEntry): Promise<void> {
    const files = await this.ctl!.filesOf(s);
    await this.renderRoot.querySelector<WsiDeepZoomDialog>('wsi-deep-zoom-dialog')!.show(s.name, files);
  }

  private toggleThumbs(on: boolean): void {
    this.showThumbs = on;
    void setSetting('show-thumbnails', on);
  }
}

customElements.define('wsi-file-list', WsiFileList);
