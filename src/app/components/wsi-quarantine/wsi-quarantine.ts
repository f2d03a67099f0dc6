import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type ScanSummary } from '../../api.ts';
import { isLabAdmin } from '../../state/session.ts';
import { sentence } from '../../../shared/sentence.ts';

/**
 * A quarantined scan's reason and, for a lab admin, "Remove files" (asked twice: it cannot be
 * undone). Used by the Scans worklist (compact: the summary line) and the scan page (every
 * problem). Emits `files-removed` with the updated scan. The server decides who may remove; the
 * button is only hidden from those it would refuse.
 */
export class WsiQuarantine extends LitElement {
  static override properties = {
    scan: { attribute: false },
    compact: { type: Boolean },
    confirming: { state: true },
    busy: { state: true },
    error: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host { display: block; }
      ul { margin: 0.3rem 0; padding-left: 1.2rem; }
      .row { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; margin-top: 0.3rem; }
    `,
  ];
  declare scan: ScanSummary | null;
  declare compact: boolean;
  declare confirming: boolean;
  declare busy: boolean;
  declare error: string;

  constructor() {
    super();
    this.scan = null;
    this.compact = false;
    this.confirming = false;
    this.busy = false;
    this.error = '';
  }

  override render() {
    const s = this.scan;
    const q = s?.quarantine;
    if (!s || s.status !== 'quarantined' || !q) return nothing;
    const removed = q.filesRemoved;
    return html`
      ${this.compact
        ? html`<div class="error">${sentence(q.problems[0] ?? s.error ?? 'failed verification on the server')}${q.problems.length > 1 ? ` (${q.problems.length - 1} more on the scan page)` : ''}</div>`
        : html`<p>This scan failed verification on the server and is quarantined: its files are not viewable.</p>
            <ul class="error">${q.problems.map((p) => html`<li>${sentence(p)}</li>`)}</ul>`}
      ${removed
        ? html`<div class="muted">Files removed ${new Date(removed.at).toLocaleString()}${removed.by?.username ? ` by ${removed.by.username}` : ''}.</div>`
        : isLabAdmin()
          ? html`<div class="row">
              ${this.confirming
                ? html`<span role="group" aria-label="Confirm removing files">Remove the files of ${s.originalFilename} for good?
                    <button class="danger" ?disabled=${this.busy} @click=${() => void this.removeFiles()}>Yes, remove</button>
                    <button ?disabled=${this.busy} @click=${() => (this.confirming = false)}>No</button></span>`
                : html`<button class="danger" aria-label="Remove files of ${s.originalFilename}" @click=${() => (this.confirming = true)}>Remove files</button>`}
            </div>`
          : nothing}
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : nothing}
    `;
  }

  private async removeFiles(): Promise<void> {
    if (!this.scan) return;
    this.busy = true;
    try {
      const { scan } = await api<{ scan: ScanSummary }>(`/api/scans/${this.scan.id}/files`, { method: 'DELETE' });
      this.confirming = false;
      this.error = '';
      this.dispatchEvent(new CustomEvent('files-removed', { detail: scan, bubbles: true, composed: true }));
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-quarantine', WsiQuarantine);
