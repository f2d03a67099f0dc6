import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { formatBytes } from '../../format.ts';
import type { SlideEntry } from '../../state/batch-store.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { fileSelectStyles } from './wsi-file-select.styles.ts';
import { canPickDirectory, canPickFiles, pickDirectory, pickFileHandles } from './pick-files.ts';
import { plural } from '../../../shared/plural.ts';
import { baseName, PICKER_EXTENSIONS, skippedSummary } from './selection-rules.ts';
import { takeDrop } from './drop.ts';
import '../wsi-batch-selections/wsi-batch-selections.ts';

/** One line per file that cannot be imported, naming the file once. */
export function problemLine(s: SlideEntry): string {
  if (s.error && s.size === 0 && s.parts.length <= 1) return `${s.name} is empty (0 bytes).`;
  const m = s.error?.message ?? '';
  return `${s.name} (${formatBytes(s.size)}): ${m}${/[.!?]$/.test(m) ? '' : '.'}`;
}

/**
 * Step 1: pick SVS/TIFF/DICOM files and folders (a DICOM directory; a MIRAX slide's .mrxs with its
 * folder, or a folder of several; a zipped DICOM folder with Direct Upload), with the buttons or by
 * dropping them on the step, as often as needed, into one batch; the Direct Upload switch.
 * Unreadable files are listed with their error and do not block others; files of a folder that are
 * not slides are left out with one line saying so; a file already in the batch is asked about.
 */
export class WsiFileSelect extends ImportStepElement {
  static override properties = { dragging: { state: true } };
  static override styles = [sharedStyles, fileSelectStyles];
  declare dragging: boolean;

  constructor() {
    super();
    this.dragging = false;
    this.addEventListener('dragover', (e) => this.dragOver(e));
    this.addEventListener('dragleave', (e) => {
      if (!this.contains(e.relatedTarget as Node | null) && e.relatedTarget !== this) this.dragging = false;
    });
    this.addEventListener('drop', (e) => this.dropped(e));
  }

  override render() {
    const ctl = this.ctl;
    const b = ctl?.batch;
    if (!ctl || !b) return nothing;
    const bad = ctl.slides.filter((s) => s.error);
    const skipped = ctl.sources.flatMap((s) => s.skipped ?? []);
    const accept = [...PICKER_EXTENSIONS, 'application/dicom', 'image/tiff', 'application/zip'].join(',');
    return html`
      <h3 tabindex="-1">Select the slides to import</h3>
      <div class="dropzone ${this.dragging ? 'over' : ''}">
        <div class="pickers">
          <button class="primary" @click=${() => void this.selectFiles()}>Select files</button>
          <button @click=${() => void this.selectDirectory()}>Select DICOM directory</button>
          <!-- Same folder picker: a MIRAX slide is an .mrxs file plus a folder, picked as the folder holding both. -->
          <button @click=${() => void this.selectDirectory()} title="The folder that holds the .mrxs file and its folder (or several slides)">Select MIRAX folder</button>
          <input id="files" type="file" multiple accept=${accept}
            aria-label="Select files" @change=${(e: Event) => void this.picked(e, 'files')} />
          <input id="dir" type="file" webkitdirectory aria-label="Select a folder (DICOM directory or MIRAX slides)" @change=${(e: Event) => void this.picked(e, 'dir')} />
        </div>
        <p class="muted drop-hint">Or drop files and folders here. A zipped DICOM folder (.zip) can be sent with Direct Upload.</p>
      </div>
      <div class="direct">
        <label><input type="checkbox" role="switch" .checked=${b.directUpload} ?disabled=${b.uploadStarted}
          aria-describedby="direct-warning"
          @change=${(e: Event) => ctl.setDirectUpload((e.target as HTMLInputElement).checked)} />Direct Upload</label>
        ${b.directUpload
          ? html`<div id="direct-warning" class="warning" role="note">
              <strong>Files go to the server unmodified.</strong> Nothing is removed: no metadata, no label or
              overview image. Use Direct Upload only for files you know to be free of patient information.
            </div>`
          : html`<p id="direct-warning" class="muted">Off: each file is de-identified on this computer before anything is sent.</p>`}
      </div>
      ${this.duplicatePrompt()}
      ${ctl.reading.length && !ctl.duplicates ? html`<p role="status">Reading ${ctl.reading.join(', ')}…</p>` : nothing}
      ${ctl.notice ? html`<p class="notice" role="status">${ctl.notice}</p>` : nothing}
      ${ctl.sources.length
        ? html`<p>${plural(ctl.usable.length, 'slide')} ready from ${plural(ctl.sources.length, 'selection')}:</p>`
        : html`<p class="muted">No files selected yet.</p>`}
      <wsi-batch-selections .ctl=${ctl}></wsi-batch-selections>
      ${skipped.length ? html`<p class="muted skipped" role="note">${skippedSummary(skipped)}</p>` : nothing}
      ${bad.length
        ? html`<div role="alert"><p class="error">${bad.length === 1 ? '1 file cannot be imported' : `${bad.length} files cannot be imported`}${ctl.usable.length ? '; the others can' : ''}:</p>
            <ul class="problems">${bad.map((s) => html`<li>${problemLine(s)}</li>`)}</ul></div>`
        : nothing}
    `;
  }

