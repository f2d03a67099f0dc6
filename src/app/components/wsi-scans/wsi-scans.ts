import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type ScanSummary } from '../../api.ts';
import { formatMpp, formatDims } from '../../format.ts';
import '../wsi-quarantine/wsi-quarantine.ts';

/** Status words as the worklist shows them. */
const STATUS_TEXT: Partial<Record<ScanSummary['status'], string>> = { quarantined: 'Quarantined', 'needs-mpp': 'needs MPP' };

/** The worklist's scans view: every scan of the lab, multi-select and "Link to case". */
export class WsiScans extends LitElement {
  static override properties = {
    scans: { state: true },
    error: { state: true },
    selected: { state: true },
    linking: { state: true },
    cases: { state: true },
    message: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .toolbar { display: flex; gap: 0.6rem; align-items: center; margin-bottom: 0.8rem; flex-wrap: wrap; }
      .toolbar h2 { margin: 0 auto 0 0; font-size: 1.3rem; }
      .status { font-size: 0.85rem; padding: 0.1rem 0.45rem; border-radius: 999px; background: #eaeef2; }
      .status[data-s='ready'] { background: #dafbe1; }
      .status[data-s='needs-mpp'], .status[data-s='corrupt'], .status[data-s='failed'], .status[data-s='quarantined'] { background: #ffebe9; }
      wsi-quarantine { margin-top: 0.25rem; max-width: 28rem; font-size: 0.9rem; }
      dialog { border: 1px solid var(--wsi-border); border-radius: 8px; min-width: 360px; }
      dialog ul { list-style: none; padding: 0; max-height: 40vh; overflow: auto; }
      dialog li button { width: 100%; justify-content: space-between; margin: 0.15rem 0; }
    `,
  ];
  declare scans: ScanSummary[] | null;
  declare error: string;
  declare selected: Set<number>;
  declare linking: boolean;
  declare cases: { id: number; caseNumber: string; description?: string }[];
  declare message: string;

  constructor() {
    super();
    this.scans = null;
    this.error = '';
    this.selected = new Set();
    this.linking = false;
    this.cases = [];
    this.message = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      const r = await api<{ scans: ScanSummary[] }>('/api/scans');
      this.scans = r.scans;
      this.error = '';
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  override render() {
    return html`
      <div class="toolbar">
        <h2>Scans</h2>
        ${this.message ? html`<span class="ok" role="status">${this.message}</span>` : nothing}
        <button ?disabled=${this.selected.size === 0} @click=${this.openLink}>Link to case${this.selected.size ? ` (${this.selected.size})` : ''}</button>
        <button @click=${() => void this.load()}>Refresh</button>
      </div>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.scans === null ? html`<p class="muted">Loading…</p>` : this.scans.length === 0 ? html`<p class="muted">No scans yet.</p>` : this.table(this.scans)}
      <dialog id="link" aria-labelledby="link-title">
        <h3 id="link-title">Link ${this.selected.size} scan(s) to a case</h3>
        <label>Search for case <input type="search" @input=${(e: InputEvent) => void this.searchCases((e.target as HTMLInputElement).value)} /></label>
        <ul>
          ${this.cases.map((c) => html`<li><button @click=${() => void this.link(c.id)}>${c.caseNumber}<span class="muted">${c.description ?? ''}</span></button></li>`)}
        </ul>
        <button @click=${() => this.dialog()?.close()}>Cancel</button>
      </dialog>
    `;
  }

  private table(scans: ScanSummary[]) {
    const all = scans.length > 0 && scans.every((s) => this.selected.has(s.id));
    return html`<table>
      <thead><tr>
        <th><input type="checkbox" aria-label="Select all scans" .checked=${all} @change=${(e: Event) => this.selectAll((e.target as HTMLInputElement).checked)} /></th>
        <th>Name</th><th>Status</th><th>Format</th><th>Dimensions</th><th>MPP</th><th>Case</th><th>Uploaded</th>
      </tr></thead>
      <tbody>
        ${scans.map(
          (s) => html`<tr data-scan-id=${s.id}>
            <td><input type="checkbox" aria-label="Select ${s.originalFilename}" .checked=${this.selected.has(s.id)} @change=${(e: Event) => this.toggle(s.id, (e.target as HTMLInputElement).checked)} /></td>
            <td><a href="/scans/${s.id}">${s.originalFilename}</a></td>
            <td><span class="status" data-s=${s.status}>${STATUS_TEXT[s.status] ?? s.status}</span>
              ${s.status === 'quarantined' ? html`<wsi-quarantine compact .scan=${s} @files-removed=${(e: CustomEvent<ScanSummary>) => this.replace(e.detail)}></wsi-quarantine>` : nothing}</td>
            <td>${s.format ?? '—'}</td>
            <td>${formatDims(s.width, s.height)}</td>
            <td>${formatMpp(s.mpp)}</td>
            <td>${s.cases.length ? s.cases.map((c) => html`<a href="/cases/${c.id}">${c.caseNumber}</a> `) : html`<span class="muted">—</span>`}</td>
            <td>${s.createdAt ? new Date(s.createdAt).toLocaleString() : ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  /** One row changed on the server (e.g. its files were removed): show it without reloading the list. */
  private replace(scan: ScanSummary) {
    this.scans = this.scans?.map((s) => (s.id === scan.id ? { ...s, ...scan } : s)) ?? null;
  }

  private toggle(id: number, on: boolean) {
    const s = new Set(this.selected);
    if (on) s.add(id);
    else s.delete(id);
    this.selected = s;
  }

  private selectAll(on: boolean) {
    this.selected = on ? new Set(this.scans?.map((s) => s.id)) : new Set();
  }

  private dialog() {
    return this.renderRoot.querySelector<HTMLDialogElement>('#link');
  }

  private openLink() {
    void this.searchCases('');
    this.dialog()?.showModal();
  }

  private async searchCases(q: string) {
    const r = await api<{ cases: { id: number; caseNumber: string; description?: string }[] }>(`/api/cases?q=${encodeURIComponent(q)}`);
    this.cases = r.cases;
  }

  private async link(caseId: number) {
    try {
      await api(`/api/cases/${caseId}/scans`, { body: { scanIds: [...this.selected] } });
      this.message = `Linked ${this.selected.size} scan(s).`;
      this.selected = new Set();
      this.dialog()?.close();
      await this.load();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }
}

customElements.define('wsi-scans', WsiScans);
