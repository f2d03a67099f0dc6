import { html, nothing, svg } from 'lit';
import { sharedStyles } from '../../styles/shared.styles.ts';
import { formatBytes } from '../../format.ts';
import { ImportStepElement } from '../wsi-bulk-import/import-step.ts';
import { importDoneStyles } from './wsi-import-done.styles.ts';

const linkIcon = svg`<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
  <path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1"/><path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/></svg>`;

/** Step 7: every uploaded slide with a link to its scan page. */
export class WsiImportDone extends ImportStepElement {
  static override styles = [sharedStyles, importDoneStyles];


  override render() {
    const ctl = this.ctl;
    if (!ctl?.batch) return nothing;
    const slides = ctl.usable;
    return html`
      <h3 tabindex="-1">Upload complete</h3>
      <p role="status">${slides.filter((s) => s.scanId !== undefined).length} of ${slides.length} ${slides.length === 1 ? 'slide' : 'slides'} uploaded.</p>
      <table>
        <thead><tr><th scope="col">Slide</th><th scope="col">Size</th><th scope="col">Scan</th></tr></thead>
        <tbody>${slides.map((s) => html`<tr>
          <th scope="row">${s.name}</th>
          <td>${formatBytes(s.uploads?.reduce((n, p) => n + p.size, 0) ?? s.size)}</td>
          <td>${s.scanId !== undefined
            ? html`<a class="scan" href=${`/scans/${s.scanId}`} aria-label=${`Open scan page of ${s.name}`} title="Open scan page">${linkIcon}</a>`
            : html`<span class="muted">not uploaded</span>`}</td>
        </tr>`)}</tbody>
      </table>
      <div class="actions"><button class="primary" @click=${() => void ctl.startOver()}>Import more slides</button></div>
    `;
  }
}

customElements.define('wsi-import-done', WsiImportDone);
