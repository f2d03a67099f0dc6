import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type LabSummary } from '../../api.ts';
import { currentUser, loadMe } from '../../state/session.ts';
import '../wsi-one-time-password/wsi-one-time-password.ts';

interface CreatedLab {
  lab: LabSummary;
  admin?: { user: { username: string }; temporaryPassword: string; expiresAt: string };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Every lab, for platform admins: members, the Bulk Import switch per lab, a link to administer
 * each, and a form that creates a lab with its first lab admin (a new account whose one-time
 * password is shown once, here).
 */
export class WsiPlatformLabs extends LitElement {
  static override properties = {
    labs: { state: true },
    error: { state: true },
    notice: { state: true },
    busy: { state: true },
    created: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      section { margin-bottom: 1.4rem; }
      h2 { font-size: 1.4rem; margin: 0 0 0.6rem; }
      h3 { font-size: 1.15rem; margin: 0 0 0.6rem; }
      form { display: flex; gap: 0.5rem; align-items: end; flex-wrap: wrap; }
      label { display: grid; gap: 0.2rem; }
      label.inline { display: flex; gap: 0.35rem; align-items: center; align-self: center; }
      td input[type='checkbox'] { width: 1.1rem; height: 1.1rem; }
    `,
  ];
  declare labs: LabSummary[] | null;
  declare error: string;
  declare notice: string;
  declare busy: boolean;
  declare created: CreatedLab | null;

  constructor() {
    super();
    this.labs = null;
    this.error = '';
    this.notice = '';
    this.busy = false;
    this.created = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.labs = (await api<{ labs: LabSummary[] }>('/api/labs')).labs;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  private async act(run: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = '';
    this.notice = '';
    try {
      await run();
    } catch (e) {
      this.error = e instanceof Error ? e.message.replace(/^./, (c) => c.toUpperCase()) : String(e);
    } finally {
      this.busy = false;
      await this.load();
    }
  }

  override render() {
    return html`
      <h2>Labs</h2>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="ok" role="status">${this.notice}</p>` : nothing}
      ${this.created?.admin
        ? html`<wsi-one-time-password heading="New lab: ${this.created.lab.name}" .username=${this.created.admin.user.username}
            .password=${this.created.admin.temporaryPassword} .expiresAt=${this.created.admin.expiresAt} @done=${() => (this.created = null)}></wsi-one-time-password>`
        : nothing}
      <section>
        ${this.labs === null
          ? html`<p class="muted">Loading…</p>`
          : html`<table>
              <thead><tr><th>Lab</th><th>Members</th><th>Bulk Import</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>${this.labs.map(
                (l) => html`<tr data-lab=${l.name}>
                  <td>${l.name}</td>
                  <td>${plural(l.members, 'member', 'members')}</td>
                  <td><input type="checkbox" role="switch" aria-label="Bulk Import in ${l.name}" .checked=${l.features.includes('bulk-import')}
                    ?disabled=${this.busy} @change=${(e: Event) => this.setBulkImport(l, (e.target as HTMLInputElement).checked)} /></td>
                  <td><a href="/labs/${l.id}">Administer ${l.name}</a></td>
                </tr>`,
              )}</tbody>
            </table>`}
      </section>
      <section>
        <h3>New lab</h3>
        <form @submit=${this.create}>
          <label>Lab name <input name="name" type="text" required autocomplete="off" maxlength="100" /></label>
          <label>First lab admin's username <input name="username" type="text" required autocomplete="off" maxlength="64" /></label>
          <label>Their name <input name="displayName" type="text" autocomplete="off" maxlength="100" /></label>
          <label class="inline"><input name="bulkImport" type="checkbox" checked /> Bulk Import on</label>
          <button class="primary" type="submit" ?disabled=${this.busy}>Create lab</button>
        </form>
        <p class="muted">The first lab admin is a new account with a one-time password, shown once here. They choose their own password when they sign in, then add their lab's users.</p>
      </section>
    `;
  }

  private async setBulkImport(lab: LabSummary, on: boolean): Promise<void> {
    await this.act(async () => {
      const features = on ? [...new Set([...lab.features, 'bulk-import'])] : lab.features.filter((f) => f !== 'bulk-import');
      await api(`/api/labs/${lab.id}/features`, { method: 'PUT', body: { features } });
      this.notice = `Bulk Import is ${on ? 'on' : 'off'} in ${lab.name}.`;
      if (currentUser()?.labs.some((l) => l.id === lab.id)) await loadMe();
    });
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name')).trim();
    const username = String(data.get('username')).trim();
    const displayName = String(data.get('displayName') ?? '').trim();
    await this.act(async () => {
      this.created = await api<CreatedLab>('/api/labs', {
        body: { name, features: data.get('bulkImport') ? ['bulk-import'] : [], admin: { username, ...(displayName ? { displayName } : {}) } },
      });
      this.notice = `Lab ${name} created with ${username} as its lab admin.`;
      form.reset();
    });
  }
}

customElements.define('wsi-platform-labs', WsiPlatformLabs);