  /** The pick holds files the batch already has: skip them (the default) or add them anyway. */
  private duplicatePrompt() {
    const d = this.ctl?.duplicates;
    if (!d) return nothing;
    const n = d.paths.length;
    const names = d.paths.slice(0, 3).map(baseName).join(', ') + (n > 3 ? ', …' : '');
    return html`<div class="duplicates" role="alertdialog" aria-labelledby="dup-title" aria-describedby="dup-text">
      <p id="dup-title"><strong>${n === 1 ? 'This file is already in the batch' : `${n} files are already in the batch`}</strong></p>
      <p id="dup-text">${names} (from "${d.label}") ${n === 1 ? 'was' : 'were'} picked before: the same file or the same content.
        Adding ${n === 1 ? 'it' : 'them'} again would upload ${n === 1 ? 'it' : 'them'} twice.</p>
      <div class="pickers">
        <button class="primary" autofocus @click=${() => d.choose(false)}>${n === 1 ? 'Skip duplicate' : 'Skip duplicates'}</button>
        <button @click=${() => d.choose(true)}>Add anyway</button>
      </div>
    </div>`;
  }

  protected override updated(): void {
    // The choice waits on the user: put keyboard focus on its default.
    const skip = this.renderRoot.querySelector<HTMLButtonElement>('.duplicates button.primary');
    if (skip && !this.renderRoot.querySelector('.duplicates')?.contains(this.shadowRoot?.activeElement ?? null)) skip.focus();
  }

  private input(id: 'files' | 'dir'): HTMLInputElement | null {
    return this.renderRoot.querySelector(`#${id}`);
  }

  /** The file picker gives handles (re-readable after a reload, nothing copied); otherwise <input>. */
  private async selectFiles(): Promise<void> {
    if (!canPickFiles()) {
      this.input('files')?.click();
      return;
    }
    const handles = await pickFileHandles();
    if (handles?.length) await this.ctl!.addFileHandles(handles);
  }

  /** The directory picker keeps a handle (re-readable after a reload); otherwise <input webkitdirectory>. */
  private async selectDirectory(): Promise<void> {
    if (!canPickDirectory()) {
      this.input('dir')?.click();
      return;
    }
    const dir = await pickDirectory();
    if (dir) await this.ctl!.addDirectory(dir);
  }

  private async picked(e: Event, kind: 'files' | 'dir'): Promise<void> {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    // Reset so picking the same files again fires change again.
    input.value = '';
    if (files.length === 0) return;
    const label = kind === 'dir' ? (files[0].webkitRelativePath.split('/')[0] || 'folder') : files.length === 1 ? files[0].name : `${files.length} files`;
    await this.ctl!.addFiles(files, label, kind === 'dir');
  }

  private dragOver(e: DragEvent): void {
    if (!this.ctl?.batch || this.ctl.batch.uploadStarted || !e.dataTransfer?.types.includes('Files')) return;
    // Without preventDefault the browser would open the dropped file itself.
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this.dragging = true;
  }

  private dropped(e: DragEvent): void {
    this.dragging = false;
    const ctl = this.ctl;
    if (!ctl?.batch || ctl.batch.uploadStarted || !e.dataTransfer) return;
    e.preventDefault();
    const read = takeDrop(e.dataTransfer);
    void (async () => {
      for (const sel of await read()) {
        if (sel.kind === 'handles') await ctl.addFileHandles(sel.handles);
        else if (sel.kind === 'directory') await ctl.addDirectory(sel.dir);
        else await ctl.addInputs(sel.inputs, sel.label, sel.folder);
      }
    })();
  }
}

customElements.define('wsi-file-select', WsiFileSelect);
