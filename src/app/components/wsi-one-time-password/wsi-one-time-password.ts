import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';

/**
 * A one-time password the server just made (new account, reset, a new lab's first admin): shown
 * only now, with a copy button, to be handed to the person. The server never shows it again, so
 * the card stays until the admin presses Done (event `done`).
 */
export class WsiOneTimePassword extends LitElement {
  static override properties = {
    username: {},
    password: {},
    expiresAt: { attribute: 'expires-at' },
    heading: {},
    copied: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host { margin-bottom: 1rem; }
      .card { border-color: var(--wsi-primary, #1f4e79); border-width: 2px; }
      .secret { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
      code { font-family: ui-monospace, monospace; font-size: 1.15rem; user-select: all; padding: 0.2rem 0.4rem; background: #f6f8fa; border-radius: 4px; }
      p { margin: 0.4rem 0; }
      h3 { font-size: 1.1rem; margin: 0 0 0.4rem; }
    `,
  ];
  declare username: string;
  declare password: string;
  declare expiresAt: string;
  declare heading: string;
  declare copied: 'yes' | 'no' | '';

  constructor() {
    super();
    this.username = '';
    this.password = '';
    this.expiresAt = '';
    this.heading = 'One-time password';
    this.copied = '';
  }

  override render() {
    return html`<div class="card" role="region" aria-label=${this.heading}>
      <h3>${this.heading}</h3>
      <p>One-time password for <strong>${this.username}</strong>. It is shown only now; it works for one sign-in until ${new Date(this.expiresAt).toLocaleString()}.</p>
      <p class="secret">
        <code aria-label="One-time password">${this.password}</code>
        <button @click=${this.copy}>Copy</button>
        ${this.copied === 'yes' ? html`<span class="ok" role="status">Copied.</span>` : nothing}
        ${this.copied === 'no' ? html`<span class="muted" role="status">Could not copy: select the password and copy it.</span>` : nothing}
      </p>
      <p class="muted">Give it to the user in person. When they sign in with it, they choose their own password.</p>
      <button class="primary" @click=${() => this.dispatchEvent(new Event('done'))}>Done</button>
    </div>`;
  }

  private async copy() {
    try {
      await navigator.clipboard.writeText(this.password);
      this.copied = 'yes';
    } catch {
      // No clipboard permission (an insecure origin, a locked-down browser): the text is selectable.
      this.copied = 'no';
    }
  }
}

customElements.define('wsi-one-time-password', WsiOneTimePassword);
