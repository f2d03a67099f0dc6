import { css } from 'lit';

export const scanDetailsStyles = css`
  .head { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
  .head h2 { margin: 0; }
  .layout { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 1rem; margin-top: 1rem; }
  @media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
  wsi-viewer { height: 70vh; }
  [role='tablist'] { display: flex; gap: 0.25rem; border-bottom: 1px solid var(--wsi-border); margin-bottom: 0.8rem; }
  [role='tab'] { border: none; border-bottom: 3px solid transparent; border-radius: 0; background: none; }
  [role='tab'][aria-selected='true'] { border-bottom-color: var(--wsi-primary); font-weight: 600; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 0.8rem; margin: 0; }
  dt { color: var(--wsi-muted); }
  dd { margin: 0; overflow-wrap: anywhere; }
  fieldset { border: 1px solid var(--wsi-border); border-radius: 6px; display: grid; gap: 0.5rem; }
  .row { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
  .result { border-left: 4px solid var(--wsi-primary); padding: 0.3rem 0.6rem; margin: 0; }
  .result dl { margin-top: 0.3rem; }
`;
