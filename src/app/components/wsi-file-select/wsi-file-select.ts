import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { formatBytes } from '../../format.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { fileSelectStyles } from './wsi-file-select.styles.ts';
import { canPickDirectory, canPickFiles, pickDirectory, pickFileHandles } from './pick-files.ts';

/**
 * Step 1: pick SVS/TIFF/DICOM files and folders (a DICOM directory; a MIRAX slide's .mrxs with its
 * folder, or a folder of several), as often as needed, into one batch;
 * the Direct Upload switch. Unreadable files are listed with their error and do not block others.
 */
export class WsiFileSelect extends ImportStepElement {
  static override styles = [sharedStyles, fileSelectStyles];


  override render() {
    const ctl = this.ctl;
    const b = ctl?.batch;
    if (!ctl || !b) return nothing;
    const bad = ctl.slides.filter((s) => s.error);
    return html`
      <h3 tabindex="-1">Select the slides to import</h3>
      <div class="pickers">
        <button class="primary" @click=${() => void this.selectFiles()}>Select files</button>
        <button @click=${() => void this.selectDirectory()}>Select DICOM directory</button>
        <!-- Same folder picker: a MIRAX slide is an .mrxs file plus a folder, picked as the folder holding both. -->
        <button @click=${() => void this.selectDirectory()} title="The folder that holds the .mrxs file and its folder (or several slides)">Select MIRAX folder</button>
        <input id="files" type="file" multiple accept=".svs,.tif,.tiff,.dcm,.ndpi,.scn,.bif,.mrxs,application/dicom,image/tiff"
          aria-label="Select files" @change=${(e: Event) => void this.picked(e, 'files')} />
        <input id="dir" type="file" webkitdirectory aria-label="Select a folder (DICOM directory or MIRAX slides)" @change=${(e: Event) => void this.picked(e, 'dir')} />
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
      ${ctl.reading.length ? html`<p role="status">Reading ${ctl.reading.join(', ')}…</p>` : nothing}
      ${ctl.sources.length
        ? html`<p>${ctl.usable.length} slide(s) ready from ${ctl.sources.length} selection(s):
            ${ctl.sources.map((s) => s.label).join('; ')}.</p>`
        : html`<p class="muted">No files selected yet.</p>`}
      ${bad.length
        ? html`<div role="alert"><p class="error">${bad.length} file(s) cannot be imported; the others can:</p>
            <ul>${bad.map((s) => html`<li><strong>${s.name}</strong> (${formatBytes(s.size)}): ${s.error!.message}</li>`)}</ul></div>`
        : nothing}
    `;
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
}

customElements.define('wsi-file-select', WsiFileSelect);
