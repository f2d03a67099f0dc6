import { LitElement, html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { STEP_TITLES, type SourceRecord, type StepNo } from '../../state/batch-store.ts';
import { bulkImportStyles } from './wsi-bulk-import.styles.ts';
import type { ImportController } from './import-controller.ts';
import { WatchImport } from './watch-controller.ts';
import { importController } from './import-session.ts';
import '../wsi-file-select/wsi-file-select.ts';
import '../wsi-file-list/wsi-file-list.ts';
import '../wsi-case-matching/wsi-case-matching.ts';
import '../wsi-metadata-review/wsi-metadata-review.ts';
import '../wsi-image-review/wsi-image-review.ts';
import '../wsi-upload-review/wsi-upload-review.ts';
import '../wsi-upload-progress/wsi-upload-progress.ts';
import '../wsi-import-done/wsi-import-done.ts';
import '../wsi-offline-banner/wsi-offline-banner.ts';

const STEPS: StepNo[] = [1, 2, 3, 4, 5, 6, 7];

/**
 * The Bulk Import wizard: steps 1–7 over one persisted batch. This element owns the step bar and
 * the Back/Next buttons; each step is its own component working on the shared ImportController.
 */
export class WsiBulkImport extends LitElement {
  static override properties = { ctl: { attribute: false }, loaded: { state: true }, failure: { state: true } };
  static override styles = [sharedStyles, bulkImportStyles];
  declare ctl: ImportController | undefined;
  declare loaded: boolean;
  declare failure: string;
  private lastStep: StepNo | undefined;

  constructor() {
    super();
    this.loaded = false;
    this.failure = '';
    new WatchImport(this);
  }

  override connectedCallback(): void {
    // Tests hand in a controller with their own engine; the app uses the signed-in user's one.
    this.ctl ??= importController();
    super.connectedCallback();
    if (!this.ctl.batch) {
      void this.ctl.ensureLoaded().then(
        () => (this.loaded = true),
        (e: unknown) => (this.failure = e instanceof Error ? e.message : String(e)),
      );
    } else this.loaded = true;
  }

  override render() {
    const ctl = this.ctl!;
    const b = ctl.batch;
    if (this.failure) return html`<p class="error" role="alert">Bulk Import could not start: ${this.failure}</p>`;
    if (!this.loaded || !b) return html`<p class="muted">Loading…</p>`;
    const step = b.step;
    return html`
      <h2>Bulk Import</h2>
      <nav aria-label="Import steps">
        <ol class="steps">${STEPS.map((n) => this.stepItem(n))}</ol>
      </nav>
      <wsi-offline-banner></wsi-offline-banner>
      ${this.reconnectBanner()}
      ${ctl.message ? html`<p class="error" role="alert">${ctl.message}</p>` : nothing}
      <section aria-label=${`Step ${step}: ${STEP_TITLES[step]}`}>${this.stepBody(step)}</section>
      ${this.footer(step)}
    `;
  }

  /**
   * After a reload the original files are readable again only through the user: stored handles
   * need a click ("Reconnect files"), <input> picks need picking again ("Select again").
   */
  private reconnectBanner() {
    const ctl = this.ctl!;
    const needed = ctl.needed;
    if (needed.length === 0) return nothing;
    const handles = needed.filter((s) => s.origin !== 'input');
    const inputs = needed.filter((s) => s.origin === 'input');
    const why = ctl.batch!.uploadStarted ? 'to upload them' : 'for previews, review and upload';
    return html`<div class="banner reconnect" role="alert">
      <p>The page was reloaded: the original files of ${needed.map((s) => `"${s.label}"`).join(', ')} are needed ${why}.
        ${handles.length ? 'The browser asks for permission to read them again.' : nothing}
        ${inputs.length ? 'Files that were picked with the file dialog must be selected again (the same files: name, size and date are checked).' : nothing}</p>
      <div class="actions">
        ${handles.length ? html`<button class="primary" @click=${() => void ctl.reconnect()}>Reconnect files</button>` : nothing}
        ${inputs.map((s) => html`<button @click=${() => this.reselect(s)} aria-label=${`Select again: ${s.label}`}>Select again: ${s.label}</button>`)}
      </div>
    </div>`;
  }

  /** A temporary <input> (folder picks need webkitdirectory); matched against the first pick. */
  private reselect(source: SourceRecord): void {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    if (source.folder) input.webkitdirectory = true;
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      if (files.length) this.ctl!.reselect(source, files);
    });
    input.click();
  }

  protected override updated(): void {
    // Keyboard and screen-reader users land on the new step's heading, not at the page top.
    const step = this.ctl?.batch?.step;
    if (step && this.lastStep && step !== this.lastStep) {
      const child = this.renderRoot.querySelector('section > *') as HTMLElement | null;
      void (child as { updateComplete?: Promise<unknown> } | null)?.updateComplete?.then(() => {
        (child?.shadowRoot?.querySelector('h3') as HTMLElement | null)?.focus();
      });
    }
    this.lastStep = step;
  }

  private stepItem(n: StepNo) {
    const b = this.ctl!.batch!;
    const skipped = b.directUpload && n >= 3 && n <= 5;
    const current = b.step === n;
    // Going back is allowed until the upload starts; forward only through "Next".
    const canGo = !current && !skipped && n < b.step && !b.uploadStarted;
    const label = `${n}. ${STEP_TITLES[n]}`;
    return html`<li>
      ${canGo
        ? html`<button @click=${() => this.ctl!.goto(n)}>${label}</button>`
        : html`<span class=${skipped ? 'skipped' : ''} aria-current=${current ? 'step' : 'false'}>${label}${skipped ? html`<span class="sr-only"> (skipped in Direct Upload)</span>` : nothing}</span>`}
    </li>`;
  }

  private stepBody(step: StepNo) {
    const ctl = this.ctl;
    switch (step) {
      case 1: return html`<wsi-file-select .ctl=${ctl}></wsi-file-select>`;
      // Case matching is its own element after the list (its table is not one of the list's rows).
      case 2: return html`<wsi-file-list .ctl=${ctl}></wsi-file-list><wsi-case-matching .ctl=${ctl}></wsi-case-matching>`;
      case 3: return html`<wsi-metadata-review .ctl=${ctl}></wsi-metadata-review>`;
      case 4: return html`<wsi-image-review .ctl=${ctl}></wsi-image-review>`;
      case 5: return html`<wsi-upload-review .ctl=${ctl}></wsi-upload-review>`;
      case 6: return html`<wsi-upload-progress .ctl=${ctl}></wsi-upload-progress>`;
      case 7: return html`<wsi-import-done .ctl=${ctl}></wsi-import-done>`;
    }
  }

  private footer(step: StepNo) {
    const ctl = this.ctl!;
    const b = ctl.batch!;
    const back = step > 1 && step < 7 && !b.uploadStarted;
    const next = step <= 4;
    const canNext = ctl.reading.length === 0 && ctl.usable.length > 0;
    return html`<div class="footer">
      ${back ? html`<button @click=${() => ctl.goto(ctl.prevStep())}>Back</button>` : html`<span></span>`}
      ${next ? html`<button class="primary" ?disabled=${!canNext} @click=${() => ctl.goto(ctl.nextStep())}>Next</button>` : nothing}
    </div>`;
  }
}

customElements.define('wsi-bulk-import', WsiBulkImport);
