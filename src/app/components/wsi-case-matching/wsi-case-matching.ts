import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import type { SlideEntry } from '../../state/batch-store.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { plural } from '../../../shared/plural.ts';
import { caseMatchingStyles } from './wsi-case-matching.styles.ts';

const SOURCE_WORDS: Record<string, string> = { label: 'on the label', macro: 'on the overview image', metadata: 'in the file' };

/**
 * Step 2, below the loaded files: "Match slides to cases". A manifest (CSV/TSV file or a pasted
 * table) and the barcodes read from the slides give each slide a case and a display name; the
 * user can edit, clear or confirm each one. Unmatched slides are flagged, never blocked. The
 * barcodes shown here are read on this PC and stay here (see case-matching.ts).
 */
export class WsiCaseMatching extends ImportStepElement {
  static override properties = { editing: { state: true }, problem: { state: true }, pasteOpen: { state: true } };
  static override styles = [sharedStyles, caseMatchingStyles];
  /** The slide whose case and name are being edited (id). */
  declare editing: string | undefined;
  declare problem: string;
  declare pasteOpen: boolean;

  constructor() {
    super();
    this.problem = '';
    this.pasteOpen = false;
  }

  override render() {
    const ctl = this.ctl;
    const b = ctl?.batch;
    if (!ctl || !b) return nothing;
    const m = ctl.matching;
    const slides = ctl.usable;
    const proposals = m.proposals();
    const unmatched = slides.filter((s) => !s.match?.caseNumber).length;
    return html`<section aria-labelledby="cm-heading">
      <h4 id="cm-heading">Match slides to cases</h4>
      <p class="muted">A table of your own (columns such as file or barcode, case, name) and the barcodes on the slides' labels give each
        slide its case and the name it gets. Slides without a case are uploaded all the same.</p>
      ${this.manifestControls()}
      <div class="options">
        <label><input type="checkbox" .checked=${!!b.createMissingCases}
          @change=${(e: Event) => m.setCreateMissingCases((e.target as HTMLInputElement).checked)} /> Create cases that do not exist yet</label>
        ${proposals.length
          ? html`<button @click=${() => m.confirmAll()}>Confirm all proposals (${proposals.length})</button>`
          : nothing}
        ${m.reading.size ? html`<span class="muted" role="status">Reading barcodes of ${plural(m.reading.size, 'slide')}…</span>` : nothing}
        <span class="muted">${slides.length ? `${plural(slides.length - unmatched, 'slide')} with a case, ${plural(unmatched, 'slide')} without` : ''}</span>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${slides.length ? html`<table>
        <thead><tr>
          <th scope="col">Slide</th><th scope="col">Barcodes</th><th scope="col">Case</th><th scope="col">Name</th>
          <th scope="col">How</th><th scope="col"><span class="sr-only">Actions</span></th>
        </tr></thead>
        <tbody>${slides.map((s) => (this.editing === s.id ? this.editRow(s) : this.row(s)))}</tbody>
      </table>` : nothing}
    </section>`;
  }

  private manifestControls() {
    const ctl = this.ctl!;
    const manifest = ctl.batch!.manifest;
    return html`
      <div class="manifest">
        <label>Load a table (CSV or TSV)
          <input type="file" accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain" @change=${(e: Event) => void this.loadFile(e)} /></label>
        ${manifest ? html`<span>${manifest.fileName}: ${plural(manifest.rows.length, 'row')}</span>
          <button @click=${() => ctl.matching.clearManifest()} aria-label=${`Remove table ${manifest.fileName}`}>Remove table</button>` : nothing}
      </div>
      <details ?open=${this.pasteOpen} @toggle=${(e: Event) => (this.pasteOpen = (e.target as HTMLDetailsElement).open)}>
        <summary>Paste a table</summary>
        <textarea id="paste" aria-label="Table of cases, pasted from a spreadsheet" placeholder=${'file\tcase\tname'}></textarea>
        <button @click=${() => this.applyPaste()}>Apply</button>
      </details>
      ${manifest?.problems.length ? html`<p>${plural(manifest.problems.length, 'problem')} in ${manifest.fileName}:</p>
        <ul class="problems" aria-label=${`Problems in ${manifest.fileName}`}>${manifest.problems.map((p) => html`<li>${p.message}</li>`)}</ul>` : nothing}
    `;
  }

