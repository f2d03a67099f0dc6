import { css } from 'lit';

export const bulkImportStyles = css`
  h2 { margin: 0 0 0.8rem; font-size: 1.3rem; }
  ol.steps { list-style: none; display: flex; flex-wrap: wrap; gap: 0.3rem; padding: 0; margin: 0 0 1rem; counter-reset: step; }
  ol.steps li { display: flex; }
  ol.steps button, ol.steps span {
    font-size: 0.9rem; padding: 0.3rem 0.7rem; border-radius: 999px; border: 1px solid var(--wsi-border, #d0d7de);
    background: var(--wsi-surface, #fff); color: var(--wsi-muted, #57606a);
  }
  ol.steps [aria-current='step'] { background: var(--wsi-primary, #1f4e79); color: #fff; border-color: transparent; font-weight: 600; }
  /* Skipped (Direct Upload) is told by the strike-through and a dashed border, not by fading: the text keeps 4.5:1. */
  ol.steps .skipped { text-decoration: line-through; border-style: dashed; background: var(--wsi-bg, #f6f8fa); }
  .footer { display: flex; gap: 0.6rem; justify-content: space-between; margin-top: 1rem; }
  .banner.reconnect { flex-direction: column; align-items: flex-start; }
  .banner.reconnect p { margin: 0; }
  .banner .actions { display: flex; gap: 0.6rem; flex-wrap: wrap; }
  .banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.6rem 0.8rem; margin-bottom: 0.8rem; display: flex; gap: 0.8rem; align-items: center; }
`;
