import { LitElement, html, nothing, css } from 'lit';
import { OnlineStatus } from '../../state/online.ts';

/**
 * A banner while the computer is offline: the wizard's local work (selecting, reviewing,
 * de-identifying) goes on; sending waits for the connection. Renders nothing while online.
 */
export class WsiOfflineBanner extends LitElement {
  static override styles = css`
    :host { display: block; }
    p { margin: 0 0 0.8rem; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.6rem 0.8rem; color: #1b1f24; }
  `;
  private readonly network = new OnlineStatus(this);

  override render() {
    if (this.network.online) return nothing;
    return html`<p role="status"><strong>You are offline.</strong> You can still select, review and de-identify slides on this
      computer; uploads wait until the connection is back.</p>`;
  }
}

customElements.define('wsi-offline-banner', WsiOfflineBanner);
