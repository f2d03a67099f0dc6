import { LitElement, html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type ScanSummary } from '../../api.ts';
import { formatMpp, scanName } from '../../format.ts';
import { currentUser } from '../../state/session.ts';
import { onRouteChange } from '../../router.ts';
import { statusLabel } from '../../../shared/status-names.ts';
import { formatLabel } from '../../../shared/format-names.ts';
import { plural } from '../../../shared/plural.ts';
import { scansStyles } from './wsi-scans.styles.ts';
import { batchChipLabel, batchChoice, batchFromSearch, batchName, emptyQuery, isFiltered, queryString, rangeText, searchWithBatch, statusChoices, when, type WorklistQuery } from './worklist-query.ts';
import '../wsi-quarantine/wsi-quarantine.ts';

interface ScanPage {
  scans: ScanSummary[];
  total: number;
  /** false: at least `total` match (the server counts a fixed distance past the page). */
  totalExact?: boolean;
}

interface FilterChoices {
  batches: { batchId: string; createdAt: string; scans: number; uploadedBy: { id: number; username: string | null } | null }[];
  uploaders: { id: number; username: string | null }[];
  formats: string[];
}

type CaseChoice = { id: number; caseNumber: string; description?: string };

const nameOf = scanName;

/**
 * The Scans worklist: one page at a time from the server, sorted, filtered and searched there.
 * The selection for "Link to case" is kept across pages and filters (by id, with the names to say
 * what is selected), so scans found with different filters can be linked together.
 */
export class WsiScans extends LitElement {
  static override properties = {
    page: { state: true },
    query: { state: true },
    choices: { state: true },
    error: { state: true },
    selected: { state: true },
    cases: { state: true },
    message: { state: true },
    renaming: { state: true },
  };
  static override styles = [sharedStyles, scansStyles];
  declare page: ScanPage | null;
  declare query: WorklistQuery;
  declare choices: FilterChoices;
  declare error: string;
  declare selected: Map<number, string>;
  declare cases: CaseChoice[];
  declare message: string;
  declare renaming: ScanSummary | null;
  /** Answers to older requests are dropped: typing a search fires several. */
  private requestNo = 0;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribeRoute?: () => void;

