import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api } from '../../api.ts';
import { formatBytes } from '../../format.ts';

/** GET /api/labs/:id/storage (see src/server/routes/storage.ts). */
export interface LabStorageInfo {
  quotaBytes: number | null;
  quotaSource: 'lab' | 'default';
  storedBytes: number;
  inFlightBytes: number;
  availableBytes: number | null;
  disk: { freeBytes: number; totalBytes: number } | null;
}

/**
 * One line for lab admins: how much of the lab's storage quota its scans and uploads in progress
 * take, and the server's free space (the other limit an upload can hit). Read-only: the quota is
 * set through the API (PUT /api/labs/:id/storage).
 */
export class WsiLabStorage extends LitElement {
  static override properties = { labId: { attribute: 'lab-id', type: Number }, info: { state: true }, error: { state: true } };
  static override styles = [sharedStyles, css`:host { display: block; margin-bottom: 0.8rem; } .over { color: var(--wsi-danger, #b42318); }`];
  declare labId: number;
  declare info: LabStorageInfo | null;
  declare error: string;

  constructor() {
    super();
    this.info = null;
    this.error = '';
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('labId') && this.labId) void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.info = await api<LabStorageInfo>(`/api/labs/${this.labId}/storage`);
      this.error = '';
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  override render() {
    if (this.error) return html`<p class="muted">Storage: ${this.error}</p>`;
    const i = this.info;
    if (!i) return nothing;
    const used = i.storedBytes + i.inFlightBytes;
    const quota = i.quotaBytes === null ? 'no quota' : `${formatBytes(used)} of ${formatBytes(i.quotaBytes)} used${i.quotaSource === 'default' ? ' (server default quota)' : ''}`;
    const full = i.availableBytes === 0;
    return html`<p role="status" aria-label="Lab storage">
      <strong>Storage:</strong> <span class=${full ? 'over' : ''}>${i.quotaBytes === null ? `${formatBytes(used)} used, ${quota}` : quota}</span>
      ${i.inFlightBytes > 0 ? html` · ${formatBytes(i.inFlightBytes)} held by uploads in progress` : nothing}
      ${full ? html` · <span class="over">full: new uploads are refused</span>` : nothing}
      ${i.disk ? html` · ${formatBytes(i.disk.freeBytes)} free on the server` : nothing}
    </p>`;
  }
}

customElements.define('wsi-lab-storage', WsiLabStorage);
