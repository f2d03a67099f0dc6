import { css } from 'lit';

export const scansStyles = css`
  .toolbar { display: flex; gap: 0.6rem; align-items: center; margin-bottom: 0.8rem; flex-wrap: wrap; }
  .toolbar h2 { margin: 0 auto 0 0; font-size: 1.3rem; }
  .filters { display: flex; flex-wrap: wrap; gap: 0.5rem 0.9rem; align-items: end; margin-bottom: 0.8rem; }
  .filters .field { display: flex; flex-direction: column; gap: 0.15rem; }
  .filters .field label { font-size: 0.85rem; color: var(--wsi-muted, #57606a); }
  .filters label.inline { flex-direction: row; align-items: center; gap: 0.35rem; color: var(--wsi-text, #1b1f24); font-size: 0.95rem; }
  select, .filters input[type='date'] { font: inherit; padding: 0.35rem 0.4rem; border: 1px solid var(--wsi-border, #d0d7de); border-radius: 6px; max-width: 22rem; }
  .filters input[type='search'] { min-width: 16rem; }
  .chips { display: flex; gap: 0.4rem; flex-wrap: wrap; margin: -0.3rem 0 0.6rem; }
  .chip { display: inline-flex; align-items: center; gap: 0.3rem; padding: 0.1rem 0.2rem 0.1rem 0.6rem; border-radius: 999px; background: #ddf4ff; color: var(--wsi-text, #1b1f24); font-size: 0.9rem; }
  .chip-remove { border: 0; background: none; padding: 0 0.35rem; font-size: 1.05rem; line-height: 1; color: inherit; border-radius: 999px; }
  .selection { display: flex; gap: 0.6rem; align-items: center; margin: 0 0 0.5rem; min-height: 2rem; }
  .status { font-size: 0.85rem; padding: 0.1rem 0.45rem; border-radius: 999px; background: #eaeef2; white-space: nowrap; }
  .status[data-s='ready'] { background: #dafbe1; }
  .status[data-s='needs-mpp'], .status[data-s='corrupt'], .status[data-s='failed'], .status[data-s='quarantined'] { background: #ffebe9; }
  td.thumb { width: 72px; padding: 0.25rem 0.4rem; }
  .thumb img, .thumb .none { display: block; width: 64px; height: 64px; object-fit: contain; background: #f6f8fa; border-radius: 4px; }
  .thumb .none { border: 1px dashed var(--wsi-border, #d0d7de); }
  th button.sort { border: 0; background: none; padding: 0; font-weight: 600; color: inherit; font-size: inherit; }
  td .name { display: flex; gap: 0.4rem; align-items: center; flex-wrap: wrap; }
  td .original { display: block; font-size: 0.8rem; }
  button.small { padding: 0.1rem 0.45rem; font-size: 0.8rem; }
  button.link { border: 0; background: none; padding: 0; color: var(--wsi-primary, #1f4e79); text-decoration: underline; text-align: left; }
  wsi-quarantine { margin-top: 0.25rem; max-width: 28rem; font-size: 0.9rem; }
  .pager { display: flex; gap: 0.6rem; align-items: center; margin-top: 0.8rem; flex-wrap: wrap; }
  .pager .range { margin-right: auto; }
  dialog { border: 1px solid var(--wsi-border, #d0d7de); border-radius: 8px; min-width: 360px; }
  dialog ul { list-style: none; padding: 0; max-height: 40vh; overflow: auto; }
  dialog li button { width: 100%; justify-content: space-between; margin: 0.15rem 0; }
  dialog .actions { display: flex; gap: 0.5rem; justify-content: flex-end; margin-top: 0.8rem; }
  dialog form label { display: flex; flex-direction: column; gap: 0.25rem; }
`;