  constructor() {
    super();
    this.page = null;
    this.query = { ...emptyQuery };
    this.choices = { batches: [], uploaders: [], formats: [] };
    this.error = '';
    this.selected = new Map();
    this.cases = [];
    this.message = '';
    this.renaming = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // A link to one batch (/scans?batch=<id>, e.g. from the Done step of an import).
    this.query = { ...this.query, batch: batchFromSearch(location.search) };
    void this.load();
    void this.loadChoices();
    // Followed while the page is open: a link to another batch (or back/forward) changes the filter.
    this.unsubscribeRoute = onRouteChange((r) => {
      const batch = batchFromSearch(location.search);
      if (r.name === 'scans' && batch !== this.query.batch) this.setQuery({ batch });
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.searchTimer);
    this.unsubscribeRoute?.();
  }

  async load(): Promise<void> {
    const no = ++this.requestNo;
    try {
      const r = await api<ScanPage>(`/api/scans?${queryString(this.query)}`);
      if (no !== this.requestNo) return;
      this.page = r;
      this.error = '';
    } catch (e) {
      if (no === this.requestNo) this.error = e instanceof Error ? e.message : String(e);
    }
  }

  private async loadChoices(): Promise<void> {
    try {
      this.choices = await api<FilterChoices>('/api/scans/filters');
    } catch {
      // The list works without its filter choices; the list's own error says what is wrong.
    }
  }

  /** A new filter, search or sort: back to the first page. */
  private setQuery(change: Partial<WorklistQuery>, debounce = false) {
    this.query = { ...this.query, page: 0, ...change };
    // The batch filter lives in the address too, so the page can be bookmarked or shared as it is.
    const search = searchWithBatch(location.search, this.query.batch);
    if (search !== location.search) history.replaceState(history.state, '', `${location.pathname}${search}`);
    clearTimeout(this.searchTimer);
    if (debounce) this.searchTimer = setTimeout(() => void this.load(), 300);
    else void this.load();
  }

  private canEdit(): boolean {
    const me = currentUser();
    const role = me?.labs.find((l) => l.id === me.currentLabId)?.role;
    return role !== undefined && role !== 'viewer';
  }

  override render() {
    const scans = this.page?.scans ?? [];
    return html`
      <div class="toolbar">
        <h2>Scans</h2>
        ${this.message ? html`<span class="ok" role="status">${this.message}</span>` : nothing}
        <button ?disabled=${this.selected.size === 0} @click=${this.openLink}>Link to case${this.selected.size ? ` (${this.selected.size})` : ''}</button>
        <button @click=${() => { void this.load(); void this.loadChoices(); }}>Refresh</button>
      </div>
      ${this.filters()}
      ${this.query.batch
        ? html`<div class="chips" aria-label="Active filters" role="group">
            <span class="chip">${batchChipLabel(this.query.batch, this.choices.batches)}
              <button class="chip-remove" aria-label="Remove the filter: ${batchChipLabel(this.query.batch, this.choices.batches)}" title="Show all batches" @click=${() => this.setQuery({ batch: '' })}>×</button></span>
          </div>`
        : nothing}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="selection" aria-live="polite">
        ${this.selected.size
          ? html`<span>${plural(this.selected.size, 'scan')} selected${this.selectedElsewhere() ? html` <span class="muted">(${this.selectedElsewhere()} not on this page)</span>` : nothing}</span>
              <button class="small" @click=${() => (this.selected = new Map())}>Clear selection</button>`
          : nothing}
      </div>
      ${this.page === null
        ? html`<p class="muted">Loading…</p>`
        : scans.length === 0
          ? html`<p class="muted">${isFiltered(this.query) ? 'No scans match these filters.' : 'No scans yet.'}</p>`
          : html`${this.table(scans)}${this.pager(scans.length)}`}
      ${this.linkDialog()} ${this.renameDialog()}
    `;
  }

  private selectedElsewhere(): number {
    const here = new Set(this.page?.scans.map((s) => s.id));
    return [...this.selected.keys()].filter((id) => !here.has(id)).length;
  }

  private filters() {
    const q = this.query;
    const select = (e: Event) => (e.target as HTMLSelectElement).value;
    // Labels by for/id (not wrapping): a wrapped <select> would add its chosen option to its name.
    const field = (id: string, label: string, control: unknown) => html`<div class="field"><label for=${id}>${label}</label>${control}</div>`;
    return html`<form class="filters" role="search" aria-label="Find scans" @submit=${(e: Event) => e.preventDefault()}>
      ${field('f-q', 'Search', html`<input id="f-q" type="search" .value=${q.q} placeholder="Name or case number" @input=${(e: Event) => this.setQuery({ q: (e.target as HTMLInputElement).value }, true)} />`)}
      ${field('f-status', 'Status', html`<select id="f-status" @change=${(e: Event) => this.setQuery({ status: select(e) })}>
          ${statusChoices.map((c) => html`<option value=${c.value} ?selected=${q.status === c.value}>${c.label}</option>`)}
        </select>`)}
      ${field('f-batch', 'Batch', html`<select id="f-batch" @change=${(e: Event) => this.setQuery({ batch: select(e) })}>
          <option value="" ?selected=${!q.batch}>All batches</option>
          ${this.choices.batches.map((b) => html`<option value=${b.batchId} ?selected=${q.batch === b.batchId}>${batchChoice(b)}</option>`)}
          ${q.batch && !this.choices.batches.some((b) => b.batchId === q.batch) ? html`<option value=${q.batch} selected>The chosen batch</option>` : nothing}
        </select>`)}
      ${field('f-uploader', 'Uploaded by', html`<select id="f-uploader" @change=${(e: Event) => this.setQuery({ uploadedBy: select(e) })}>
          <option value="" ?selected=${!q.uploadedBy}>Anyone</option>
          ${this.choices.uploaders.map((u) => html`<option value=${String(u.id)} ?selected=${q.uploadedBy === String(u.id)}>${u.username ?? `User ${u.id}`}</option>`)}
        </select>`)}
      ${field('f-format', 'Format', html`<select id="f-format" @change=${(e: Event) => this.setQuery({ format: select(e) })}>
          <option value="" ?selected=${!q.format}>All formats</option>
          ${this.choices.formats.map((f) => html`<option value=${f} ?selected=${q.format === f}>${formatLabel(f)}</option>`)}
        </select>`)}
      ${field('f-from', 'Uploaded from', html`<input id="f-from" type="date" .value=${q.from} @change=${(e: Event) => this.setQuery({ from: (e.target as HTMLInputElement).value })} />`)}
      ${field('f-to', 'Uploaded to', html`<input id="f-to" type="date" .value=${q.to} @change=${(e: Event) => this.setQuery({ to: (e.target as HTMLInputElement).value })} />`)}
      <label class="inline"><input type="checkbox" .checked=${q.unassigned} @change=${(e: Event) => this.setQuery({ unassigned: (e.target as HTMLInputElement).checked })} /> Not in a case</label>
      ${isFiltered(q) ? html`<button type="button" class="small" @click=${() => this.setQuery({ ...emptyQuery, sort: q.sort, dir: q.dir, size: q.size })}>Clear filters</button>` : nothing}
    </form>`;
  }

  /** A sortable column header (WAI-ARIA: aria-sort on the header, a button inside). */
  private sortHeader(label: string, key: WorklistQuery['sort']) {
    const on = this.query.sort === key;
    const sort = on ? (this.query.dir === 'asc' ? 'ascending' : 'descending') : 'none';
    const next = on ? (this.query.dir === 'asc' ? 'desc' : 'asc') : key === 'date' ? 'desc' : 'asc';
    return html`<th aria-sort=${sort}><button class="sort" @click=${() => this.setQuery({ sort: key, dir: next })}>${label}${on ? (this.query.dir === 'asc' ? ' ▲' : ' ▼') : ''}</button></th>`;
  }

  private table(scans: ScanSummary[]) {
    const all = scans.every((s) => this.selected.has(s.id));
    const edit = this.canEdit();
    return html`<table>
      <thead><tr>
        <th><input type="checkbox" aria-label="Select all scans on this page" .checked=${all} @change=${(e: Event) => this.selectPage(scans, (e.target as HTMLInputElement).checked)} /></th>
        <th><span class="sr-only">Thumbnail</span></th>
        ${this.sortHeader('Name', 'name')}<th>Batch</th><th>Uploaded by</th>${this.sortHeader('Date', 'date')}${this.sortHeader('Status', 'status')}<th>Case</th><th>MPP</th><th>Format</th>
      </tr></thead>
      <tbody>
        ${scans.map((s) => html`<tr data-scan-id=${s.id}>
          <td><input type="checkbox" aria-label="Select ${nameOf(s)}" .checked=${this.selected.has(s.id)} @change=${(e: Event) => this.toggle(s, (e.target as HTMLInputElement).checked)} /></td>
          <td class="thumb">${s.thumbnailUrl ? html`<img src=${s.thumbnailUrl} alt="" loading="lazy" width="64" height="64" />` : html`<span class="none" title="No thumbnail"></span>`}</td>
          <td><span class="name"><a href="/scans/${s.id}">${nameOf(s)}</a>
              ${edit ? html`<button class="small" aria-label="Rename ${nameOf(s)}" @click=${() => this.openRename(s)}>Rename</button>` : nothing}</span>
            ${s.name && s.name !== s.originalFilename ? html`<span class="original muted">Uploaded as ${s.originalFilename}</span>` : nothing}</td>
          <td>${s.batch
            ? html`<button class="link" title="Show only this batch" aria-label="Show only the ${batchName(s.batch.createdAt)}" @click=${() => this.setQuery({ batch: s.batch!.id })}>${batchName(s.batch.createdAt)}</button>
                <span class="muted">${s.batch.position} of ${s.batch.size}</span>`
            : html`<span class="muted">—</span>`}</td>
          <td>${s.uploadedBy?.username ?? html`<span class="muted">—</span>`}</td>
          <td>${s.createdAt ? when(s.createdAt) : ''}</td>
          <td><span class="status" data-s=${s.status}>${statusLabel(s.status)}</span>
            ${s.status === 'quarantined' ? html`<wsi-quarantine compact .scan=${s} @files-removed=${(e: CustomEvent<ScanSummary>) => this.replace(e.detail)}></wsi-quarantine>` : nothing}</td>
          <td>${s.cases.length ? s.cases.map((c) => html`<a href="/cases/${c.id}">${c.caseNumber}</a> `) : html`<span class="muted">—</span>`}</td>
          <td>${formatMpp(s.mpp)}</td>
          <td>${s.format ? formatLabel(s.format) : html`<span class="muted">—</span>`}</td>
        </tr>`)}
      </tbody>
    </table>`;
  }

  private pager(shown: number) {
    const p = this.page!;
    const q = this.query;
    const exact = p.totalExact !== false;
    const pages = Math.max(1, Math.ceil(p.total / q.size));
    const hasNext = exact ? q.page + 1 < pages : shown === q.size;
    const go = (page: number) => {
      this.query = { ...q, page };
      void this.load();
    };
    return html`<nav class="pager" aria-label="Pages of scans">
      <span class="range">${rangeText(q, shown, p.total, exact)}</span>
      <button ?disabled=${q.page === 0} @click=${() => go(q.page - 1)}>Previous page</button>
      <span>Page ${(q.page + 1).toLocaleString('en-US')}${exact ? ` of ${pages.toLocaleString('en-US')}` : ''}</span>
      <button ?disabled=${!hasNext} @click=${() => go(q.page + 1)}>Next page</button>
      <label for="f-size">Per page</label>
      <select id="f-size" @change=${(e: Event) => this.setQuery({ size: Number((e.target as HTMLSelectElement).value) })}>
        ${[25, 50, 100, 200].map((n) => html`<option value=${n} ?selected=${q.size === n}>${n}</option>`)}
      </select>
    </nav>`;
  }

  /** One row changed on the server (e.g. its files were removed): show it without reloading the list. */
  private replace(scan: ScanSummary) {
    if (this.page) this.page = { ...this.page, scans: this.page.scans.map((s) => (s.id === scan.id ? { ...s, ...scan } : s)) };
  }

  private toggle(s: ScanSummary, on: boolean) {
    const m = new Map(this.selected);
    if (on) m.set(s.id, nameOf(s));
    else m.delete(s.id);
    this.selected = m;
  }

  /** The header checkbox: this page's scans in or out; selections on other pages stay. */
  private selectPage(scans: ScanSummary[], on: boolean) {
    const m = new Map(this.selected);
    for (const s of scans) {
      if (on) m.set(s.id, nameOf(s));
      else m.delete(s.id);
    }
    this.selected = m;
  }

  private linkDialog() {
    return html`<dialog id="link" aria-labelledby="link-title">
      <h3 id="link-title">Link ${plural(this.selected.size, 'scan')} to a case</h3>
      <label>Search for case <input type="search" @input=${(e: InputEvent) => void this.searchCases((e.target as HTMLInputElement).value)} /></label>
      <ul>
        ${this.cases.map((c) => html`<li><button @click=${() => void this.link(c.id)}>${c.caseNumber}<span class="muted">${c.description ?? ''}</span></button></li>`)}
      </ul>
      <button @click=${() => this.dialog('link')?.close()}>Cancel</button>
    </dialog>`;
  }

  private renameDialog() {
    const s = this.renaming;
    return html`<dialog id="rename" aria-labelledby="rename-title" @close=${() => (this.renaming = null)}>
      <h3 id="rename-title">Rename scan</h3>
      ${s ? html`<form @submit=${(e: Event) => { e.preventDefault(); void this.rename(s, new FormData(e.target as HTMLFormElement).get('name') as string); }}>
        <label>Name <input type="text" name="name" required maxlength="200" .value=${nameOf(s)} /></label>
        <p class="muted">Uploaded as ${s.originalFilename}. The name is what the lab sees; the files keep theirs.</p>
        <div class="actions"><button type="button" @click=${() => this.dialog('rename')?.close()}>Cancel</button><button class="primary">Save name</button></div>
      </form>` : nothing}
    </dialog>`;
  }

  private dialog(id: 'link' | 'rename') {
    return this.renderRoot.querySelector<HTMLDialogElement>(`#${id}`);
  }

  private async openRename(s: ScanSummary) {
    this.renaming = s;
    await this.updateComplete;
    this.dialog('rename')?.showModal();
  }

  private async rename(s: ScanSummary, name: string) {
    try {
      const r = await api<{ scan: ScanSummary }>(`/api/scans/${s.id}`, { method: 'PATCH', body: { name } });
      this.replace(r.scan);
      if (this.selected.has(s.id)) this.selected = new Map(this.selected).set(s.id, nameOf(r.scan));
      this.message = `Renamed to ${nameOf(r.scan)}.`;
      this.dialog('rename')?.close();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
      this.dialog('rename')?.close();
    }
  }

  private openLink() {
    void this.searchCases('');
    this.dialog('link')?.showModal();
  }

  private async searchCases(q: string) {
    const r = await api<{ cases: CaseChoice[] }>(`/api/cases?q=${encodeURIComponent(q)}`);
    this.cases = r.cases;
  }

  private async link(caseId: number) {
    try {
      await api(`/api/cases/${caseId}/scans`, { body: { scanIds: [...this.selected.keys()] } });
      this.message = `Linked ${plural(this.selected.size, 'scan')}.`;
      this.selected = new Map();
      this.dialog('link')?.close();
      await this.load();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }
}

customElements.define('wsi-scans', WsiScans);
