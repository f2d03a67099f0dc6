import { LitElement, html, css } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { login, sessionEnded } from '../../state/session.ts';

export class WsiLogin extends LitElement {
  static override properties = { error: { state: true }, busy: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      form { max-width: 360px; margin: 12vh auto; display: grid; gap: 0.8rem; }
      label { display: grid; gap: 0.25rem; font-weight: 500; }
      h1 { font-size: 1.4rem; margin: 0 0 0.5rem; }
    `,
  ];
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.error = '';
    this.busy = false;
  }

  override render() {
    return html`
      <form class="card" @submit=${this.submit}>
        <h1>Sign in to WSI Bulk Import</h1>
        ${sessionEnded() ? html`<p role="status">Your session has ended. Sign in again to continue where you left off.</p>` : ''}
        <label>Username <input name="username" type="text" autocomplete="username" required /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
        <button class="primary" type="submit" ?disabled=${this.busy}>Sign in</button>
      </form>
    `;
  }

  private async submit(e: SubmitEvent) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.error = '';
    try {
      await login(String(data.get('username')), String(data.get('password')));
      this.dispatchEvent(new CustomEvent('signed-in', { bubbles: true, composed: true }));
    } catch (err) {
      this.error = err instanceof Error && err.message.includes('401') ? 'Wrong username or password.' : err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-login', WsiLogin);
