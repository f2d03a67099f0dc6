import { LitElement, html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type ScanSummary } from '../../api.ts';
import { formatBytes, formatDims, formatMpp, scanName } from '../../format.ts';
import { formatLabel } from '../../../shared/format-names.ts';
import { sentence } from '../../../shared/sentence.ts';
import { scanDetailsStyles } from './wsi-scan-details.styles.ts';
import { statusLabel } from './status-label.ts';
import { openRemoteProvider } from '../../viewer-provider.ts';
import type { TileProvider } from '../wsi-viewer/tile-provider.ts';
import '../wsi-viewer/wsi-viewer.ts';
import '../wsi-case-picker/wsi-case-picker.ts';
import '../wsi-quarantine/wsi-quarantine.ts';

type Tab = 'details' | 'regions';
const TABS: readonly Tab[] = ['details', 'regions'];

/** The server's dry-run reprocess: what the scan would be with the entered MPP (nothing stored). */
interface ReprocessPreview {
  status: ScanSummary['status'];
  width: number | null;
  height: number | null;
  levels: number | null;
  mpp: { x: number; y: number } | null;
  widthMm: number | null;
  heightMm: number | null;
  error?: string;
}

/**
 * A scan's page: deep-zoom viewer over the stored file, details with "Search for case", and the
 * Regions tab where an MPP is entered, tried with Reprocess (a dry run: nothing is stored), then
 * committed with Save or dropped with Cancel.
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
    problem: { state: true },
    busy: { state: true },
    pickCase: { state: true },
  };
  static override styles = [sharedStyles, scanDetailsStyles];
  declare scanId: string;
  declare scan: ScanSummary | null;
  declare tab: Tab;
  declare error: string;
  declare provider: TileProvider | undefined;
  declare viewerError: string;
  declare mppInput: string;
  /** The dry run's result and the MPP it was run with; Save commits exactly that MPP. */
  declare preview: { mpp: number; result: ReprocessPreview } | null;
  declare message: string;
  /** The message reports a failure. */
  declare problem: boolean;
  /** A request of the Regions tab or a case link is under way: its buttons wait. */
  declare busy: boolean;
  /** Linking to a(nother) case: the picker is shown although the scan has a case. */
  declare pickCase: boolean;

  constructor() {
    super();
    this.scan = null;
    this.tab = 'details';
    this.error = '';
    this.viewerError = '';
    this.mppInput = '';
    this.preview = null;
    this.message = '';
    this.busy = false;
    this.pickCase = false;
    this.problem = false;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    // Only a failure sets this back: every other message is news, not a problem.
    if (changed.has('message') && !/^(Reprocess failed|Save failed|Could not)/.test(this.message)) this.problem = false;
    else if (changed.has('message')) this.problem = true;
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
        <h2>${scanName(s)}</h2>
        <span class="status" data-status=${s.status}>${statusLabel(s.status)}</span>
        <a href="/scans">Back to scans</a>
      </div>
      <div class="layout">
        <div>
          ${s.status === 'quarantined'
            ? html`<div class="card"><wsi-quarantine .scan=${s} @files-removed=${(e: CustomEvent<ScanSummary>) => (this.scan = { ...s, ...e.detail })}></wsi-quarantine></div>`
            : this.provider
            ? html`<wsi-viewer .provider=${this.provider} .mpp=${s.mpp?.x ?? null} name=${scanName(s)}></wsi-viewer>`
            : html`<div class="card muted">${this.viewerError ? html`<span class="error">Preview unavailable: ${this.viewerError}</span>` : 'Opening viewer…'}</div>`}
        </div>
        <section class="card">
          <div role="tablist" aria-label="Scan information">
            ${this.tabButton('details', 'Details')} ${this.tabButton('regions', 'Regions')}
          </div>
          ${this.message ? html`<p class=${this.problem ? 'error' : 'ok'} role=${this.problem ? 'alert' : 'status'}>${this.message}</p>` : nothing}
          ${this.tab === 'details' ? this.details(s) : this.regions(s)}
        </section>
      </div>
    `;
  }

  /** WAI-ARIA tabs: one tab in the Tab order; arrow keys, Home and End move and select. */
  private tabButton(id: Tab, label: string) {
    const selected = this.tab === id;
    return html`<button role="tab" id="tab-${id}" aria-controls="panel-${id}" aria-selected=${selected ? 'true' : 'false'} tabindex=${selected ? '0' : '-1'}
      @click=${() => (this.tab = id)} @keydown=${this.tabKey}>${label}</button>`;
  }

  private tabKey = (e: KeyboardEvent): void => {
    const at = TABS.indexOf(this.tab);
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: TABS.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    this.tab = TABS[(next + TABS.length) % TABS.length];
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${this.tab}`)?.focus());
  };

  private details(s: ScanSummary) {
    return html`<div role="tabpanel" id="panel-details" aria-labelledby="tab-details">
      <dl>
        <dt>Format</dt><dd>${s.format ? formatLabel(s.format) : '—'}</dd>
        <dt>Dimensions</dt><dd>${formatDims(s.width, s.height)}</dd>
        <dt>MPP</dt><dd>${formatMpp(s.mpp)}</dd>
        <dt>Size</dt><dd>${formatBytes(s.totalBytes)}</dd>
        <dt>Uploaded</dt><dd>${new Date(s.createdAt).toLocaleString()}${s.uploadedBy?.username ? ` by ${s.uploadedBy.username}` : ''}</dd>
        <dt>Mode</dt><dd>${s.mode === 'direct' ? 'Direct Upload (original file)' : 'De-identified on the lab PC'}</dd>
        <dt>Case</dt><dd>${s.cases.length ? s.cases.map((c) => html`<a href="/cases/${c.id}">${c.caseNumber}</a> `) : html`<span class="muted">not assigned</span>`}</dd>
        ${s.name && s.name !== s.originalFilename && !s.sourceScanId ? html`<dt>File name</dt><dd>${s.originalFilename}</dd>` : nothing}
        ${s.sourceScanId ? html`<dt>Uploaded as</dt><dd>a slide of the zip in <a href="/scans/${s.sourceScanId}">scan ${s.sourceScanId}</a></dd>` : nothing}
        ${s.derived?.length
          ? html`<dt>Same zip</dt><dd>${s.derived.map((x) => html`<a href="/scans/${x.id}">${x.originalFilename}</a> (${statusLabel(x.status)}) `)}</dd>`
          : nothing}
        ${s.error && !(s.derived?.length && (s.status === 'ready' || s.status === 'needs-mpp')) ? html`<dt>Problem</dt><dd class="error">${sentence(s.error)}</dd>` : nothing}
      </dl>
      <h3>Assign to a case</h3>
      ${this.caseSection(s)}
    </div>`;
  }

  /** Once linked, the case is shown instead of the picker (a second "Create case" would fail). */
  private caseSection(s: ScanSummary) {
    if (this.busy && !this.pickCase) return html`<p class="muted">Linking…</p>`;
    if (s.cases.length && !this.pickCase) {
      return html`<p>Linked to ${s.cases.map((c, i) => html`${i ? ', ' : ''}case <a href="/cases/${c.id}">${c.caseNumber}</a>`)}.</p>
        <button @click=${() => (this.pickCase = true)}>Link to another case</button>`;
    }
    return html`<wsi-case-picker ?disabled=${this.busy} @case-picked=${(e: CustomEvent<{ id: number }>) => void this.assign(e.detail.id)}></wsi-case-picker>`;
  }

  private regions(s: ScanSummary) {
    const p = this.preview;
    const current = this.mppValue();
    const tried = p !== null && current === p.mpp;
    const changed = this.mppInput !== '' || p !== null;
    return html`<div role="tabpanel" id="panel-regions" aria-labelledby="tab-regions">
      ${s.status === 'needs-mpp' ? html`<p>The microns per pixel (MPP) of this scan could not be determined. Enter it, check the result with Reprocess, then Save.</p>` : nothing}
      <fieldset>
        <legend>Resolution</legend>
        <label>MPP (µm per pixel)
          <input type="number" step="any" min="0.01" max="100" .value=${this.mppInput || (s.mpp ? String(s.mpp.x) : '')}
            @input=${(e: InputEvent) => { this.mppInput = (e.target as HTMLInputElement).value; }} />
        </label>
        ${p ? this.previewResult(p, tried) : nothing}
        <div class="row">
          <button ?disabled=${this.busy} @click=${() => void this.reprocess()}>Reprocess</button>
          <button class="primary" ?disabled=${this.busy || !tried || p?.result.status !== 'ready'} @click=${() => void this.save()}>Save</button>
          <button ?disabled=${this.busy || !changed} @click=${this.cancel}>Cancel</button>
        </div>
      </fieldset>
    </div>`;
  }

  private previewResult(p: { mpp: number; result: ReprocessPreview }, tried: boolean) {
    const r = p.result;
    const mm = r.widthMm !== null && r.heightMm !== null ? `${r.widthMm.toFixed(2)} × ${r.heightMm.toFixed(2)} mm` : '—';
    return html`<div class="result" data-testid="reprocess-result">
      <strong>With ${p.mpp} µm/px this scan would be: ${statusLabel(r.status)}</strong>${tried ? nothing : html` <span class="muted">(the MPP was changed since: Reprocess again)</span>`}
      <dl>
        <dt>Dimensions</dt><dd>${formatDims(r.width, r.height)} px</dd>
        <dt>Scanned area</dt><dd>${mm}</dd>
        ${r.error ? html`<dt>Problem</dt><dd class="error">${sentence(r.error)}</dd>` : nothing}
      </dl>
      <p class="muted">Nothing is saved yet: Save keeps this MPP, Cancel discards it.</p>
    </div>`;
  }

  private mppValue(): number | null {
    const v = Number(this.mppInput || this.scan?.mpp?.x);
    return Number.isFinite(v) && v > 0 && v <= 1000 ? v : null;
  }

  /** Reprocess: a dry run on the server with the entered MPP; the scan itself is not changed. */
  private async reprocess(): Promise<void> {
    const mpp = this.mppValue();
    if (mpp === null || !this.scan) {
      this.message = 'Enter a positive MPP, e.g. 0.25 for a 40× scan or 0.5 for 20×.';
      return;
    }
    this.busy = true;
    this.message = 'Reprocessing…';
    try {
      const { preview } = await api<{ preview: ReprocessPreview }>(`/api/scans/${this.scan.id}/reprocess`, { body: { dryRun: true, mpp: { x: mpp, y: mpp } } });
      this.preview = { mpp, result: preview };
      this.message = preview.status === 'ready' ? 'Reprocessed with the entered MPP. Nothing is saved yet.' : `Reprocessing would leave the scan ${statusLabel(preview.status).toLowerCase()}.`;
    } catch (e) {
      this.message = `Reprocess failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.busy = false;
    }
  }

  /** Save: the MPP becomes the scan's (source 'user') and ingest runs again with it. */
  private async save(): Promise<void> {
    const p = this.preview;
    if (!p || !this.scan) return;
    const id = this.scan.id;
    this.busy = true;
    this.message = 'Saving…';
    try {
      await api(`/api/scans/${id}`, { method: 'PATCH', body: { mpp: { x: p.mpp, y: p.mpp } } });
      await api(`/api/scans/${id}/reprocess`, { body: {} });
      let scan = this.scan;
      for (let i = 0; i < 120; i++) {
        scan = (await api<{ scan: ScanSummary }>(`/api/scans/${id}`)).scan;
        if (scan.status !== 'processing') break;
        await new Promise((r) => setTimeout(r, Math.min(200 * (i + 1), 1000)));
      }
      this.scan = scan;
      this.preview = null;
      this.mppInput = '';
      this.message = scan.status === 'processing' ? 'MPP saved; the scan is still being processed.' : 'MPP saved.';
    } catch (e) {
      this.message = `Save failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.busy = false;
    }
  }

  /** Cancel: back to the scan's stored MPP; nothing was saved. */
  private cancel = (): void => {
    this.preview = null;
    this.mppInput = '';
    this.message = 'Cancelled: the MPP is unchanged.';
    const input = this.renderRoot.querySelector<HTMLInputElement>('#panel-regions input');
    if (input) input.value = this.scan?.mpp ? String(this.scan.mpp.x) : '';
  };

  private async assign(caseId: number): Promise<void> {
    if (!this.scan || this.busy) return;
    this.busy = true;
    try {
      await api(`/api/cases/${caseId}/scans`, { body: { scanIds: [this.scan.id] } });
      this.message = 'Scan assigned to the case.';
      this.pickCase = false;
      await this.load();
    } catch (e) {
      this.message = `Could not link the scan: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-scan-details', WsiScanDetails);
