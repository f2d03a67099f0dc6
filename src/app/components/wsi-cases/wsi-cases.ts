import { LitElement, html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type ScanSummary } from '../../api.ts';
import { SlideError } from '../../../shared/errors.ts';
import type { CaseSummary } from '../wsi-case-picker/wsi-case-picker.ts';
import { statusLabel } from '../wsi-scan-details/status-label.ts';
import { formatMpp, scanName } from '../../format.ts';
import { casesStyles } from './wsi-cases.styles.ts';

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Cases of the lab; with `case-id`, one case: its scans with thumbnails, unlink, rename. A failed
 * request is reported next to what was tried (role="alert"); the page itself always stays.
 */
export class WsiCases extends LitElement {
  static override properties = {
    caseId: { attribute: 'case-id' },
    cases: { state: true },
    current: { state: true },
    loadError: { state: true },
    formError: { state: true },
    rowError: { state: true },
    notice: { state: true },
    q: { state: true },
    busy: { state: true },
    noThumb: { state: true },
  };
  static override styles = [sharedStyles, casesStyles];
  declare caseId: string | undefined;
  declare cases: CaseSummary[] | null;
  declare current: { case: CaseSummary; scans: ScanSummary[] } | null;
  /** The list or the case could not be loaded (shown where they would be). */
  declare loadError: string;
  /** Create (list) or rename (case page) failed: shown next to that form. */
  declare formError: string;
  /** Unlink failed: shown above the table of scans. */
  declare rowError: string;
  declare notice: string;
  declare q: string;
  declare busy: boolean;
  /** Scans whose thumbnail did not answer 200: a placeholder instead. */
  declare noThumb: ReadonlySet<number>;
  private seq = 0;

