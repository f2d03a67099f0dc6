import { css } from 'lit';

export const uploadProgressStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  .overall { margin: 0.8rem 0; }
  .overall .line, .controls { display: flex; gap: 0.8rem; align-items: center; flex-wrap: wrap; }
  .overall .line { justify-content: space-between; font-variant-numeric: tabular-nums; }
  .controls { margin: 0.6rem 0 1rem; }
  td.bar { width: 35%; }
  td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
  .confirm { display: inline-flex; gap: 0.5rem; align-items: center; }
  td.warning, p.warning { color: #7a4d00; }
  .warn-box { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0 0 0.8rem; color: #1b1f24; }
  .warn-box p, .warn-box ul { margin: 0.3rem 0; }
`;
