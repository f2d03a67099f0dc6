import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type ScanSummary } from '../../api.ts';
import { formatBytes, formatDims, formatMpp } from '../../format.ts';
import { openRemoteProvider } from '../../viewer-provider.ts';
import type { TileProvider } from '../wsi-viewer/tile-provider.ts';
import '../wsi-viewer/wsi-viewer.ts';
import '../wsi-case-picker/wsi-case-picker.ts';
import '../wsi-quarantine/wsi-quarantine.ts';

type Tab = 'details' | 'regions';

/**
 * A scan's page: deep-zoom viewer over the stored file, details with "Search for case", and the
 * Regions tab where a missing MPP is entered, checked with Reprocess, and saved.
 */
export class WsiScanDetails extends LitElement {
  static override properties = {
    scanId: { attribute: 'scan-id' },
    scan: { state: true },
    tab: { state: true },
    error: { state: true },
    provider: { state: true },
    viewerError: { state: true },
    mppInput: { state: true },
    preview: { state: true },
    message: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .head { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
      .head h2 { margin: 0; }
      .layout { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 1rem; margin-top: 1rem; }
      @media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
      wsi-viewer { height: 70vh; }
      [role='tablist'] { display: flex; gap: 0.25rem; border-bottom: 1px solid var(--wsi-border); margin-bottom: 0.8rem; }
      [role='tab'] { border: none; border-bottom: 3px solid transparent; border-radius: 0; background: none; }
      [role='tab'][aria-selected='true'] { border-bottom-color: var(--wsi-primary); font-weight: 600; }
      dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 0.8rem; margin: 0; }
      dt { color: var(--wsi-muted); }
      dd { margin: 0; overflow-wrap: anywhere; }
      fieldset { border: 1px solid var(--wsi-border); border-radius: 6px; display: grid; gap: 0.5rem; }
      .row { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
    `,
  ];
  declare scanId: string;
  declare scan: ScanSummary | null;
  declare tab: Tab;
  declare error: string;
  declare provider: TileProvider | undefined;
  declare viewerError: string;
  declare mppInput: string;
  declare preview: { mpp: number; widthMm: number; heightMm: number } | null;
  declare message: string;

  constructor() {
    super();
    this.scan = null;
    this.tab = 'details';
    this.error = '';
    this.viewerError = '';
    this.mppInput = '';
    this.preview = null;
    this.message = '';
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('scanId') && this.scanId) void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.scan = (await api<{ scan: ScanSummary }>(`/api/scans/${this.scanId}`)).scan;
      if (this.scan.status === 'needs-mpp') this.tab = 'regions';
      this.error = '';
      void this.openViewer();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  private async openViewer(): Promise<void> {
    // Quarantined bytes are never served: there is nothing to open.
    if (!this.scan || this.provider || this.scan.status === 'quarantined') return;
    try {
      this.provider = await openRemoteProvider(this.scan);
    } catch (e) {
      this.viewerError = e instanceof Error ? e.message : String(e);
    }
  }

  override render() {
    if (this.error) return html`<p class="error" role="alert">${this.error}</p>`;
    const s = this.scan;
    if (!s) return html`<p class="muted">Loading…</p>`;
    return html`
      <div class="head">
        <h2>${s.originalFilename}</h2>
        <span class="status" data-status=${s.status}>${s.status === 'quarantined' ? 'Quarantined' : s.status}</span>
        <a href="/scans">Back to scans</a>
      </div>
      <div class="layout">
        <div>
          ${s.status === 'quarantined'
            ? html`<div class="card"><wsi-quarantine .scan=${s} @files-removed=${(e: CustomEvent<ScanSummary>) => (this.scan = { ...s, ...e.detail })}></wsi-quarantine></div>`
            : this.provider
            ? html`<wsi-viewer .provider=${this.provider}></wsi-viewer>`
            : html`<div class="card muted">${this.viewerError ? html`<span class="error">Preview unavailable: ${this.viewerError}</span>` : 'Opening viewer…'}</div>`}
        </div>
        <section class="card">
          <div role="tablist" aria-label="Scan information">
            ${this.tabButton('details', 'Details')} ${this.tabButton('regions', 'Regions')}
          </div>
          ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
          ${this.tab === 'details' ? this.details(s) : this.regions(s)}
        </section>
      </div>
    `;
  }

  private tabButton(id: Tab, label: string) {
    return html`<button role="tab" id="tab-${id}" aria-controls="panel-${id}" aria-selected=${this.tab === id ? 'true' : 'false'} @click=${() => (this.tab = id)}>${label}</button>`;
  }

  private details(s: ScanSummary) {
    return html`<div role="tabpanel" id="panel-details" aria-labelledby="tab-details">
      <dl>
        <dt>Format</dt><dd>${s.format ?? '—'}</dd>
        <dt>Dimensions</dt><dd>${formatDims(s.width, s.height)}</dd>
        <dt>MPP</dt><dd>${formatMpp(s.mpp)}</dd>
        <dt>Size</dt><dd>${formatBytes(s.totalBytes)}</dd>
        <dt>Uploaded</dt><dd>${new Date(s.createdAt).toLocaleString()}${s.uploadedBy?.username ? ` by ${s.uploadedBy.username}` : ''}</dd>
        <dt>Mode</dt><dd>${s.mode === 'direct' ? 'Direct Upload (original file)' : 'De-identified on the lab PC'}</dd>
        <dt>Case</dt><dd>${s.cases.length ? s.cases.map((c) => html`<a href="/cases/${c.id}">${c.caseNumber}</a> `) : html`<span class="muted">not assigned</span>`}</dd>
        ${s.sourceScanId ? html`<dt>Uploaded as</dt><dd>a slide of the zip in <a href="/scans/${s.sourceScanId}">scan ${s.sourceScanId}</a></dd>` : nothing}
        ${s.derived?.length
          ? html`<dt>Same zip</dt><dd>${s.derived.map((x) => html`<a href="/scans/${x.id}">${x.originalFilename}</a> (${x.status}) `)}</dd>`
          : nothing}
        ${s.error && !(s.derived?.length && (s.status === 'ready' || s.status === 'needs-mpp')) ? html`<dt>Problem</dt><dd class="error">${s.error}</dd>` : nothing}
      </dl>
      <h3>Assign to a case</h3>
      <wsi-case-picker @case-picked=${(e: CustomEvent<{ id: number }>) => void this.assign(e.detail.id)}></wsi-case-picker>
    </div>`;
  }

  private regions(s: ScanSummary) {
    return html`<div role="tabpanel" id="panel-regions" aria-labelledby="tab-regions">
      ${s.status === 'needs-mpp' ? html`<p>The microns per pixel (MPP) of this scan could not be determined. Enter it to enable measurements.</p>` : nothing}
      <fieldset>
        <legend>Resolution</legend>
        <label>MPP (µm per pixel)
          <input type="number" step="any" min="0.01" max="100" .value=${this.mppInput || (s.mpp ? String(s.mpp.x) : '')}
            @input=${(e: InputEvent) => { this.mppInput = (e.target as HTMLInputElement).value; this.preview = null; }} />
        </label>
        ${this.preview
          ? html`<p>At ${this.preview.mpp} µm/px the scanned area is ${this.preview.widthMm.toFixed(2)} × ${this.preview.heightMm.toFixed(2)} mm.</p>`
          : nothing}
        <div class="row">
          <button @click=${() => void this.reprocess()}>Reprocess</button>
          <button class="primary" ?disabled=${!this.preview} @click=${() => void this.save()}>Save</button>
        </div>
      </fieldset>
    </div>`;
  }

  private mppValue(): number | null {
    const v = Number(this.mppInput || this.scan?.mpp?.x);
    return Number.isFinite(v) && v > 0 && v < 1000 ? v : null;
  }

  /**
   * Reprocess: the entered MPP becomes the scan's (source 'user') and the server re-runs ingest
   * with it; we wait for the result and show the physical size it implies. Save then confirms it.
   */
  private async reprocess(): Promise<void> {
    const mpp = this.mppValue();
    if (mpp === null || !this.scan) {
      this.message = 'Enter a positive MPP, e.g. 0.25 for a 40× scan or 0.5 for 20×.';
      return;
    }
    const id = this.scan.id;
    this.message = 'Reprocessing…';
    await api(`/api/scans/${id}`, { method: 'PATCH', body: { mpp: { x: mpp, y: mpp } } });
    await api(`/api/scans/${id}/reprocess`, { body: {} });
    let scan = this.scan;
    for (let i = 0; i < 120; i++) {
      scan = (await api<{ scan: ScanSummary }>(`/api/scans/${id}`)).scan;
      if (scan.status !== 'processing') break;
      await new Promise((r) => setTimeout(r, Math.min(200 * (i + 1), 1000)));
    }
    this.scan = scan;
    if (scan.status === 'processing') {
      this.message = 'Still processing; check again in a moment.';
      return;
    }
    const w = scan.width ?? 0;
    const h = scan.height ?? 0;
    this.preview = { mpp, widthMm: (w * mpp) / 1000, heightMm: (h * mpp) / 1000 };
    this.message = scan.status === 'ready' ? 'Reprocessed with the entered MPP. Save to keep it.' : `Reprocessing ended as ${scan.status}.`;
  }

  private async save(): Promise<void> {
    const mpp = this.mppValue();
    if (mpp === null || !this.scan) return;
    this.scan = (await api<{ scan: ScanSummary }>(`/api/scans/${this.scan.id}`, { method: 'PATCH', body: { mpp: { x: mpp, y: mpp } } })).scan;
    this.message = 'MPP saved.';
    this.preview = null;
    this.mppInput = '';
    this.tab = 'details';
  }

  private async assign(caseId: number): Promise<void> {
    if (!this.scan) return;
    await api(`/api/cases/${caseId}/scans`, { body: { scanIds: [this.scan.id] } });
    this.message = 'Scan assigned to the case.';
    await this.load();
  }
}

customElements.define('wsi-scan-details', WsiScanDetails);
