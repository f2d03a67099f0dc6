import { LitElement, html, css, nothing } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { currentRoute, navigate, onRouteChange, type Route } from '../../router.ts';
import { keyed } from 'lit/directives/keyed.js';
import { currentUser, loadMe, onSessionChange, sessionEnded } from '../../state/session.ts';
import type { Me } from '../../api.ts';
import '../wsi-login/wsi-login.ts';
import '../wsi-scans/wsi-scans.ts';
import '../wsi-bulk-import/wsi-bulk-import.ts';
import '../wsi-scan-details/wsi-scan-details.ts';
import '../wsi-cases/wsi-cases.ts';
import '../wsi-sign-out/wsi-sign-out.ts';
import '../wsi-account/wsi-account.ts';
import '../wsi-lab-admin/wsi-lab-admin.ts';
import '../wsi-platform-labs/wsi-platform-labs.ts';

/** The shell: the worklist menu (Scans, Cases, Bulk Import when allowed) and the current page. */
export class WsiApp extends LitElement {
  static override properties = {
    route: { state: true },
    me: { state: true },
    loading: { state: true },
    updateReady: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      header { display: flex; align-items: center; gap: 1rem; padding: 0.6rem 1.2rem; background: var(--wsi-primary); color: #fff; }
      header h1 { font-size: 1.1rem; margin: 0 1rem 0 0; }
      nav { display: flex; gap: 0.25rem; flex: 1; }
      nav a { color: #fff; text-decoration: none; padding: 0.35rem 0.7rem; border-radius: 6px; }
      nav a[aria-current='page'] { background: rgba(255, 255, 255, 0.18); }
      .user { display: flex; align-items: center; gap: 0.6rem; font-size: 0.9rem; }
      .user button { background: transparent; color: #fff; border-color: rgba(255, 255, 255, 0.5); }
      .user a.account { color: #fff; text-decoration: none; }
      .badge { background: #ffb000; color: #1b1f24; border-radius: 999px; padding: 0 0.45rem; font-size: 0.8rem; font-weight: 600; }
      main { padding: 1.2rem; max-width: 1280px; margin: 0 auto; }
      .banner { background: #fff8c5; border-bottom: 1px solid #d4a72c; padding: 0.5rem 1.2rem; display: flex; gap: 1rem; align-items: center; }
    `,
  ];

  declare route: Route;
  declare me: Me | null;
  declare loading: boolean;
  declare updateReady: boolean;
  private unsubscribe: (() => void)[] = [];

  constructor() {
    super();
    this.route = currentRoute();
    this.me = currentUser();
    this.loading = true;
    this.updateReady = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe.push(onRouteChange((r) => (this.route = r)));
    this.unsubscribe.push(onSessionChange((m) => (this.me = m)));
    void loadMe().finally(() => (this.loading = false));
    addEventListener('wsi-update-ready', () => (this.updateReady = true));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const u of this.unsubscribe) u();
  }

  override render() {
    if (this.loading) return html`<main><p class="muted">Loading…</p></main>`;
    if (!this.me || this.route.name === 'login') {
      // Signed in again after the session ended: back to the page they were on (e.g. their batch).
      const back = sessionEnded() && this.route.name !== 'login';
      // In <main>: the sign-in page has its main landmark like every other page.
      return html`<main><wsi-login @signed-in=${() => back || navigate(this.me?.canImport ? '/import' : '/scans', true)}></wsi-login></main>`;
    }
    // Signed in with a reset's temporary password: nothing but choosing a new one (the server agrees).
    if (this.me.mustChangePassword) return html`<main><wsi-account forced></wsi-account></main>`;
    const r = this.route.name;
    const lab = this.me.labs.find((l) => l.id === this.me!.currentLabId);
    const invitations = this.me.pendingInvitations ?? 0;
    return html`
      ${this.updateReady
        ? html`<div class="banner" role="status">A new version is ready.
            <button @click=${() => dispatchEvent(new Event('wsi-apply-update'))}>Reload to update</button></div>`
        : nothing}
      <header>
        <h1>WSI Bulk Import</h1>
        <nav aria-label="Worklist menu">
          <a href="/scans" aria-current=${r === 'scans' || r === 'scan' ? 'page' : 'false'}>Scans</a>
          <a href="/cases" aria-current=${r === 'cases' || r === 'case' ? 'page' : 'false'}>Cases</a>
          ${this.me.canImport ? html`<a href="/import" aria-current=${r === 'import' ? 'page' : 'false'}>Bulk Import</a>` : nothing}
          ${lab?.role === 'lab-admin' ? html`<a href="/lab-admin" aria-current=${r === 'lab-admin' || r === 'members' ? 'page' : 'false'}>Lab admin</a>` : nothing}
          ${this.me.platformAdmin ? html`<a href="/labs" aria-current=${r === 'labs' || r === 'lab' ? 'page' : 'false'}>Labs</a>` : nothing}
        </nav>
        <div class="user">
          <a class="account" href="/account" aria-current=${r === 'account' ? 'page' : 'false'}
            >${this.me.user.displayName ?? this.me.user.username}${lab ? html` · ${lab.name}` : nothing}${invitations > 0
              ? html` <span class="badge" aria-label="${invitations} invitation${invitations > 1 ? 's' : ''}">${invitations}</span>`
              : nothing}</a
          >
          <wsi-sign-out></wsi-sign-out>
        </div>
      </header>
      <main>${keyed(this.me.user.id, this.page())}</main>
    `;
  }

  private page() {
    // Several labs and none chosen: the user picks one before anything that works in a lab.
    if (this.me && this.me.currentLabId === null && this.me.labs.length > 1) return html`<wsi-account></wsi-account>`;
    switch (this.route.name) {
      case 'account':
        return html`<wsi-account></wsi-account>`;
      case 'lab-admin':
      case 'members': {
        const lab = this.me?.labs.find((l) => l.id === this.me?.currentLabId);
        return lab?.role === 'lab-admin' ? html`<wsi-lab-admin lab-id=${lab.id}></wsi-lab-admin>` : html`<p role="alert">Only a lab admin manages the members of a lab.</p>`;
      }
      case 'labs':
        return this.me?.platformAdmin ? html`<wsi-platform-labs></wsi-platform-labs>` : html`<p role="alert">Only a platform admin manages labs.</p>`;
      case 'lab':
        return this.me?.platformAdmin ? html`<wsi-lab-admin lab-id=${this.route.params.id}></wsi-lab-admin>` : html`<p role="alert">Only a platform admin manages labs.</p>`;
      case 'import':
        return this.me?.canImport
          ? html`<wsi-bulk-import></wsi-bulk-import>`
          : html`<p role="alert">Bulk Import is not available for your account or lab. Ask a lab admin to enable it.</p>`;
      case 'scans':
        return html`<wsi-scans></wsi-scans>`;
      case 'scan':
        return html`<wsi-scan-details scan-id=${this.route.params.id}></wsi-scan-details>`;
      case 'cases':
        return html`<wsi-cases></wsi-cases>`;
      case 'case':
        return html`<wsi-cases case-id=${this.route.params.id}></wsi-cases>`;
      default:
        return html`<p>Page not found. <a href="/scans">Go to scans</a></p>`;
    }
  }
}

customElements.define('wsi-app', WsiApp);
