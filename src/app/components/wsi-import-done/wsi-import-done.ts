import { html, nothing, svg } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { formatBytes } from '../../format.ts';
import { api } from '../../api.ts';
import { currentUser } from '../../state/session.ts';
import type { SlideEntry } from '../../state/batch-store.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { saveBlob } from '../wsi-upload-review/download.ts';
import { batchRecordDoc, type ScanFacts } from '../../../upload/batch-record-doc.ts';
import { batchRecordCsv, batchRecordFileNames, batchRecordHtml, batchRecordJson } from '../../../shared/batch-record/index.ts';
import { plural } from '../../../shared/plural.ts';
import { importDoneStyles } from './wsi-import-done.styles.ts';

const linkIcon = svg`<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
  <path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1"/><path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/></svg>`;

type RecordKind = 'json' | 'csv' | 'html';

/** What the scan page's API answers (the parts the Done step reads). */
interface ScanResponse {
  scan: { status: string; name?: string; caseLink?: ScanFacts['caseLink'] };
}

/** Scan states in which the server has not linked the case yet (ingest still to run). */
const UNSETTLED = ['uploading', 'processing'];

/**
 * Step 7: every uploaded slide with its case and a link to its scan page, the batch in the Scans
 * view, and the batch record to save on this PC (JSON, CSV, printable page).
 */
export class WsiImportDone extends ImportStepElement {
  static override properties = { facts: { state: true } };
  static override styles = [sharedStyles, importDoneStyles];
  /** What the server says about each slide's scan (by slide id), its case link above all. */
  declare facts: Map<string, ScanFacts>;
  private polling = false;

  constructor() {
    super();
    this.facts = new Map();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.poll();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.polling = false;
  }

  /** Ask the server about each scan until it has settled (its case linked or not). */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    for (let i = 0; this.polling && i < 60; i++) {
      const open = (this.ctl?.usable ?? []).filter((s) => s.scanId !== undefined && !this.settled(s));
      if (open.length === 0) break;
      const next = new Map(this.facts);
      for (const s of open) {
        const r = await api<ScanResponse>(`/api/scans/${s.scanId}`).catch(() => undefined);
        if (r) next.set(s.id, { status: r.scan.status, ...(r.scan.name ? { name: r.scan.name } : {}), caseLink: r.scan.caseLink ?? null });
      }
      if (!this.polling) break;
      this.facts = next;
      await new Promise((res) => setTimeout(res, Math.min(1000 * (i + 1), 5000)));
    }
    this.polling = false;
  }

  private settled(s: SlideEntry): boolean {
    const f = this.facts.get(s.id);
    return !!f && !UNSETTLED.includes(f.status);
  }

  override render() {
    const ctl = this.ctl;
    const b = ctl?.batch;
    if (!ctl || !b) return nothing;
    const slides = ctl.usable;
    const uploaded = slides.filter((s) => s.scanId !== undefined).length;
    // After a reload only the finished form of the batch is here: names and barcodes are gone.
    const reduced = slides.length > 0 && slides.every((s) => s.parts.length === 0);
    // The originals' SHA-256 are taken in the background and finish after the upload: the record
    // waits for them rather than saying "not known" for a hash that is on its way.
    const hashing = slides.filter((s) => ctl.originalHashes.pending(s)).length;
    return html`
      <h3 tabindex="-1">Upload complete</h3>
      <p role="status">${uploaded} of ${plural(slides.length, 'slide')} uploaded.</p>
      <table>
        <thead><tr><th scope="col">Slide</th><th scope="col">Size</th><th scope="col">Case</th><th scope="col">Scan</th></tr></thead>
        <tbody>${slides.map((s) => html`<tr>
          <th scope="row">${s.name}${s.match?.name ? html`<br /><span class="muted">as ${s.match.name}</span>` : nothing}</th>
          <td>${formatBytes(s.uploads?.reduce((n, p) => n + p.size, 0) ?? s.size)}</td>
          <td>${this.caseText(s)}</td>
          <td>${s.scanId !== undefined
            ? html`<a class="scan" href=${`/scans/${s.scanId}`} aria-label=${`Open scan page of ${s.name}`} title="Open scan page">${linkIcon}</a>`
            : html`<span class="muted">not uploaded</span>`}</td>
        </tr>`)}</tbody>
      </table>
      <p><a href=${`/scans?batch=${encodeURIComponent(b.id)}`}>Show this batch in Scans</a></p>
      <section class="record" aria-labelledby="record-heading">
        <h4 id="record-heading">Save batch record</h4>
        <p>${reduced
          ? 'The page was reloaded since the upload: the original file names and barcodes are no longer kept here, so the record lists the scans only.'
          : 'The record holds the original file names and barcodes, which trace each scan back to its glass slide: it is saved on this computer only and never uploaded.'}</p>
        ${hashing > 0 ? html`<p role="status" class="muted">Computing the original files' SHA-256 for the record (${plural(hashing, 'slide')} to go)…</p>` : nothing}
        <div class="actions">
          <button ?disabled=${hashing > 0} @click=${() => this.save('json')}>JSON</button>
          <button ?disabled=${hashing > 0} @click=${() => this.save('csv')}>CSV</button>
          <button ?disabled=${hashing > 0} @click=${() => this.save('html')}>Printable page (HTML)</button>
        </div>
      </section>
      <div class="actions"><button class="primary" @click=${() => void ctl.startOver()}>Import more slides</button></div>
    `;
  }

  private caseText(s: SlideEntry) {
    const link = this.facts.get(s.id)?.caseLink;
    if (link) {
      switch (link.state) {
        case 'linked': return `Linked to case ${link.caseNumber}`;
        case 'created': return `Case ${link.caseNumber} created`;
        case 'not-found': return html`<span class="warn">Case ${link.caseNumber} not found — not linked</span>`;
        default: return html`<span class="warn">Not linked to case ${link.caseNumber} (the scan failed)</span>`;
      }
    }
    const wanted = s.match?.confirmed ? s.match.caseNumber : undefined;
    if (!wanted) return html`<span class="muted">No case</span>`;
    return s.scanId !== undefined && !this.settled(s) ? html`<span class="muted">Case ${wanted}: waiting for the server…</span>` : html`<span class="muted">No case</span>`;
  }

  /** The record as a download: built here from the batch in memory, never sent anywhere. */
  private save(kind: RecordKind): void {
    const b = this.ctl!.batch!;
    const me = currentUser();
    const lab = me?.labs.find((l) => l.id === me.currentLabId)?.name ?? null;
    const doc = batchRecordDoc(b, { server: location.origin, lab, user: me?.user.username ?? null, scans: this.facts });
    const names = batchRecordFileNames(doc);
    const [text, type] = kind === 'json' ? [batchRecordJson(doc), 'application/json']
      : kind === 'csv' ? [batchRecordCsv(doc), 'text/csv']
      : [batchRecordHtml(doc), 'text/html'];
    saveBlob(new Blob([text], { type: `${type};charset=utf-8` }), names[kind]);
  }
}

customElements.define('wsi-import-done', WsiImportDone);
