import { LitElement, html, css } from 'lit';
import { SlideError } from '../../../shared/errors.ts';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { login, sessionEnded } from '../../state/session.ts';
import { OnlineStatus, serverReachable } from '../../state/online.ts';

export class WsiLogin extends LitElement {
  static override properties = { error: { state: true }, busy: { state: true }, unreachable: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      form { max-width: 360px; margin: 12vh auto; display: grid; gap: 0.8rem; }
      label { display: grid; gap: 0.25rem; font-weight: 500; }
      h1 { font-size: 1.4rem; margin: 0 0 0.5rem; }
      .offline { margin: 0; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.6rem 0.8rem; }
    `,
  ];
  declare error: string;
  declare busy: boolean;
  /** The server did not answer (the installed app may have started offline). */
  declare unreachable: boolean;
  private readonly network = new OnlineStatus(this);

  constructor() {
    super();
    this.error = '';
    this.busy = false;
    this.unreachable = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.probe();
    addEventListener('online', this.probe);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('online', this.probe);
  }

  /** navigator.onLine can say "online" with no way to the server: ask the server too. */
  private readonly probe = async (): Promise<void> => {
    this.unreachable = !(await serverReachable());
  };

  private offlineNotice() {
    if (this.network.online && !this.unreachable) return '';
    return html`<p class="offline" role="status"><strong>You are offline:</strong> sign-in needs the server, and it cannot be reached
      from this computer now. Check the network connection, then sign in.</p>`;
  }

  override render() {
    return html`
      <form class="card" @submit=${this.submit}>
        <h1>Sign in to WSI Bulk Import</h1>
        ${this.offlineNotice()}
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
      this.unreachable = false;
      this.dispatchEvent(new CustomEvent('signed-in', { bubbles: true, composed: true }));
    } catch (err) {
      // No answer at all: the offline notice says why, rather than a bare network error.
      if (err instanceof SlideError && err.code === 'NETWORK') {
        this.unreachable = true;
        return;
      }
      this.error = err instanceof Error && err.message.includes('401') ? 'Wrong username or password.' : err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-login', WsiLogin);