  constructor() {
    super();
    this.cases = null;
    this.current = null;
    this.loadError = '';
    this.formError = '';
    this.rowError = '';
    this.notice = '';
    this.q = '';
    this.busy = false;
    this.noThumb = new Set();
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('caseId')) void this.load();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.caseId) void this.load();
  }

  private async load(): Promise<void> {
    const seq = ++this.seq;
    try {
      if (this.caseId) {
        const c = await api<{ case: CaseSummary; scans: ScanSummary[] }>(`/api/cases/${this.caseId}`);
        if (seq === this.seq) this.current = c;
      } else {
        const r = await api<{ cases: CaseSummary[] }>(`/api/cases?q=${encodeURIComponent(this.q.trim())}`);
        if (seq === this.seq) this.cases = r.cases; // answers to older searches are dropped
      }
      if (seq === this.seq) this.loadError = '';
    } catch (e) {
      if (seq === this.seq) this.loadError = this.caseId && e instanceof SlideError && e.code === 'NOT_FOUND' ? 'This case does not exist (or belongs to another lab).' : `Could not load ${this.caseId ? 'the case' : 'the cases'}: ${errorText(e)}`;
    }
  }

  override render() {
    return this.caseId ? this.one() : this.list();
  }

  private list() {
    return html`
      <div class="toolbar">
        <h2>Cases</h2>
        <label>Search by case number <input type="search" .value=${this.q} @input=${(e: InputEvent) => { this.q = (e.target as HTMLInputElement).value; void this.load(); }} /></label>
      </div>
      <form class="create" @submit=${this.create} aria-describedby="create-error">
        <label>New case number <input name="caseNumber" type="text" required maxlength="64" @input=${() => (this.formError = '')} /></label>
        <label>Description <input name="description" type="text" maxlength="2000" /></label>
        <button type="submit" ?disabled=${this.busy}>Create case</button>
        <p id="create-error" class="error" role="alert">${this.formError}</p>
      </form>
      ${this.notice ? html`<p class="ok" role="status">${this.notice}</p>` : nothing}
      ${this.loadError ? html`<p class="error" role="alert">${this.loadError}</p>` : nothing}
      ${this.cases === null
        ? this.loadError ? nothing : html`<p class="muted">Loading…</p>`
        : this.cases.length === 0
          ? html`<p class="muted">${this.q.trim() ? `No case matches “${this.q.trim()}”.` : 'No cases yet.'}</p>`
          : html`<table>
              <thead><tr><th>Case</th><th>Description</th><th>Scans</th></tr></thead>
              <tbody>${this.cases.map((c) => html`<tr><td><a href="/cases/${c.id}">${c.caseNumber}</a></td><td>${c.description ?? ''}</td><td>${c.scanCount ?? ''}</td></tr>`)}</tbody>
            </table>`}
    `;
  }

  private one() {
    const cur = this.current;
    if (!cur) return html`<div class="toolbar"><h2>Case</h2><a href="/cases">All cases</a></div>
      ${this.loadError ? html`<p class="error" role="alert">${this.loadError}</p>` : html`<p class="muted">Loading…</p>`}`;
    const c = cur.case;
    return html`
      <div class="toolbar"><h2>Case ${c.caseNumber}</h2><a href="/cases">All cases</a></div>
      ${c.description ? html`<p>${c.description}</p>` : nothing}
      <form class="rename" @submit=${this.rename} aria-describedby="rename-error">
        <label>Case number <input name="caseNumber" type="text" required maxlength="64" .value=${c.caseNumber} @input=${() => (this.formError = '')} /></label>
        <label>Description <input name="description" type="text" maxlength="2000" .value=${c.description ?? ''} /></label>
        <button type="submit" ?disabled=${this.busy}>Save changes</button>
        <p id="rename-error" class="error" role="alert">${this.formError}</p>
      </form>
      ${this.notice ? html`<p class="ok" role="status">${this.notice}</p>` : nothing}
      ${this.loadError ? html`<p class="error" role="alert">${this.loadError}</p>` : nothing}
      <h3>${plural(cur.scans.length, 'scan', 'scans')}</h3>
      ${this.rowError ? html`<p class="error" role="alert">${this.rowError}</p>` : nothing}
      ${cur.scans.length === 0
        ? html`<p class="muted">No scans linked. Select scans in the Scans view and use “Link to case”.</p>`
        : html`<table>
            <thead><tr><th>Picture</th><th>Scan</th><th>Status</th><th>MPP</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>${cur.scans.map((s) => html`<tr>
              <td>${this.thumb(s)}</td>
              <td><a href="/scans/${s.id}">${scanName(s)}</a></td>
              <td>${statusLabel(s.status)}</td>
              <td>${formatMpp(s.mpp)}</td>
              <td><button class="danger" ?disabled=${this.busy} aria-label="Unlink ${scanName(s)}" @click=${() => void this.unlink(s)}>Unlink</button></td>
            </tr>`)}</tbody>
          </table>`}
    `;
  }

  /** The stored thumbnail when the server has one (200), a placeholder otherwise. */
  private thumb(s: ScanSummary) {
    if (this.noThumb.has(s.id) || s.status === 'quarantined') return html`<span class="thumb placeholder" role="img" aria-label="No picture">—</span>`;
    return html`<img class="thumb" src="/api/scans/${s.id}/thumbnail" alt="Thumbnail of ${scanName(s)}" loading="lazy"
      @error=${() => (this.noThumb = new Set([...this.noThumb, s.id]))} />`;
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const caseNumber = String(data.get('caseNumber') ?? '').trim();
    const description = String(data.get('description') ?? '').trim();
    if (!caseNumber) {
      this.formError = 'Enter a case number.';
      return;
    }
    this.busy = true;
    this.formError = '';
    this.notice = '';
    try {
      await api('/api/cases', { body: { caseNumber, ...(description ? { description } : {}) } });
      form.reset();
      this.notice = `Case ${caseNumber} created.`;
      await this.load();
    } catch (err) {
      this.formError = this.caseError(err, caseNumber, 'create the case');
    } finally {
      this.busy = false;
    }
  }

  private async rename(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (!this.current) return;
    const data = new FormData(e.target as HTMLFormElement);
    const caseNumber = String(data.get('caseNumber') ?? '').trim();
    const description = String(data.get('description') ?? '').trim();
    if (!caseNumber) {
      this.formError = 'Enter a case number.';
      return;
    }
    this.busy = true;
    this.formError = '';
    this.notice = '';
    try {
      const r = await api<{ case: CaseSummary }>(`/api/cases/${this.current.case.id}`, { method: 'PATCH', body: { caseNumber, description } });
      this.current = { ...this.current, case: r.case };
      this.notice = 'Changes saved.';
    } catch (err) {
      this.formError = this.caseError(err, caseNumber, 'save the changes');
    } finally {
      this.busy = false;
    }
  }

  private caseError(err: unknown, caseNumber: string, what: string): string {
    if (err instanceof SlideError && err.code === 'CONFLICT') return `Case ${caseNumber} already exists. Choose another number, or open that case from the list.`;
    return `Could not ${what}: ${errorText(err)}`;
  }

  private async unlink(s: ScanSummary): Promise<void> {
    if (!this.current) return;
    this.busy = true;
    this.rowError = '';
    this.notice = '';
    try {
      await api(`/api/cases/${this.current.case.id}/scans/${s.id}`, { method: 'DELETE' });
      this.notice = `${scanName(s)} unlinked from this case.`;
      await this.load();
    } catch (err) {
      this.rowError = `Could not unlink ${scanName(s)}: ${errorText(err)}`;
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-cases', WsiCases);