  private row(s: SlideEntry) {
    const m = this.ctl!.matching;
    const match = s.match;
    const proposal = !!match?.caseNumber && !match.confirmed;
    return html`<tr data-slide=${s.id}>
      <th scope="row">${s.name}</th>
      <td class="barcodes">${s.barcodes?.length
        ? s.barcodes.map((b, i) => html`${i ? html`<br />` : nothing}<code title=${b.symbology}>${b.value}</code>`)
        : html`<span class="muted">${m.reading.has(s.id) ? 'Reading…' : s.barcodes ? 'None found' : '—'}</span>`}</td>
      <td>${match?.caseNumber ?? html`<span class="flag">No case</span>`}</td>
      <td>${match?.name ?? html`<span class="muted">—</span>`}</td>
      <td class="how">${this.how(s)}${match?.warning ? html`<br /><span class="flag">${match.warning}</span>` : nothing}</td>
      <td><div class="row-actions">
        ${proposal ? html`<button class="primary" @click=${() => m.confirm(s)} aria-label=${`Confirm case ${match!.caseNumber} for ${s.name}`}>Confirm</button>` : nothing}
        <button @click=${() => this.startEdit(s)} aria-label=${`Edit case and name of ${s.name}`}>Edit</button>
        ${match?.caseNumber || match?.name
          ? html`<button @click=${() => m.clear(s)} aria-label=${`Clear the case of ${s.name}`}>Clear</button>` : nothing}
        ${match?.how === 'manual'
          ? html`<button @click=${() => m.reset(s)} aria-label=${`Undo: match ${s.name} again from the table and barcodes`}>Undo</button>` : nothing}
      </div></td>
    </tr>`;
  }

  private editRow(s: SlideEntry) {
    const match = s.match;
    return html`<tr data-slide=${s.id}>
      <th scope="row">${s.name}</th>
      <td class="barcodes">${(s.barcodes ?? []).map((b, i) => html`${i ? html`<br />` : nothing}<code>${b.value}</code>`)}</td>
      <td><input type="text" id="edit-case" .value=${match?.caseNumber ?? ''} aria-label=${`Case number of ${s.name}`} /></td>
      <td><input type="text" id="edit-name" .value=${match?.name ?? ''} aria-label=${`Name of ${s.name}`} /></td>
      <td class="how"></td>
      <td><div class="row-actions">
        <button class="primary" @click=${() => this.saveEdit(s)} aria-label=${`Save case and name of ${s.name}`}>Save</button>
        <button @click=${() => this.stopEdit()}>Cancel</button>
      </div></td>
    </tr>`;
  }

  /** How the slide got its case, in the words of the lab. */
  private how(s: SlideEntry): string {
    const match = s.match;
    const file = this.ctl!.batch!.manifest?.fileName ?? 'the table';
    if (!match) return 'No match';
    switch (match.how) {
      case 'manifest-barcode': {
        const row = this.ctl!.batch!.manifest?.rows.find((r) => r.line === match.line);
        // The manifest matches barcodes ignoring case (shared/case-match.ts): so does this lookup.
        const key = row?.barcode?.trim().toLowerCase();
        const source = s.barcodes?.find((b) => b.value.trim().toLowerCase() === key)?.source;
        return `Barcode ${(source && SOURCE_WORDS[source]) || 'on the slide'} matched line ${match.line} of ${file}`;
      }
      case 'manifest-file':
        return `File name matched line ${match.line} of ${file}`;
      case 'barcode':
        if (!match.caseNumber) return 'No case';
        return match.confirmed ? 'Barcode used as the case number (confirmed)' : 'Barcode proposed as the case number — confirm';
      case 'manual':
        return match.caseNumber || match.name ? 'Entered by you' : 'Cleared by you';
    }
  }

  private startEdit(s: SlideEntry): void {
    this.problem = '';
    this.editing = s.id;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#edit-case')?.focus());
  }

  private stopEdit(): void {
    this.editing = undefined;
    this.problem = '';
  }

  private saveEdit(s: SlideEntry): void {
    const value = (id: string) => this.renderRoot.querySelector<HTMLInputElement>(id)?.value ?? '';
    const problem = this.ctl!.matching.edit(s, value('#edit-case'), value('#edit-name'));
    if (problem) {
      this.problem = `${s.name}: ${problem}`;
      return;
    }
    this.stopEdit();
  }

  private async loadFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    this.problem = '';
    try {
      this.ctl!.matching.setManifest(file.name, await file.text());
    } catch (err) {
      this.problem = `${file.name} could not be read: ${err instanceof Error ? err.message : String(err)}`;
    }
    // The same file may be chosen again after it was edited.
    input.value = '';
  }

  private applyPaste(): void {
    const area = this.renderRoot.querySelector<HTMLTextAreaElement>('#paste');
    const text = area?.value ?? '';
    if (!text.trim()) {
      this.problem = 'Paste a table first (a header row such as "file, case, name", then one row per slide).';
      return;
    }
    this.problem = '';
    this.ctl!.matching.setManifest('the pasted table', text);
    this.pasteOpen = false;
  }
}

customElements.define('wsi-case-matching', WsiCaseMatching);
