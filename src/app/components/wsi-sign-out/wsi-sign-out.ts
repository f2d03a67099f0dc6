import { LitElement, html, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { STEP_TITLES, type BatchRecord } from '../../state/batch-store.ts';
import { currentUser, logout } from '../../state/session.ts';
import { navigate } from '../../router.ts';
import { endImportSession, unfinishedBatch } from '../wsi-bulk-import/import-session.ts';
import { signOutStyles } from './wsi-sign-out.styles.ts';

/**
 * The header's "Sign out". On a shared lab PC the next person signs in on the same browser, so an
 * unfinished import batch is not left to chance: the user chooses to keep it for themselves (only
 * they get it back, at their next sign-in) or to discard it (nothing of it stays on this PC).
 */
export class WsiSignOut extends LitElement {
  static override properties = { pending: { state: true }, busy: { state: true }, error: { state: true } };
  static override styles = [sharedStyles, signOutStyles];
  declare pending: BatchRecord | undefined;
  declare busy: boolean;
  declare error: string;

  constructor() {
    super();
    this.pending = undefined;
    this.busy = false;
    this.error = '';
  }

  override render() {
    const b = this.pending;
    return html`
      <button class="header" ?disabled=${this.busy} @click=${() => void this.start()}>Sign out</button>
      <dialog aria-labelledby="sign-out-title" @close=${() => (this.pending = undefined)}>
        ${b ? this.question(b) : nothing}
      </dialog>
    `;
  }

  private question(b: BatchRecord) {
    const n = b.slides.length;
    const where = b.uploadStarted ? 'its upload is not finished' : `it is at step ${b.step}, ${STEP_TITLES[b.step]}`;
    return html`
      <h2 id="sign-out-title">Your import is not finished</h2>
      <p>Your batch of ${n} slide${n === 1 ? '' : 's'} is still open: ${where}. What should happen to it?</p>
      <div class="choices">
        <div class="choice">
          <button class="primary" ?disabled=${this.busy} @click=${() => void this.finish('keep')}>Keep it for me</button>
          <p class="muted">Only you get it back, when you sign in again on this computer. Uploads stop until then.</p>
        </div>
        <div class="choice">
          <button class="danger" ?disabled=${this.busy} @click=${() => void this.finish('discard')}>Discard it</button>
          <p class="muted">Its file list, metadata values and de-identified copies are removed from this computer, and unfinished uploads from the server. Slides already uploaded stay on the server.</p>
        </div>
      </div>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <div class="footer"><button ?disabled=${this.busy} @click=${() => this.dialog()?.close()}>Cancel, stay signed in</button></div>
    `;
  }

  private dialog(): HTMLDialogElement | null {
    return this.renderRoot.querySelector('dialog');
  }

  private async start(): Promise<void> {
    const me = currentUser();
    if (!me) return this.signOut();
    this.error = '';
    this.pending = await unfinishedBatch(me.user.id);
    if (!this.pending) return this.finish('keep');
    await this.updateComplete;
    this.dialog()?.showModal();
  }

  private async finish(choice: 'keep' | 'discard'): Promise<void> {
    const me = currentUser();
    this.busy = true;
    try {
      // Before the sign-out: discarding ends the batch's uploads on the server, which needs the session.
      if (me) await endImportSession(me.user.id, choice);
    } catch (e) {
      this.error = `The batch could not be ${choice === 'keep' ? 'saved' : 'removed'}: ${e instanceof Error ? e.message : String(e)}`;
      this.busy = false;
      return;
    }
    this.dialog()?.close();
    await this.signOut();
  }

  private async signOut(): Promise<void> {
    this.busy = true;
    try {
      await logout();
      navigate('/login');
    } finally {
      this.busy = false;
    }
  }
}

customElements.define('wsi-sign-out', WsiSignOut);
