import { css } from 'lit';

export const batchSelectionsStyles = css`
  ul { list-style: none; padding: 0; margin: 0 0 0.8rem; display: flex; flex-direction: column; gap: 0.3rem; }
  li { display: flex; gap: 0.8rem; align-items: center; flex-wrap: wrap; }
  li .what { font-weight: 600; }
  button.small { padding: 0.2rem 0.6rem; font-size: 0.9rem; }
  .batch-actions { margin-top: 0.4rem; }
  dialog { max-width: 32rem; border: 1px solid var(--wsi-border, #d0d7de); border-radius: 8px; padding: 1.2rem; }
  dialog h2 { margin-top: 0; font-size: 1.15rem; }
  .footer { display: flex; gap: 0.6rem; justify-content: flex-end; margin-top: 1rem; }
`;
