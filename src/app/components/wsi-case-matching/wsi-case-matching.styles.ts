import { css } from 'lit';

export const caseMatchingStyles = css`
  :host { display: block; margin-top: 1.2rem; }
  h4 { margin: 0 0 0.4rem; font-size: 1rem; }
  p { margin: 0 0 0.6rem; }
  .manifest { display: flex; flex-wrap: wrap; gap: 0.6rem; align-items: center; margin-bottom: 0.6rem; }
  .manifest input[type='file'] { max-width: 20rem; }
  details { margin-bottom: 0.6rem; }
  details textarea { display: block; width: 100%; min-height: 5rem; font-family: ui-monospace, monospace; font-size: 0.85rem; margin: 0.4rem 0; box-sizing: border-box; }
  ul.problems { margin: 0 0 0.6rem; padding-left: 1.2rem; color: var(--wsi-warn, #7a2e0e); }
  .options { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin-bottom: 0.6rem; }
  td.barcodes code { font-size: 0.85rem; word-break: break-all; }
  td.how { font-size: 0.9rem; }
  .flag { color: var(--wsi-warn, #7a2e0e); font-weight: 600; }
  .row-actions { display: flex; flex-wrap: wrap; gap: 0.3rem; }
  td input[type='text'] { width: 100%; min-width: 8rem; box-sizing: border-box; }
`;
