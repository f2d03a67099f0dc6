import { LitElement, html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { createApiToken, listApiTokens, revokeApiToken, type ApiToken, type NewApiToken } from '../../api.ts';
import { apiTokensStyles } from './wsi-api-tokens.styles.ts';

const when = (iso: string) => new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/**
 * The Account page's "API tokens for automated uploads": a lab user makes a token for a scheduled
 * job on a PC (`wsi-import upload --token-file`), sees it once, and revokes it when the PC or job
 * goes. A token uploads to and reads the lab it was made in. `can-create`: the user may import in
 * the lab they are working in (the server checks the same).
 */
export class WsiApiTokens extends LitElement {
  static override properties = {
    canCreate: { type: Boolean, attribute: 'can-create' },
    labName: { attribute: 'lab-name' },
    tokens: { state: true },
    made: { state: true },
    copied: { state: true },
    confirming: { state: true },
    error: { state: true },
    message: { state: true },
    busy: { state: true },
  };
  static override styles = [sharedStyles, apiTokensStyles];
  declare canCreate: boolean;
  declare labName: string;
  declare tokens: ApiToken[] | null;
  declare made: NewApiToken | null;
  declare copied: 'yes' | 'no' | '';
  /** The id of the token whose revocation is being confirmed; 0 = none. */
  declare confirming: number;
  declare error: string;
  declare message: string;
  declare busy: boolean;

  constructor() {
    super();
    this.canCreate = false;
    this.labName = '';
    this.tokens = null;
    this.made = null;
    this.copied = '';
    this.confirming = 0;
    this.error = '';
    this.message = '';
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load() {
    try {
      this.tokens = await listApiTokens();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
  }

  override render() {
    return html`<section aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens for automated uploads</h2>
      <p class="muted">A token lets a script on a lab PC upload slides and read scans in your name, without your password. It works only in the lab it was made in.</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.made ? this.madeCard(this.made) : nothing}
      ${this.canCreate
        ? html`<form @submit=${this.create}>
            <label>Token name <input name="name" type="text" required maxlength="100" placeholder="Scanner PC, nightly import" autocomplete="off" /></label>
            <button class="primary" type="submit" ?disabled=${this.busy}>Create token${this.labName ? ` for ${this.labName}` : ''}</button>
          </form>`
        : html`<p class="muted">You can create a token while working in a lab where you may import slides.</p>`}
      ${this.list()}
    </section>`;
  }

  private madeCard(t: NewApiToken) {
    return html`<div class="made" role="region" aria-label="New API token">
      <p>Token <strong>${t.name}</strong> for ${t.labName}:</p>
      <p class="secret">
        <code aria-label="API token">${t.token}</code>
        <button @click=${() => void this.copy(t.token)}>Copy</button>
        ${this.copied === 'yes' ? html`<span class="ok" role="status">Copied.</span>` : nothing}
        ${this.copied === 'no' ? html`<span class="muted" role="status">Could not copy: select the token and copy it.</span>` : nothing}
      </p>
      <p>Copy it now: it is not shown again. Use it with wsi-import upload --token-file.</p>
      <button @click=${() => { this.made = null; this.copied = ''; }}>Done</button>
    </div>`;
  }

  private list() {
    const tokens = this.tokens;
    if (tokens === null) return html`<p class="muted">Loading…</p>`;
    if (tokens.length === 0) return html`<p class="muted">No API tokens.</p>`;
    return html`<table>
      <thead><tr><th>Name</th><th>Lab</th><th>Created</th><th>Last used</th><th><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${tokens.map((t) => html`<tr>
          <td>${t.name}</td>
          <td>${t.labName}</td>
          <td>${when(t.createdAt)}</td>
          <td>${t.lastUsedAt ? when(t.lastUsedAt) : html`<span class="muted">Never</span>`}</td>
          <td class="row-actions">
            ${this.confirming === t.id
              ? html`<span>Revoke ${t.name}? Scripts using it stop working.</span>
                  <button class="danger" ?disabled=${this.busy} @click=${() => void this.revoke(t)}>Yes, revoke</button>
                  <button @click=${() => (this.confirming = 0)}>Cancel</button>`
              : html`<button class="danger" ?disabled=${this.busy} aria-label="Revoke ${t.name}" @click=${() => (this.confirming = t.id)}>Revoke</button>`}
          </td>
        </tr>`)}
      </tbody>
    </table>`;
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const name = String(new FormData(form).get('name') ?? '').trim();
    if (!name) return;
    await this.run(async () => {
      this.made = await createApiToken(name);
      this.copied = '';
      form.reset();
    });
  }

  private async revoke(t: ApiToken) {
    await this.run(async () => {
      await revokeApiToken(t.id);
      this.confirming = 0;
      this.message = `Token ${t.name} revoked.`;
    });
  }

  /** One request, then the list as the server has it. */
  private async run(action: () => Promise<void>) {
    this.busy = true;
    this.error = '';
    this.message = '';
    try {
      await action();
      this.tokens = await listApiTokens();
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }

  private async copy(token: string) {
    try {
      await navigator.clipboard.writeText(token);
      this.copied = 'yes';
    } catch {
      // No clipboard permission: the text is selectable.
      this.copied = 'no';
    }
  }
}

customElements.define('wsi-api-tokens', WsiApiTokens);
