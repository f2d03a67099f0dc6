import { css } from 'lit';

/** Controls shared by every page: buttons, inputs, tables, progress, focus ring. */
export const sharedStyles = css`
  :host { display: block; box-sizing: border-box; }
  *, *::before, *::after { box-sizing: inherit; }
  button, .button {
    font: inherit; padding: 0.45rem 0.9rem; border-radius: 6px; border: 1px solid var(--wsi-border, #d0d7de);
    background: var(--wsi-surface, #fff); color: var(--wsi-text, #1b1f24); cursor: pointer; display: inline-flex;
    align-items: center; gap: 0.4rem; text-decoration: none;
  }
  button.primary, .button.primary { background: var(--wsi-primary, #1f4e79); color: var(--wsi-primary-contrast, #fff); border-color: transparent; }
  button.danger { color: var(--wsi-danger, #b42318); }
  button:disabled { opacity: 0.5; cursor: not-allowed; }
  :focus-visible { outline: 3px solid var(--wsi-focus, #ffb000); outline-offset: 2px; }
  input[type='text'], input[type='password'], input[type='number'], input[type='search'] {
    font: inherit; padding: 0.4rem 0.5rem; border: 1px solid var(--wsi-border, #d0d7de); border-radius: 6px;
  }
  table { border-collapse: collapse; width: 100%; background: var(--wsi-surface, #fff); }
  th, td { text-align: left; padding: 0.45rem 0.6rem; border-bottom: 1px solid var(--wsi-border, #d0d7de); vertical-align: middle; }
  th { font-weight: 600; color: var(--wsi-muted, #57606a); font-size: 0.9rem; }
  progress { width: 100%; height: 0.8rem; }
  .error { color: var(--wsi-danger, #b42318); }
  .ok { color: var(--wsi-ok, #1a7f37); }
  .muted { color: var(--wsi-muted, #57606a); }
  .card { background: var(--wsi-surface, #fff); border: 1px solid var(--wsi-border, #d0d7de); border-radius: 8px; padding: 1rem; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
