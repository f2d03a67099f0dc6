import { css } from 'lit';

export const metadataReviewStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  h4 { margin: 1rem 0 0.3rem; font-size: 1rem; }
  .toolbar { display: flex; gap: 0.8rem; align-items: center; flex-wrap: wrap; margin-bottom: 0.8rem; }
  .layout { display: grid; grid-template-columns: minmax(180px, 240px) 1fr; gap: 1rem; align-items: start; }
  .files { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 0.2rem; }
  .files button { width: 100%; justify-content: space-between; text-align: left; }
  .files button[aria-current='true'] { border-color: var(--wsi-primary, #1f4e79); background: #eef4fb; font-weight: 600; }
  td.value { max-width: 32rem; overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: 0.85rem; }
  tr.removed td.value { text-decoration: line-through; color: var(--wsi-muted, #57606a); }
  .toggle { display: inline-flex; gap: 0.4rem; align-items: center; white-space: nowrap; }
  .toggle .state { font-size: 0.85rem; color: var(--wsi-muted, #57606a); }
  .toggle .state.on { color: var(--wsi-text, #1b1f24); font-weight: 600; }
  table.dicom th[scope='row'] { color: var(--wsi-text, #1b1f24); font-weight: 500; }
  .tag, .within, .nested-count { font-size: 0.8rem; color: var(--wsi-muted, #57606a); font-weight: 400; }
  .within, .nested-count { display: block; }
  .kind { font-size: 0.75rem; font-weight: 600; color: #7a4d00; border: 1px solid #d4a72c; border-radius: 999px; padding: 0 0.4rem; margin-left: 0.2rem; }
  tr.nested th[scope='row'] { padding-left: 2.4rem; }
  button.disclose { padding: 0 0.35rem; margin-right: 0.3rem; line-height: 1.4; }
  dialog { border: 1px solid var(--wsi-border, #d0d7de); border-radius: 8px; max-width: 30rem; }
  dialog .actions { display: flex; gap: 0.6rem; justify-content: flex-end; }
`;
