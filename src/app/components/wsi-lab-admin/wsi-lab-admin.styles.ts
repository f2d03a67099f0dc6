import { css } from 'lit';

export const labAdminStyles = css`
  h2.page { font-size: 1.4rem; margin: 0 0 0.6rem; }
  [role='tablist'] { display: flex; gap: 0.25rem; border-bottom: 1px solid var(--wsi-border, #d0d7de); margin-bottom: 1rem; }
  [role='tab'] { border: 1px solid transparent; border-bottom: none; border-radius: 6px 6px 0 0; background: transparent; margin-bottom: -1px; }
  [role='tab'][aria-selected='true'] { border-color: var(--wsi-border, #d0d7de); background: var(--wsi-surface, #fff); font-weight: 600; }
  .switch { display: flex; gap: 0.6rem; align-items: flex-start; max-width: 42rem; }
  .switch input { width: 1.2rem; height: 1.2rem; margin-top: 0.15rem; }
  [role='tabpanel'] h2 { font-size: 1.15rem; margin: 0 0 0.6rem; }
`;
