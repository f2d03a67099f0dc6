import { html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { formatBytes, formatDuration } from '../../format.ts';
import type { SlideEntry } from '../../state/batch-store.ts';
import { OnlineStatus } from '../../state/online.ts';
import { activityText, type UploadActivity } from '../../../upload/progress.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { associatedImages } from '../wsi-bulk-import/decisions.ts';
import { identifyingKinds } from '../wsi-metadata-review/dicom-groups.ts';
import { uploadProgressStyles } from './wsi-upload-progress.styles.ts';

const STATE_TEXT: Record<string, string> = {
  queued: 'Waiting', uploading: 'Uploading', paused: 'Paused', waiting: 'Server storage full, retrying', verifying: 'Server is checking', done: 'Done', failed: 'Failed', cancelled: 'Cancelled',
};

const HEADING: Record<UploadActivity, string> = {
  running: 'Uploading', reconnecting: 'Uploading', paused: 'Upload paused', cancelled: 'Upload cancelled', stopped: 'Upload stopped',
};

const files = (n: number) => `${n} ${n === 1 ? 'file' : 'files'}`;

/**
 * Step 6: "Start upload", then per-file and overall progress with speed and ETA; pause, resume,
 * cancel. The words say what is really happening: "Reconnecting…" while the server cannot be
 * reached (no stale speed), "Paused", and a cancelled upload — also after a reload — offers
 * "Start again" (de-identifies anew) or "Remove".
 */
export class WsiUploadProgress extends ImportStepElement {
  static override properties = { confirmCancel: { state: true }, cancelling: { state: true } };
  static override styles = [sharedStyles, uploadProgressStyles];
  declare confirmCancel: boolean;
  /** Cancel is ending the uploads on the server and deleting the staged copies. */
  declare cancelling: boolean;
  private readonly network = new OnlineStatus(this);

  constructor() {
    super(true);
    this.confirmCancel = false;
    this.cancelling = false;
  }

  /** What the upload as a whole is doing now. */
  private activity(): UploadActivity {
    const ctl = this.ctl!;
    const b = ctl.batch!;
    if (b.uploadCancelled || ctl.usable.some((s) => s.uploads?.some((p) => p.state === 'cancelled'))) return 'cancelled';
    if (b.uploadPaused) return 'paused';
    const up = ctl.uploader;
    if (!up) return 'stopped';
    if (!this.network.online || up.overall().reconnecting) return 'reconnecting';
    return 'running';
  }

  override render() {
    const ctl = this.ctl;
    const b = ctl?.batch;
    if (!ctl || !b) return nothing;
    if (!b.uploadStarted) return this.beforeStart();
    const up = ctl.uploader;
    const activity = this.activity();
    const o = up?.overall();
    // Nothing left to send, but the server quarantined some slides: the wizard stays here to say so.
    const quarantined = up ? ctl.usable.filter((s) => up.quarantined(s)).length : 0;
    const settled = !!up && quarantined > 0 && ctl.usable.every((s) => up.slideDone(s) || up.quarantined(s));
    const notSent = ctl.usable.filter((s) => !(s.uploads?.length && s.uploads.every((p) => p.state === 'done'))).length;
    return html`
      <h3 tabindex="-1">${HEADING[activity]}</h3>
      ${o
        ? html`<div class="overall">
            <div class="line"><strong id="overall-label">Overall</strong>
              <span role="status">${formatBytes(o.sent)} of ${formatBytes(o.total)} ·
                ${activityText(activity, o, { bytes: formatBytes, duration: formatDuration })}</span></div>
            <progress max="1" .value=${o.fraction} aria-labelledby="overall-label"></progress>
          </div>`
        : html`<p role="status">${activity === 'cancelled' ? '' : 'The upload is not running.'}</p>`}
      ${activity === 'reconnecting'
        ? html`<p class="warning" role="status">${this.network.online ? 'The server cannot be reached.' : 'This computer is offline.'} Reconnecting… The upload continues where it stopped once the connection is back.</p>`
        : nothing}
      <div class="controls">
        ${settled
          ? html`<span role="status">Finished: ${files(quarantined)} failed verification on the server.</span><button @click=${() => void ctl.startOver()}>Start a new batch</button>`
          : this.cancelling
            ? html`<span role="status">Cancelling…</span>`
          : activity === 'cancelled'
            ? html`<span role="status">Cancelled: ${files(notSent)} not uploaded.</span>
                <button class="primary" @click=${() => ctl.restartCancelled()}
                  aria-describedby="restart-hint">Start again</button>
                <button class="danger" aria-label="Remove this batch" @click=${() => void ctl.startOver()}>Remove</button>
                <span id="restart-hint" class="muted">${b.directUpload ? 'Start again sends the files again.' : 'Start again de-identifies the files again, then uploads them.'}</span>`
            : activity === 'paused' || activity === 'stopped'
              ? html`<button class="primary" @click=${() => (up && activity === 'paused' ? up.resume() : ctl.startUpload())}>Resume</button>`
              : html`<button @click=${() => up?.pause()}>Pause</button>`}
        ${activity === 'cancelled' || settled ? nothing : this.confirmCancel
          ? html`<span class="confirm" role="group" aria-label="Confirm cancel">Cancel every unfinished upload?
              <button class="danger" @click=${() => void this.cancel()}>Yes, cancel</button>
              <button @click=${() => (this.confirmCancel = false)}>No</button></span>`
          : html`<button class="danger" @click=${() => (this.confirmCancel = true)}>Cancel</button>`}
      </div>
      <table>
        <thead><tr><th scope="col">File</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Speed</th></tr></thead>
        <tbody>${ctl.usable.map((s) => this.row(s, activity))}</tbody>
      </table>
    `;
  }

  /**
   * Before anything is sent. With Direct Upload the files go as they are: a file whose inspection
   * found identifying fields (or a label / overview photo) says so — how many and which kinds,
   * never the values.
   */
  private beforeStart() {
    const ctl = this.ctl!;
    const b = ctl.batch!;
    const n = ctl.usable.length;
    const risky = b.directUpload ? ctl.usable.map((s) => ({ s, ...identifyingKinds(s.fields), photos: associatedImages(s.images) })).filter((r) => r.count > 0 || r.photos.length > 0) : [];
    return html`
      <h3 tabindex="-1">Upload</h3>
      <p>${files(n)} ${b.directUpload ? `will be sent unmodified (Direct Upload)` : 'will be de-identified on this computer, then sent'}.
        Nothing has left this computer yet.</p>
      ${risky.length
        ? html`<div class="warn-box" role="note" aria-labelledby="direct-phi-warning">
            <strong id="direct-phi-warning">Identifying information will be sent</strong>
            <p>Direct Upload sends these files as they are. Their inspection found:</p>
            <ul>${risky.map((r) => html`<li><strong>${r.s.name}</strong>:
              ${r.count ? `${r.count} identifying ${r.count === 1 ? 'field' : 'fields'} (${r.kinds.join(', ')})` : ''}${r.count && r.photos.length ? '; ' : ''}${r.photos.length
                ? `${r.photos.map((i) => (i.role === 'label' ? 'a slide label image' : 'an overview (macro) image')).join(' and ')}, which may show the label's text`
                : ''}.</li>`)}</ul>
            <p>Turn off Direct Upload at step 2 to de-identify them first.</p>
          </div>`
        : nothing}
      <button class="primary" @click=${() => ctl.startUpload()}>Start upload</button>
    `;
  }

  private row(s: SlideEntry, activity: UploadActivity) {
    const up = this.ctl!.uploader;
    const staging = up?.stagingFraction(s);
    const parts = s.uploads ?? [];
    const total = parts.reduce((n, p) => n + p.size, 0) || s.size;
    const sent = parts.reduce((n, p) => n + (p.state === 'done' ? p.size : p.bytesSent), 0);
    const speed = parts.reduce((n, p) => n + (up?.speedOf(s, p.part) ?? 0), 0);
    const failed = parts.find((p) => p.state === 'failed');
    // The server's disk is full: not this file's fault; it is tried again on its own.
    const waiting = parts.find((p) => p.state === 'waiting');
    const allDone = parts.length > 0 && parts.every((p) => p.state === 'done');
    const reconnecting = !!up?.reconnecting(s) || (activity === 'reconnecting' && !allDone && parts.some((p) => p.state === 'uploading'));
    let status: string;
    if (s.stageError) status = `Failed: ${s.stageError}`;
    else if (activity === 'cancelled' && !allDone) status = 'Cancelled';
    else if (up?.waitsForOriginals(s)) status = 'Waiting for the original files (see above)';
    else if (staging !== undefined) status = `De-identifying ${Math.round(staging * 100)} %`;
    else if (activity === 'stopped' && !allDone) status = 'Not running';
    else if (parts.length === 0) status = this.ctl!.batch!.directUpload ? 'Waiting (checksum)' : 'Waiting to de-identify';
    else if (failed) status = `Failed: ${failed.error ?? 'upload failed'}`;
    else if (waiting) status = waiting.error ?? STATE_TEXT.waiting;
    else if (s.serverCheck?.state === 'quarantined') status = `Failed verification on the server (quarantined there, not viewable): ${s.serverCheck.reason ?? ''}`;
    else if (s.serverCheck?.state === 'pending') status = 'Uploaded; the server is verifying it';
    else if (allDone) status = 'Done';
    else if (reconnecting) status = 'Reconnecting…';
    else status = STATE_TEXT[parts.find((p) => p.state !== 'done')!.state] ?? '';
    const label = `${s.name} upload progress`;
    return html`<tr>
      <th scope="row">${s.name}${s.sendMode && !this.ctl!.batch!.directUpload ? html`<div class="muted send-mode">${SEND_MODE_TEXT[s.sendMode]}</div>` : nothing}</th>
      <td class=${s.stageError || failed || s.serverCheck?.state === 'quarantined' ? 'error' : waiting || reconnecting ? 'warning' : ''} role=${waiting ? 'status' : nothing}>${status}</td>
      <td class="bar"><progress max="1" .value=${staging ?? (total ? sent / total : 0)} aria-label=${label}></progress>
        <span class="muted">${formatBytes(sent)} / ${formatBytes(total)}</span></td>
      <td class="num">${speed > 0 && !reconnecting ? `${formatBytes(speed)}/s` : ''}</td>
    </tr>`;
  }

  private async cancel(): Promise<void> {
    this.confirmCancel = false;
    this.cancelling = true;
    try {
      await this.ctl!.uploader?.cancel();
    } finally {
      this.cancelling = false;
    }
  }
}

/** How a de-identified slide is sent (issue 15): words for lab staff. */
const SEND_MODE_TEXT: Record<NonNullable<SlideEntry['sendMode']>, string> = {
  'zero-copy': 'Sent straight from the original',
  staged: 'Staged copy',
};

customElements.define('wsi-upload-progress', WsiUploadProgress);
