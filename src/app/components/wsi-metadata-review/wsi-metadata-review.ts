import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import type { FieldSummary, SlideEntry } from '../../state/batch-store.ts';
import type { FieldClass } from '../../../engine/formats/slide-format.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { formatLabel } from '../../../shared/format-names.ts';
import { metadataReviewStyles } from './wsi-metadata-review.styles.ts';
import { groupDicomFields, isDicomField, isReplaced, type DicomEntry, type DicomModuleGroup, type DicomRow } from './dicom-groups.ts';

const GROUPS: { cls: FieldClass; title: string; hint: string }[] = [
  { cls: 'phi', title: 'Identifying', hint: 'May identify the patient, the case or the operator. Removed by default.' },
  { cls: 'critical', title: 'Critical', hint: 'Needed to view or measure the slide. Kept by default.' },
  { cls: 'neutral', title: 'Neutral', hint: 'Scanner settings. Kept unless you redact them (Auto redact does).' },
];

/**
 * Step 3: every field of each file with its value and a redact toggle. DICOM slides (over a
 * hundred attributes, many nested) are grouped by module with plain names (dicom-groups.ts);
 * other formats by what a field is (identifying, critical, neutral).
 */
export class WsiMetadataReview extends ImportStepElement {
  static override properties = { selected: { state: true }, pending: { state: true }, note: { state: true }, expanded: { state: true } };
  static override styles = [sharedStyles, metadataReviewStyles];
  declare selected: string | undefined;
  /** A critical field waiting for the user's confirmation. */
  declare pending: FieldSummary | undefined;
  declare note: string;
  /** Opened sequences ("slide id/(gggg,eeee)"), whose nested fields are shown. */
  declare expanded: Set<string>;

  constructor() {
    super();
    this.note = '';
    this.expanded = new Set();
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
        <span id="auto-hint" class="muted">Removes every field that is not needed, in ${ctl.usable.length === 1 ? 'the file' : `all ${ctl.usable.length} files`}.</span>
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
          ${this.otherFields(s).length ? GROUPS.map((g) => this.group(s, g, this.otherFields(s))) : nothing}
          ${s.fields.some(isDicomField) ? this.dicom(s) : nothing}
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

  /** Fields that are not DICOM attributes (a DICOM slide's are grouped by module instead). */
  private otherFields(s: SlideEntry): FieldSummary[] {
    return s.fields.filter((f) => !isDicomField(f));
  }

  private group(s: SlideEntry, g: (typeof GROUPS)[number], all: FieldSummary[]) {
    const fields = all.filter((f) => f.class === g.cls);
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
          <td>${this.box(s, f, f.label, removed)}</td>
        </tr>`)}</tbody>
      </table>`;
  }

  /** The toggle of a field: "Redact", or "Replace" for values that get a new one (UIDs). */
  private box(s: SlideEntry, f: FieldSummary, name: string, removed: Set<string>) {
    const replaced = isReplaced(f);
    const on = removed.has(f.id);
    return html`<label class="toggle"><input type="checkbox" .checked=${on} aria-label=${`${replaced ? 'Replace' : 'Redact'} ${name}`}
        @change=${(e: Event) => this.toggle(s, f, e.target as HTMLInputElement)} />
      <span class=${on ? 'state on' : 'state'}>${on ? (replaced ? 'replaced' : 'removed') : 'kept'}</span></label>`;
  }

  private dicom(s: SlideEntry) {
    const groups = groupDicomFields(s.fields.filter(isDicomField));
    const removed = new Set(s.removeFields);
    return html`
      <p class="muted">Grouped by DICOM module. Identifying fields are removed by default; UIDs are replaced by new ones
        (the same in every file of this batch), so the slide's files still belong together.</p>
      ${groups.map((g) => this.module(s, g, removed))}`;
  }

  private module(s: SlideEntry, g: DicomModuleGroup, removed: Set<string>) {
    const id = `module-${g.module.replace(/\W/g, '-').toLowerCase()}`;
    const gone = g.fields.filter((f) => removed.has(f.id)).length;
    return html`
      <h4 id=${id}>${g.module} <span class="muted">(${g.fields.length} ${g.fields.length === 1 ? 'field' : 'fields'}, ${gone} removed or replaced)</span></h4>
      <table aria-labelledby=${id} class="dicom">
        <thead><tr><th scope="col">Field</th><th scope="col">Value</th><th scope="col">Redact</th></tr></thead>
        <tbody>${g.entries.map((e) => this.entry(s, e, removed))}</tbody>
      </table>`;
  }

  /** A top-level attribute; a sequence's nested elements follow it, hidden until opened. */
  private entry(s: SlideEntry, e: DicomEntry, removed: Set<string>) {
    const key = `${s.id}/${e.top.tag}`;
    const open = this.expanded.has(key);
    const f = e.top.field;
    const n = e.nested.length;
    const toggleNested = () => {
      const next = new Set(this.expanded);
      if (open) next.delete(key);
      else next.add(key);
      this.expanded = next;
    };
    return html`
      <tr class=${f && removed.has(f.id) ? 'removed' : ''}>
        <th scope="row" title=${f?.reason ?? ''}>
          ${n ? html`<button class="disclose" aria-expanded=${open ? 'true' : 'false'} @click=${toggleNested}
            aria-label=${`${open ? 'Hide' : 'Show'} ${n} ${n === 1 ? 'field' : 'fields'} in ${e.top.name}`}>${open ? '▾' : '▸'}</button>` : nothing}
          <span class="name">${e.top.name}</span> <span class="tag">${e.top.tag}</span>
          ${f?.class === 'phi' ? html`<span class="kind">identifying</span>` : nothing}
          ${n ? html`<span class="muted nested-count">${n} nested ${n === 1 ? 'field' : 'fields'}</span>` : nothing}
        </th>
        <td class="value">${f?.value ?? ''}</td>
        <td>${f ? this.box(s, f, e.top.name, removed) : nothing}</td>
      </tr>
      ${e.nested.map((r) => this.nestedRow(s, r, e, open, removed))}`;
  }

  private nestedRow(s: SlideEntry, r: DicomRow, e: DicomEntry, open: boolean, removed: Set<string>) {
    const name = [r.name, ...r.within.slice().reverse()].join(' in ');
    return html`<tr class="nested ${removed.has(r.field.id) ? 'removed' : ''}" ?hidden=${!open}>
      <th scope="row" title=${r.field.reason ?? ''}>
        <span class="name">${r.name}</span> <span class="tag">${r.tag}</span>
        ${r.field.class === 'phi' ? html`<span class="kind">identifying</span>` : nothing}
        ${r.within.length ? html`<span class="muted within">in ${r.within.join(' › ')}</span>` : nothing}
      </th>
      <td class="value">${r.field.value}</td>
      <td>${this.box(s, r.field, `${name} in ${e.top.name}`, removed)}</td>
    </tr>`;
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
    this.note = `Applied to ${n} other ${n === 1 ? 'file' : 'files'}.`;
  }
}

customElements.define('wsi-metadata-review', WsiMetadataReview);
