import { css } from 'lit';

export const importDoneStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  h4 { margin: 0 0 0.4rem; font-size: 1rem; }
  a.scan { display: inline-flex; align-items: center; justify-content: center; width: 2rem; height: 2rem; border-radius: 6px; color: var(--wsi-primary, #1f4e79); }
  a.scan svg { width: 1.2rem; height: 1.2rem; }
  .warn { color: var(--wsi-warn, #7a2e0e); }
  .record { margin-top: 1rem; }
  .record p { margin: 0 0 0.5rem; }
  .actions { margin-top: 1rem; display: flex; flex-wrap: wrap; gap: 0.5rem; }
  .record .actions { margin-top: 0; }
`;
