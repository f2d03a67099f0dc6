import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import type { FieldSummary, SlideEntry } from '../../state/batch-store.ts';
import type { FieldClass } from '../../../engine/formats/slide-format.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { formatLabel } from '../../../shared/format-names.ts';
import { metadataReviewStyles } from './wsi-metadata-review.styles.ts';

const GROUPS: { cls: FieldClass; title: string; hint: string }[] = [
  { cls: 'phi', title: 'Identifying', hint: 'May identify the patient, the case or the operator. Removed by default.' },
  { cls: 'critical', title: 'Critical', hint: 'Needed to view or measure the slide. Kept by default.' },
  { cls: 'neutral', title: 'Neutral', hint: 'Scanner settings. Kept unless you redact them (Auto redact does).' },
];

/** Step 3: every field of each file with its value and a redact toggle. */
export class WsiMetadataReview extends ImportStepElement {
  static override properties = { selected: { state: true }, pending: { state: true }, note: { state: true } };
  static override styles = [sharedStyles, metadataReviewStyles];
  declare selected: string | undefined;
  /** A critical field waiting for the user's confirmation. */
  declare pending: FieldSummary | undefined;
  declare note: string;

  constructor() {
    super();
    this.note = '';
  }

  private get slide(): SlideEntry | undefined {
    const u = this.ctl?.usable ?? [];
    return u.find((s) => s.id === this.selected) ?? u[0];
  }

  override render() {
    const ctl = this.ctl;
    const s = this.slide;
    if (!ctl || !s) return nothing;
    const sameFormat = ctl.usable.filter((x) => x.format === s.format).length;
    return html`
      <h3 tabindex="-1">Metadata review</h3>
      <div class="toolbar">
        <button class="primary" @click=${() => this.auto()} aria-describedby="auto-hint">Auto redact</button>
        <span id="auto-hint" class="muted">Removes every field that is not needed, in all ${ctl.usable.length} file(s).</span>
        ${this.note ? html`<span class="ok" role="status">${this.note}</span>` : nothing}
      </div>
      <div class="layout">
        <nav aria-label="Files">
          <ul class="files">${ctl.usable.map((x) => html`<li><button aria-current=${x === s ? 'true' : 'false'} @click=${() => (this.selected = x.id)}>
            <span>${x.name}</span><span class="muted">${x.removeFields.length}/${x.fields.length}</span></button></li>`)}</ul>
        </nav>
        <div>
          <div class="toolbar">
            <strong>${s.name}</strong>
            <button ?disabled=${sameFormat < 2} @click=${() => this.applyAll(s)}>Apply to all ${formatLabel(s.format)} files (${sameFormat})</button>
          </div>
          ${s.fields.length === 0 ? html`<p class="muted">This file has no metadata fields.</p>` : nothing}
          ${GROUPS.map((g) => this.group(s, g))}
        </div>
      </div>
      <dialog aria-labelledby="confirm-title" @close=${() => (this.pending = undefined)}>
        <h4 id="confirm-title">Redact a critical field?</h4>
        <p>“${this.pending?.label}” is needed to view or measure the slide (for example its scale). Without it the slide may be unusable.</p>
        <div class="actions">
          <button @click=${() => this.confirmCritical(false)}>Keep</button>
          <button class="primary" @click=${() => this.confirmCritical(true)}>Redact anyway</button>
        </div>
      </dialog>
    `;
  }

  private group(s: SlideEntry, g: (typeof GROUPS)[number]) {
    const fields = s.fields.filter((f) => f.class === g.cls);
    if (fields.length === 0) return nothing;
    const removed = new Set(s.removeFields);
    const id = `group-${g.cls}`;
    return html`
      <h4 id=${id}>${g.title} <span class="muted">(${fields.length})</span></h4>
      <p class="muted">${g.hint}</p>
      <table aria-labelledby=${id}>
        <thead><tr><th scope="col">Field</th><th scope="col">Value</th><th scope="col">Redact</th></tr></thead>
        <tbody>${fields.map((f) => html`<tr class=${removed.has(f.id) ? 'removed' : ''}>
          <th scope="row" title=${f.reason ?? ''}>${f.label}</th>
          <td class="value">${f.value}</td>
          <td><input type="checkbox" .checked=${removed.has(f.id)} aria-label=${`Redact ${f.label}`}
            @change=${(e: Event) => this.toggle(s, f, e.target as HTMLInputElement)} /></td>
        </tr>`)}</tbody>
      </table>`;
  }

  private toggle(s: SlideEntry, f: FieldSummary, box: HTMLInputElement): void {
    if (box.checked && f.class === 'critical') {
      // Ask first: revert the box until the user confirms.
      box.checked = false;
      this.pending = f;
      this.renderRoot.querySelector('dialog')?.showModal();
      return;
    }
    this.ctl!.setFieldRemoved(s, f.id, box.checked);
  }

  private confirmCritical(redact: boolean): void {
    const f = this.pending;
    const s = this.slide;
    this.renderRoot.querySelector('dialog')?.close();
    if (redact && f && s) this.ctl!.setFieldRemoved(s, f.id, true);
  }

  private auto(): void {
    this.ctl!.autoRedact();
    this.note = 'Auto redact applied to all files.';
  }

  private applyAll(s: SlideEntry): void {
    const n = this.ctl!.applyToSameFormat(s);
    this.note = `Applied to ${n} other file(s).`;
  }
}

customElements.define('wsi-metadata-review', WsiMetadataReview);
