import { css } from 'lit';

export const slidePreviewStyles = css`
  :host { display: inline-block; }
  img { display: block; max-width: var(--preview-size, 160px); max-height: var(--preview-size, 160px); border: 1px solid var(--wsi-border, #d0d7de); background: #fff; }
  .none { display: inline-flex; align-items: center; justify-content: center; width: var(--preview-size, 160px); height: calc(var(--preview-size, 160px) * 0.6);
    border: 1px dashed var(--wsi-border, #d0d7de); color: var(--wsi-muted, #57606a); font-size: 0.8rem; text-align: center; }
`;
