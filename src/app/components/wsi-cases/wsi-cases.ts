import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type ScanSummary } from '../../api.ts';
import type { CaseSummary } from '../wsi-case-picker/wsi-case-picker.ts';
import { formatMpp } from '../../format.ts';

/** Cases of the lab; with `case-id`, one case and its linked scans. */
export class WsiCases extends LitElement {
  static override properties = { caseId: { attribute: 'case-id' }, cases: { state: true }, current: { state: true }, error: { state: true }, q: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      .toolbar { display: flex; gap: 0.6rem; align-items: end; margin-bottom: 0.8rem; flex-wrap: wrap; }
      .toolbar h2 { margin: 0 auto 0 0; }
      form { display: flex; gap: 0.5rem; align-items: end; }
      label { display: grid; gap: 0.2rem; }
    `,
  ];
  declare caseId: string | undefined;
  declare cases: CaseSummary[] | null;
  declare current: { case: CaseSummary; scans: ScanSummary[] } | null;
  declare error: string;
  declare q: string;

  constructor() {
    super();
    this.cases = null;
    this.current = null;
    this.error = '';
    this.q = '';
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('caseId')) void this.load();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.caseId) void this.load();
  }

  private async load() {
    try {
      if (this.caseId) this.current = await api(`/api/cases/${this.caseId}`);
      else this.cases = (await api<{ cases: CaseSummary[] }>(`/api/cases?q=${encodeURIComponent(this.q)}`)).cases;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  override render() {
    if (this.error) return html`<p class="error" role="alert">${this.error}</p>`;
    return this.caseId ? this.one() : this.list();
  }

  private list() {
    return html`
      <div class="toolbar">
        <h2>Cases</h2>
        <label>Search for case <input type="search" .value=${this.q} @input=${(e: InputEvent) => { this.q = (e.target as HTMLInputElement).value; void this.load(); }} /></label>
        <form @submit=${this.create}>
          <label>New case number <input name="caseNumber" type="text" required /></label>
          <label>Description <input name="description" type="text" /></label>
          <button type="submit">Create case</button>
        </form>
      </div>
      ${this.cases === null ? html`<p class="muted">Loading…</p>` : this.cases.length === 0 ? html`<p class="muted">No cases.</p>` : html`
        <table>
          <thead><tr><th>Case</th><th>Description</th><th>Scans</th></tr></thead>
          <tbody>${this.cases.map((c) => html`<tr><td><a href="/cases/${c.id}">${c.caseNumber}</a></td><td>${c.description ?? ''}</td><td>${c.scanCount ?? ''}</td></tr>`)}</tbody>
        </table>`}
    `;
  }

  private one() {
    if (!this.current) return html`<p class="muted">Loading…</p>`;
    const c = { ...this.current.case, scans: this.current.scans };
    return html`
      <div class="toolbar"><h2>Case ${c.caseNumber}</h2><a href="/cases">All cases</a></div>
      ${c.description ? html`<p>${c.description}</p>` : nothing}
      ${c.scans.length === 0 ? html`<p class="muted">No scans linked. Select scans in the Scans view and use “Link to case”.</p>` : html`
        <table>
          <thead><tr><th>Scan</th><th>Status</th><th>MPP</th><th></th></tr></thead>
          <tbody>${c.scans.map((s) => html`<tr><td><a href="/scans/${s.id}">${s.originalFilename}</a></td><td>${s.status}</td><td>${formatMpp(s.mpp)}</td>
            <td><button class="danger" @click=${() => void this.unlink(s.id)}>Unlink</button></td></tr>`)}</tbody>
        </table>`}
    `;
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    try {
      await api('/api/cases', { body: { caseNumber: String(data.get('caseNumber')).trim(), description: String(data.get('description') ?? '').trim() || undefined } });
      form.reset();
      await this.load();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  private async unlink(scanId: number) {
    await api(`/api/cases/${this.caseId}/scans/${scanId}`, { method: 'DELETE' });
    await this.load();
  }
}

customElements.define('wsi-cases', WsiCases);
