import { css } from 'lit';

export const fileListStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  .toolbar { display: flex; gap: 1rem; align-items: center; margin-bottom: 0.6rem; }
  td.num { font-variant-numeric: tabular-nums; }
  tr.bad td { color: var(--wsi-danger, #b42318); }
`;
