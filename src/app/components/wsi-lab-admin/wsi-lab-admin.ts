import { LitElement, html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type LabSummary } from '../../api.ts';
import { currentUser, loadMe } from '../../state/session.ts';
import { labAdminStyles } from './wsi-lab-admin.styles.ts';
import '../wsi-lab-members/wsi-lab-members.ts';
import '../wsi-lab-storage/wsi-lab-storage.ts';

type Tab = 'members' | 'features';
const tabs: { id: Tab; label: string }[] = [
  { id: 'members', label: 'Members' },
  { id: 'features', label: 'Features' },
];

/**
 * The administration of one lab, for its lab admins (and platform admins, for any lab): storage
 * use at the top, then tabs for its members and its features (the Bulk Import switch).
 */
export class WsiLabAdmin extends LitElement {
  static override properties = {
    labId: { attribute: 'lab-id', type: Number },
    tab: { state: true },
    lab: { state: true },
    error: { state: true },
    notice: { state: true },
    busy: { state: true },
  };
  static override styles = [sharedStyles, labAdminStyles];
  declare labId: number;
  declare tab: Tab;
  declare lab: { name: string; features: string[] } | null;
  declare error: string;
  declare notice: string;
  declare busy: boolean;

  constructor() {
    super();
    this.tab = 'members';
    this.lab = null;
    this.error = '';
    this.notice = '';
    this.busy = false;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('labId') && this.labId) void this.load();
  }

  /** The lab's name and flags: from who-am-I for one's own labs, else from the platform admin's lab list. */
  private async load(): Promise<void> {
    const mine = currentUser()?.labs.find((l) => l.id === this.labId);
    if (mine) {
      this.lab = { name: mine.name, features: mine.features };
      return;
    }
    try {
      const { labs } = await api<{ labs: LabSummary[] }>('/api/labs');
      const found = labs.find((l) => l.id === this.labId);
      if (found) this.lab = { name: found.name, features: found.features };
      else this.error = 'This lab does not exist.';
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  override render() {
    return html`
      <h2 class="page">Lab admin${this.lab ? html` · ${this.lab.name}` : nothing}</h2>
      <wsi-lab-storage lab-id=${this.labId}></wsi-lab-storage>
      <div role="tablist" aria-label="Lab administration" @keydown=${this.onTabKey}>
        ${tabs.map(
          (t) => html`<button role="tab" id="tab-${t.id}" aria-controls="panel-${t.id}" aria-selected=${this.tab === t.id ? 'true' : 'false'}
            tabindex=${this.tab === t.id ? 0 : -1} @click=${() => (this.tab = t.id)}>${t.label}</button>`,
        )}
      </div>
      <div role="tabpanel" id="panel-${this.tab}" aria-labelledby="tab-${this.tab}">
        ${this.tab === 'members' ? html`<wsi-lab-members lab-id=${this.labId}></wsi-lab-members>` : this.features()}
      </div>
    `;
  }

  private features() {
    if (!this.lab) return this.error ? html`<p class="error" role="alert">${this.error}</p>` : html`<p class="muted">Loading…</p>`;
    const on = this.lab.features.includes('bulk-import');
    return html`
      <h2>Features</h2>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="ok" role="status">${this.notice}</p>` : nothing}
      <label class="switch">
        <input type="checkbox" role="switch" aria-describedby="bulk-import-help" .checked=${on} ?disabled=${this.busy}
          @change=${(e: Event) => this.setBulkImport((e.target as HTMLInputElement).checked)} />
        <strong>Bulk Import</strong>
      </label>
      <p id="bulk-import-help" class="muted">Lab users and lab admins can de-identify slides on their PC and upload them. Viewers never can.</p>
    `;
  }

  private async setBulkImport(on: boolean): Promise<void> {
    if (!this.lab) return;
    this.busy = true;
    this.error = '';
    this.notice = '';
    try {
      const features = on ? [...new Set([...this.lab.features, 'bulk-import'])] : this.lab.features.filter((f) => f !== 'bulk-import');
      const r = await api<{ features: string[] }>(`/api/labs/${this.labId}/features`, { method: 'PUT', body: { features } });
      this.lab = { ...this.lab, features: r.features };
      this.notice = on ? 'Bulk Import is on for this lab.' : 'Bulk Import is off for this lab.';
      // The menu (Bulk Import) follows when it is the lab one works in.
      if (currentUser()?.labs.some((l) => l.id === this.labId)) await loadMe();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }

  /** Arrow keys, Home and End move between tabs (the WAI-ARIA tabs pattern). */
  private onTabKey(e: KeyboardEvent): void {
    const i = tabs.findIndex((t) => t.id === this.tab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    this.tab = tabs[(next + tabs.length) % tabs.length].id;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${this.tab}`)?.focus());
  }
}

customElements.define('wsi-lab-admin', WsiLabAdmin);
