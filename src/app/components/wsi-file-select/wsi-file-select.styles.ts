import { css } from 'lit';

export const fileSelectStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  .pickers { display: flex; gap: 0.6rem; flex-wrap: wrap; align-items: center; }
  .dropzone { border: 2px dashed var(--wsi-border, #d0d7de); border-radius: 8px; padding: 0.8rem; margin-bottom: 1rem; }
  .dropzone.over { border-color: var(--wsi-primary, #1f4e79); background: #eef4fa; }
  .drop-hint { margin: 0.6rem 0 0; }
  input[type='file'] { display: none; }
  .direct { margin: 1rem 0; }
  .direct label { display: inline-flex; gap: 0.5rem; align-items: center; font-weight: 600; }
  .warning { background: #fff1e5; border: 1px solid #d18616; border-radius: 6px; padding: 0.6rem 0.8rem; margin-top: 0.5rem; }
  .duplicates { background: #fff8e1; border: 1px solid #9a6700; border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0.8rem 0; }
  .duplicates p { margin: 0 0 0.5rem; }
  ul { padding-left: 1.2rem; }
  li { margin: 0.2rem 0; }
`;
