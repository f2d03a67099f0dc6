import { css } from 'lit';

export const fileListStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  .toolbar { display: flex; gap: 1rem; align-items: center; margin-bottom: 0.6rem; }
  td.num { font-variant-numeric: tabular-nums; }
  tr.bad td { color: var(--wsi-danger, #b42318); }
  tr.warn td { background: var(--wsi-warn-bg, #fffaeb); color: var(--wsi-warn, #7a2e0e); }
  tr.warn p { margin: 0 0 0.25rem; }
`;
