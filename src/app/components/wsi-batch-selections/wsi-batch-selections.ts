import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import type { SourceRecord } from '../../state/batch-store.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { plural } from '../../../shared/plural.ts';
import { batchSelectionsStyles } from './wsi-batch-selections.styles.ts';

/**
 * The batch's selections (one per pick), each with "Remove", and "Discard batch" — on the Select
 * and Loaded files steps, until the upload starts. Removing touches nothing on disk but what this
 * app staged; the picked files stay where they are.
 */
export class WsiBatchSelections extends ImportStepElement {
  static override properties = { busy: { state: true } };
  static override styles = [sharedStyles, batchSelectionsStyles];
  declare busy: boolean;

  constructor() {
    super();
    this.busy = false;
  }

  override render() {
    const ctl = this.ctl;
    const b = ctl?.batch;
    if (!ctl || !b || b.uploadStarted || (ctl.sources.length === 0 && b.slides.length === 0)) return nothing;
    return html`
      <ul aria-label="Selections">${ctl.sources.map((s) => this.item(s))}</ul>
      <div class="batch-actions">
        <button class="danger" ?disabled=${this.busy} @click=${() => this.dialog()?.showModal()}>Discard batch</button>
      </div>
      <dialog aria-labelledby="discard-title" aria-describedby="discard-text">
        <h2 id="discard-title">Discard this batch?</h2>
        <p id="discard-text">Its ${plural(ctl.slides.length, 'file')}, your choices and any de-identified copies are removed from this
          app. The original files on this computer are not touched.</p>
        <div class="footer">
          <button autofocus @click=${() => this.dialog()?.close()}>Keep batch</button>
          <button class="danger" ?disabled=${this.busy} @click=${() => void this.discard()}>Discard batch</button>
        </div>
      </dialog>
    `;
  }

  private item(s: SourceRecord) {
    const ctl = this.ctl!;
    const slides = ctl.slides.filter((x) => x.sourceId === s.id && !x.error).length;
    const reading = ctl.reading.includes(s.label);
    return html`<li>
      <span class="what">${s.label}</span>
      <span class="muted">${reading ? 'reading…' : plural(slides, 'slide')}</span>
      <button class="small" ?disabled=${reading || this.busy} aria-label=${`Remove ${s.label}`}
        @click=${() => void this.removeSelection(s)}>Remove</button>
    </li>`;
  }

  private dialog(): HTMLDialogElement | null {
    return this.renderRoot.querySelector('dialog');
  }

  private async removeSelection(s: SourceRecord): Promise<void> {
    this.busy = true;
    try {
      await this.ctl!.removeSource(s);
    } finally {
      this.busy = false;
    }
  }

  private async discard(): Promise<void> {
    this.busy = true;
    try {
      await this.ctl!.discardBatch();
    } finally {
      this.busy = false;
      this.dialog()?.close();
    }
  }
}

customElements.define('wsi-batch-selections', WsiBatchSelections);
