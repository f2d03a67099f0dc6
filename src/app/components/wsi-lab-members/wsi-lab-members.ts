import { LitElement, html, css, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type Invitation, type LabMember, type Role } from '../../api.ts';
import { currentUser } from '../../state/session.ts';
import '../wsi-one-time-password/wsi-one-time-password.ts';

const roleNames: Record<Role, string> = { 'lab-admin': 'Lab admin', 'lab-user': 'Lab user', viewer: 'Viewer' };
const roleOptions = (selected: Role) => (Object.keys(roleNames) as Role[]).map((r) => html`<option value=${r} ?selected=${r === selected}>${roleNames[r]}</option>`);

/** A one-time password just issued (reset or new account): shown once, to be handed to the user in person. */
interface IssuedReset {
  username: string;
  temporaryPassword: string;
  expiresAt: string;
  heading: string;
}

/**
 * Members of one lab, for its lab admins (and platform admins): change roles, deactivate and
 * reactivate accounts, remove members, issue a one-time password reset, invite people who already
 * have an account, create new accounts (with a one-time password, or one the admin sets). The
 * server enforces every rule (e.g. the last lab admin stays); this page shows its answers.
 */
export class WsiLabMembers extends LitElement {
  static override properties = {
    labId: { attribute: 'lab-id', type: Number },
    members: { state: true },
    invitations: { state: true },
    error: { state: true },
    notice: { state: true },
    confirming: { state: true },
    issued: { state: true },
    busy: { state: true },
    setPassword: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      section { margin-bottom: 1.2rem; }
      h2 { font-size: 1.15rem; margin: 0 0 0.6rem; }
      form { display: flex; gap: 0.5rem; align-items: end; flex-wrap: wrap; }
      label { display: grid; gap: 0.2rem; }
      select { font: inherit; padding: 0.35rem; border-radius: 6px; border: 1px solid var(--wsi-border, #d0d7de); }
      .row-actions { display: flex; gap: 0.4rem; flex-wrap: wrap; }
      fieldset { border: 1px solid var(--wsi-border, #d0d7de); border-radius: 6px; display: flex; gap: 0.8rem; flex-wrap: wrap; }
      fieldset label { display: flex; gap: 0.3rem; align-items: center; }
      tr.deactivated td:first-child, tr.deactivated td:nth-child(2) { color: var(--wsi-muted, #57606a); }
    `,
  ];
  declare labId: number;
  declare members: LabMember[] | null;
  declare invitations: Invitation[] | null;
  declare error: string;
  declare notice: string;
  /** "remove:<id>" or "reset:<id>" while a confirmation is open. */
  declare confirming: string;
  declare issued: IssuedReset | null;
  declare busy: boolean;
  /** New account: the admin types a password (else the server makes a one-time password). */
  declare setPassword: boolean;

  constructor() {
    super();
    this.members = null;
    this.invitations = null;
    this.error = '';
    this.notice = '';
    this.confirming = '';
    this.issued = null;
    this.busy = false;
    this.setPassword = false;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('labId') && this.labId) void this.load();
  }

  private async load() {
    try {
      const [m, i] = await Promise.all([
        api<{ users: LabMember[] }>(`/api/labs/${this.labId}/users`),
        api<{ invitations: Invitation[] }>(`/api/labs/${this.labId}/invitations`),
      ]);
      this.members = m.users;
      this.invitations = i.invitations;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  private async act(run: () => Promise<unknown>, notice = '') {
    this.busy = true;
    this.error = '';
    this.notice = '';
    try {
      await run();
      this.notice = notice;
      this.confirming = '';
      await this.load();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.error = msg.replace(/^./, (c) => c.toUpperCase());
      // A refused change (e.g. the last lab admin) leaves the table as the server has it.
      await this.load();
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const me = currentUser();
    return html`
      <h2>Members</h2>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.notice ? html`<p class="ok" role="status">${this.notice}</p>` : nothing}
      ${this.issued
        ? html`<wsi-one-time-password .heading=${this.issued.heading} .username=${this.issued.username} .password=${this.issued.temporaryPassword}
            .expiresAt=${this.issued.expiresAt} @done=${() => (this.issued = null)}></wsi-one-time-password>`
        : nothing}
      <section>
        ${this.members === null
          ? html`<p class="muted">Loading…</p>`
          : html`<table>
              <thead><tr><th>User</th><th>Name</th><th>Role</th><th>Status</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>${this.members.map((m) => this.memberRow(m, m.id === me?.user.id))}</tbody>
            </table>`}
      </section>
      <section>
        <h2>Invitations</h2>
        <p class="muted">To add someone who already has an account (for example in another lab), invite them: they join once they accept.</p>
        <form @submit=${this.invite}>
          <label>Username <input name="username" type="text" required autocomplete="off" /></label>
          <label>Role <select name="role">${roleOptions('lab-user')}</select></label>
          <button type="submit" ?disabled=${this.busy}>Invite</button>
        </form>
        ${this.invitations && this.invitations.length > 0
          ? html`<table>
              <thead><tr><th>Username</th><th>Role</th><th>Expires</th><th></th></tr></thead>
              <tbody>${this.invitations.map(
                (i) => html`<tr>
                  <td>${i.username}</td><td>${roleNames[i.role]}</td><td>${new Date(i.expiresAt).toLocaleDateString()}</td>
                  <td><button ?disabled=${this.busy} @click=${() => this.act(() => api(`/api/labs/${this.labId}/invitations/${i.id}`, { method: 'DELETE' }), 'Invitation withdrawn.')}>Withdraw</button></td>
                </tr>`,
              )}</tbody>
            </table>`
          : nothing}
      </section>
      <section>
        <h2>New account</h2>
        <form @submit=${this.create}>
          <label>Username <input name="username" type="text" required autocomplete="off" /></label>
          <label>Name <input name="displayName" type="text" autocomplete="off" /></label>
          <label>Role <select name="role">${roleOptions('lab-user')}</select></label>
          <fieldset>
            <legend>Password</legend>
            <label><input type="radio" name="passwordKind" value="one-time" .checked=${live(!this.setPassword)} @change=${() => (this.setPassword = false)} /> One-time password</label>
            <label><input type="radio" name="passwordKind" value="set" .checked=${live(this.setPassword)} @change=${() => (this.setPassword = true)} /> Set a password</label>
          </fieldset>
          ${this.setPassword ? html`<label>New password <input name="password" type="password" required autocomplete="new-password" /></label>` : nothing}
          <button type="submit" ?disabled=${this.busy}>Create account</button>
        </form>
        <p class="muted">${this.setPassword
          ? 'Passwords: at least 12 characters, or a passphrase of 4 or more words; common passwords are refused.'
          : 'The one-time password is shown once, here. The user signs in with it and then chooses their own password.'}</p>
      </section>
    `;
  }

  private memberRow(m: LabMember, self: boolean) {
    const confirm = this.confirming;
    const deactivated = !!m.deactivatedAt;
    return html`<tr data-user=${m.username} class=${deactivated ? 'deactivated' : ''}>
      <td>${m.username}${self ? html` <span class="muted">(you)</span>` : nothing}</td>
      <td>${m.displayName}</td>
      <td>
        <select aria-label="Role of ${m.username}" ?disabled=${this.busy} .value=${live(m.role)}
          @change=${(e: Event) => this.act(() => api(`/api/labs/${this.labId}/users/${m.id}`, { method: 'PUT', body: { role: (e.target as HTMLSelectElement).value } }), `Role of ${m.username} changed.`)}>
          ${roleOptions(m.role)}
        </select>
      </td>
      <td>${deactivated ? html`<span class="muted">Deactivated</span>` : 'Active'}</td>
      <td class="row-actions">
        ${confirm === `deactivate:${m.id}`
          ? html`<span>Deactivate ${m.username}? They are signed out now and cannot sign in until reactivated.</span>
              <button class="danger" @click=${() => this.setActive(m, false)}>Yes, deactivate</button>
              <button @click=${() => (this.confirming = '')}>Cancel</button>`
          : confirm === `remove:${m.id}`
          ? html`<span>Remove ${m.username} from the lab?</span>
              <button class="danger" @click=${() => this.act(() => api(`/api/labs/${this.labId}/users/${m.id}`, { method: 'DELETE' }), `${m.username} removed.`)}>Yes, remove</button>
              <button @click=${() => (this.confirming = '')}>Cancel</button>`
          : confirm === `reset:${m.id}`
            ? html`<span>Reset the password of ${m.username}? Their current password stops working.</span>
                <button class="danger" @click=${() => this.reset(m)}>Yes, reset</button>
                <button @click=${() => (this.confirming = '')}>Cancel</button>`
            : html`<button class="danger" ?disabled=${this.busy} @click=${() => (this.confirming = `remove:${m.id}`)}>Remove</button>
                ${self ? nothing : html`<button ?disabled=${this.busy} @click=${() => (this.confirming = `reset:${m.id}`)}>Reset password</button>`}
                ${self
                  ? nothing
                  : deactivated
                    ? html`<button ?disabled=${this.busy} @click=${() => this.setActive(m, true)}>Reactivate</button>`
                    : html`<button class="danger" ?disabled=${this.busy} @click=${() => (this.confirming = `deactivate:${m.id}`)}>Deactivate</button>`}`}
      </td>
    </tr>`;
  }

  private async reset(m: LabMember) {
    await this.act(async () => {
      const r = await api<{ temporaryPassword: string; expiresAt: string }>(`/api/labs/${this.labId}/users/${m.id}/password-reset`, { body: {} });
      this.issued = { username: m.username, heading: 'Password reset', ...r };
    });
  }

  private async setActive(m: LabMember, active: boolean) {
    await this.act(
      () => api(`/api/labs/${this.labId}/users/${m.id}/status`, { method: 'PUT', body: { active } }),
      active ? `${m.username} can sign in again.` : `${m.username} is deactivated and signed out.`,
    );
  }

  private async invite(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get('username')).trim();
    await this.act(async () => {
      await api(`/api/labs/${this.labId}/invitations`, { body: { username, role: data.get('role') } });
      form.reset();
    }, `Invitation for ${username} recorded. If an account has this name, its user sees the invitation after signing in.`);
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get('username')).trim();
    const displayName = String(data.get('displayName') ?? '').trim();
    const secret = this.setPassword ? { password: String(data.get('password')) } : { oneTimePassword: true };
    await this.act(async () => {
      const r = await api<{ temporaryPassword?: string; expiresAt?: string }>(`/api/labs/${this.labId}/users`, {
        body: { username, role: data.get('role'), ...secret, ...(displayName ? { displayName } : {}) },
      });
      if (r.temporaryPassword && r.expiresAt) this.issued = { username, heading: 'New account', temporaryPassword: r.temporaryPassword, expiresAt: r.expiresAt };
      form.reset();
    }, `Account ${username} created.`);
  }
}

customElements.define('wsi-lab-members', WsiLabMembers);
