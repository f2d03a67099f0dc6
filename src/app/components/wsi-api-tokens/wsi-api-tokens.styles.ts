import { css } from 'lit';

export const apiTokensStyles = css`
  :host { display: block; margin-bottom: 1.2rem; }
  h2 { font-size: 1.15rem; margin: 0 0 0.6rem; }
  form { display: flex; gap: 0.6rem; align-items: end; flex-wrap: wrap; margin: 0.6rem 0; }
  label { display: grid; gap: 0.25rem; font-weight: 500; }
  .made { border: 2px solid var(--wsi-primary, #1f4e79); border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0.6rem 0; }
  .made p { margin: 0.4rem 0; }
  .secret { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
  code { font-family: ui-monospace, monospace; font-size: 1rem; user-select: all; padding: 0.2rem 0.4rem; background: #f6f8fa; border-radius: 4px; word-break: break-all; }
  .row-actions { display: flex; gap: 0.4rem; align-items: center; flex-wrap: wrap; }
`;
