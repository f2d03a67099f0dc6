import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { formatBytes, formatDuration } from '../../format.ts';
import type { SlideEntry } from '../../state/batch-store.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { uploadProgressStyles } from './wsi-upload-progress.styles.ts';

const STATE_TEXT: Record<string, string> = {
  queued: 'Waiting', uploading: 'Uploading', paused: 'Paused', waiting: 'Server storage full, retrying', verifying: 'Server is checking', done: 'Done', failed: 'Failed', cancelled: 'Cancelled',
};

/** Step 6: "Start upload", then per-file and overall progress with speed and ETA; pause, resume, cancel. */
export class WsiUploadProgress extends ImportStepElement {
  static override properties = { confirmCancel: { state: true } };
  static override styles = [sharedStyles, uploadProgressStyles];
  declare confirmCancel: boolean;

  constructor() {
    super();
    this.confirmCancel = false;
  }

  override render() {
    const ctl = this.ctl;
    const b = ctl?.batch;
    if (!ctl || !b) return nothing;
    if (!b.uploadStarted) {
      return html`
        <h3 tabindex="-1">Upload</h3>
        <p>${ctl.usable.length} file(s) ${b.directUpload ? 'will be sent unmodified (Direct Upload)' : 'will be de-identified on this computer, then sent'}.
          Nothing has left this computer yet.</p>
        <button class="primary" @click=${() => ctl.startUpload()}>Start upload</button>
      `;
    }
    const up = ctl.uploader;
    const o = up?.overall();
    const cancelled = ctl.usable.some((s) => s.uploads?.some((p) => p.state === 'cancelled'));
    // Nothing left to send, but the server quarantined some slides: the wizard stays here to say so.
    const quarantined = up ? ctl.usable.filter((s) => up.quarantined(s)).length : 0;
    const settled = !!up && quarantined > 0 && ctl.usable.every((s) => up.slideDone(s) || up.quarantined(s));
    return html`
      <h3 tabindex="-1">Uploading</h3>
      ${o
        ? html`<div class="overall">
            <div class="line"><strong id="overall-label">Overall</strong>
              <span>${formatBytes(o.sent)} of ${formatBytes(o.total)} · ${o.speed > 0 ? `${formatBytes(o.speed)}/s` : '—'} ·
                ${o.eta !== undefined ? `${formatDuration(o.eta)} left` : 'estimating…'}</span></div>
            <progress max="1" .value=${o.fraction} aria-labelledby="overall-label"></progress>
          </div>`
        : html`<p role="status">Resuming…</p>`}
      <div class="controls">
        ${settled
          ? html`<span role="status">Finished: ${quarantined} file(s) failed verification on the server.</span><button @click=${() => void ctl.startOver()}>Start a new batch</button>`
          : cancelled
          ? html`<span>Cancelled.</span><button @click=${() => void ctl.startOver()}>Start a new batch</button>`
          : b.uploadPaused
            ? html`<button class="primary" @click=${() => ctl.uploader?.resume() ?? ctl.startUpload()}>Resume</button>`
            : html`<button @click=${() => ctl.uploader?.pause()}>Pause</button>`}
        ${cancelled || settled ? nothing : this.confirmCancel
          ? html`<span class="confirm" role="group" aria-label="Confirm cancel">Cancel every unfinished upload?
              <button class="danger" @click=${() => void this.cancel()}>Yes, cancel</button>
              <button @click=${() => (this.confirmCancel = false)}>No</button></span>`
          : html`<button class="danger" @click=${() => (this.confirmCancel = true)}>Cancel</button>`}
      </div>
      <table>
        <thead><tr><th scope="col">File</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Speed</th></tr></thead>
        <tbody>${ctl.usable.map((s) => this.row(s))}</tbody>
      </table>
    `;
  }

  private row(s: SlideEntry) {
    const up = this.ctl!.uploader;
    const staging = up?.stagingFraction(s);
    const parts = s.uploads ?? [];
    const total = parts.reduce((n, p) => n + p.size, 0) || s.size;
    const sent = parts.reduce((n, p) => n + (p.state === 'done' ? p.size : p.bytesSent), 0);
    const speed = parts.reduce((n, p) => n + (up?.speedOf(s, p.part) ?? 0), 0);
    const failed = parts.find((p) => p.state === 'failed');
    // The server's disk is full: not this file's fault; it is tried again on its own.
    const waiting = parts.find((p) => p.state === 'waiting');
    let status: string;
    if (s.stageError) status = `Failed: ${s.stageError}`;
    else if (up?.waitsForOriginals(s)) status = 'Waiting for the original files (see above)';
    else if (staging !== undefined) status = `De-identifying ${Math.round(staging * 100)} %`;
    else if (parts.length === 0) status = this.ctl!.batch!.directUpload ? 'Waiting (checksum)' : 'Waiting to de-identify';
    else if (failed) status = `Failed: ${failed.error ?? 'upload failed'}`;
    else if (waiting) status = waiting.error ?? STATE_TEXT.waiting;
    else if (s.serverCheck?.state === 'quarantined') status = `Failed verification on the server (quarantined there, not viewable): ${s.serverCheck.reason ?? ''}`;
    else if (s.serverCheck?.state === 'pending') status = 'Uploaded; the server is verifying it';
    else if (parts.every((p) => p.state === 'done')) status = 'Done';
    else status = STATE_TEXT[parts.find((p) => p.state !== 'done')!.state] ?? '';
    const label = `${s.name} upload progress`;
    return html`<tr>
      <th scope="row">${s.name}</th>
      <td class=${s.stageError || failed || s.serverCheck?.state === 'quarantined' ? 'error' : waiting ? 'warning' : ''} role=${waiting ? 'status' : nothing}>${status}</td>
      <td class="bar"><progress max="1" .value=${staging ?? (total ? sent / total : 0)} aria-label=${label}></progress>
        <span class="muted">${formatBytes(sent)} / ${formatBytes(total)}</span></td>
      <td class="num">${speed > 0 ? `${formatBytes(speed)}/s` : ''}</td>
    </tr>`;
  }

  private async cancel(): Promise<void> {
    this.confirmCancel = false;
    await this.ctl!.uploader?.cancel();
  }
}

customElements.define('wsi-upload-progress', WsiUploadProgress);
