import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { api, type Invitation, type Me } from '../../api.ts';
import { currentUser, loadMe, onSessionChange } from '../../state/session.ts';
import '../wsi-api-tokens/wsi-api-tokens.ts';

const roleNames = { 'lab-admin': 'Lab admin', 'lab-user': 'Lab user', viewer: 'Viewer' } as const;

/**
 * The signed-in user's account: the lab they work in (switch), invitations to other labs (accept /
 * decline), API tokens for automated uploads (wsi-api-tokens), and their password. With `forced`, only the password form: the user signed in with a
 * reset's temporary password and may do nothing else until they choose their own.
 */
export class WsiAccount extends LitElement {
  static override properties = {
    forced: { type: Boolean },
    me: { state: true },
    invitations: { state: true },
    error: { state: true },
    passwordError: { state: true },
    passwordDone: { state: true },
    busy: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      section { margin-bottom: 1.2rem; }
      h2 { font-size: 1.15rem; margin: 0 0 0.6rem; }
      form { display: grid; gap: 0.6rem; max-width: 360px; }
      label { display: grid; gap: 0.25rem; font-weight: 500; }
      .row-actions { display: flex; gap: 0.4rem; }
      .current { font-weight: 600; }
    `,
  ];
  declare forced: boolean;
  declare me: Me | null;
  declare invitations: Invitation[] | null;
  declare error: string;
  declare passwordError: string;
  declare passwordDone: boolean;
  declare busy: boolean;
  private unsubscribe?: () => void;

  constructor() {
    super();
    this.forced = false;
    this.me = currentUser();
    this.invitations = null;
    this.error = '';
    this.passwordError = '';
    this.passwordDone = false;
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe = onSessionChange((m) => (this.me = m));
    if (!this.forced) void this.loadInvitations();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private async loadInvitations() {
    try {
      this.invitations = (await api<{ invitations: Invitation[] }>('/api/me/invitations')).invitations;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Run one request, show its error, refresh who-am-I (labs, pending count) and the invitations. */
  private async act(run: () => Promise<unknown>) {
    this.busy = true;
    this.error = '';
    try {
      await run();
      await loadMe();
      await this.loadInvitations();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    if (this.forced) {
      return html`<div class="card" style="max-width: 420px; margin: 8vh auto">
        <h2>Choose a new password</h2>
        <p>You signed in with a one-time password from an administrator (a new account, or a reset). Choose your own password to continue.</p>
        ${this.passwordForm('One-time password')}
      </div>`;
    }
    const me = this.me;
    if (!me) return nothing;
    return html`
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <section>
        <h2>Your labs</h2>
        ${me.currentLabId === null && me.labs.length > 1 ? html`<p role="status">Choose the lab you are working in. Uploads go to this lab.</p>` : nothing}
        ${me.labs.length === 0
          ? html`<p class="muted">You are not a member of any lab yet.</p>`
          : html`<table>
              <thead><tr><th>Lab</th><th>Your role</th><th></th></tr></thead>
              <tbody>
                ${me.labs.map(
                  (l) => html`<tr>
                    <td class=${l.id === me.currentLabId ? 'current' : ''}>${l.name}</td>
                    <td>${roleNames[l.role]}</td>
                    <td>${l.id === me.currentLabId
                      ? html`<span class="muted">Working here</span>`
                      : html`<button ?disabled=${this.busy} @click=${() => this.act(() => api('/api/me/lab', { body: { labId: l.id } }))}>Work in ${l.name}</button>`}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
      </section>
      <section>
        <h2>Invitations</h2>
        ${this.invitations === null
          ? html`<p class="muted">Loading…</p>`
          : this.invitations.length === 0
            ? html`<p class="muted">No invitations.</p>`
            : html`<table>
                <thead><tr><th>Lab</th><th>Role</th><th>Invited by</th><th></th></tr></thead>
                <tbody>
                  ${this.invitations.map(
                    (i) => html`<tr>
                      <td>${i.lab.name}</td>
                      <td>${roleNames[i.role]}</td>
                      <td>${i.invitedBy ?? ''}</td>
                      <td class="row-actions">
                        <button class="primary" ?disabled=${this.busy} @click=${() => this.act(() => api(`/api/me/invitations/${i.id}/accept`, { body: {} }))}>Accept</button>
                        <button ?disabled=${this.busy} @click=${() => this.act(() => api(`/api/me/invitations/${i.id}/decline`, { body: {} }))}>Decline</button>
                      </td>
                    </tr>`,
                  )}
                </tbody>
              </table>`}
      </section>
      <wsi-api-tokens ?can-create=${me.canImport} lab-name=${me.labs.find((l) => l.id === me.currentLabId)?.name ?? ''}></wsi-api-tokens>
      <section>
        <h2>Change password</h2>
        ${this.passwordForm('Current password')}
      </section>
    `;
  }

  private passwordForm(currentLabel: string) {
    return html`<form @submit=${this.changePassword}>
      <label>${currentLabel} <input name="currentPassword" type="password" autocomplete="current-password" required /></label>
      <label>New password <input name="newPassword" type="password" autocomplete="new-password" required /></label>
      <label>New password again <input name="confirm" type="password" autocomplete="new-password" required /></label>
      <p class="muted">At least 12 characters, or a passphrase of 4 or more words. Common passwords are refused.</p>
      ${this.passwordError ? html`<p class="error" role="alert">${this.passwordError}</p>` : nothing}
      ${this.passwordDone ? html`<p class="ok" role="status">Password changed. You were signed out everywhere else.</p>` : nothing}
      <button class="primary" type="submit" ?disabled=${this.busy}>Change password</button>
    </form>`;
  }

  private async changePassword(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    this.passwordError = '';
    this.passwordDone = false;
    if (data.get('newPassword') !== data.get('confirm')) {
      this.passwordError = 'The two new passwords differ.';
      return;
    }
    this.busy = true;
    try {
      await api('/api/me/password', { body: { currentPassword: String(data.get('currentPassword')), newPassword: String(data.get('newPassword')) } });
      form.reset();
      this.passwordDone = true;
      // The forced screen goes away once who-am-I says the password is the user's own again.
      await loadMe();
    } catch (err) {
      this.passwordError = err instanceof Error ? err.message.replace(/^./, (c) => c.toUpperCase()) : String(err);
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-account', WsiAccount);
