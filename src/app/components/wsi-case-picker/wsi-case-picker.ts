import { LitElement, html, css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api } from '../../api.ts';
import { SlideError } from '../../../shared/errors.ts';

export interface CaseSummary {
  id: number;
  caseNumber: string;
  description?: string | null;
  scanCount?: number;
}

/** "Search for case": type part of a case number, pick one, or create it. Fires `case-picked`. */
export class WsiCasePicker extends LitElement {
  static override properties = { results: { state: true }, query: { state: true }, error: { state: true }, busy: { state: true }, disabled: { type: Boolean } };
  static override styles = [
    sharedStyles,
    css`
      ul { list-style: none; padding: 0; margin: 0.4rem 0; max-height: 240px; overflow: auto; }
      li button { width: 100%; justify-content: space-between; margin: 0.15rem 0; }
      label { display: grid; gap: 0.25rem; }
    `,
  ];
  declare results: CaseSummary[];
  declare query: string;
  declare error: string;
  /** Creating a case: its button waits, so a double click cannot create it twice. */
  declare busy: boolean;
  /** Set by the page while it links the picked case. */
  declare disabled: boolean;
  private seq = 0;

  constructor() {
    super();
    this.results = [];
    this.query = '';
    this.error = '';
    this.busy = false;
    this.disabled = false;
  }

  override render() {
    const exact = this.results.some((c) => c.caseNumber.toLowerCase() === this.query.trim().toLowerCase());
    return html`
      <label>Search for case <input type="search" placeholder="Case number" .value=${this.query} @input=${this.search} /></label>
      <ul aria-label="Matching cases">
        ${this.results.map((c) => html`<li><button ?disabled=${this.busy || this.disabled} @click=${() => this.pick(c)}>${c.caseNumber} <span class="muted">${c.description ?? ''}</span></button></li>`)}
      </ul>
      ${this.query.trim() && !exact ? html`<button ?disabled=${this.busy || this.disabled} @click=${this.create}>Create case “${this.query.trim()}”</button>` : ''}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
    `;
  }

  private async search(e: InputEvent) {
    this.query = (e.target as HTMLInputElement).value;
    this.error = '';
    const seq = ++this.seq;
    try {
      const r = await api<{ cases: CaseSummary[] }>(`/api/cases?q=${encodeURIComponent(this.query.trim())}`);
      if (seq === this.seq) this.results = r.cases; // ignore answers that arrive out of order
    } catch (err) {
      if (seq === this.seq) this.error = `Could not search cases: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private pick(c: CaseSummary) {
    this.dispatchEvent(new CustomEvent('case-picked', { detail: c, bubbles: true, composed: true }));
  }

  private async create() {
    if (this.busy) return;
    this.busy = true;
    this.error = '';
    const caseNumber = this.query.trim();
    try {
      const r = await api<{ case: CaseSummary }>('/api/cases', { body: { caseNumber } });
      this.pick(r.case);
    } catch (e) {
      this.error = e instanceof SlideError && e.code === 'CONFLICT'
        ? `Case ${caseNumber} already exists: pick it from the list.`
        : `Could not create the case: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-case-picker', WsiCasePicker);
