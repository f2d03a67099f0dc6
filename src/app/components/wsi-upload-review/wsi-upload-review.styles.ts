import { css } from 'lit';

export const uploadReviewStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  h4 { margin: 0; font-size: 1rem; overflow-wrap: anywhere; }
  .slides { display: flex; flex-direction: column; gap: 0.8rem; }
  .head { display: flex; gap: 0.8rem; align-items: flex-start; flex-wrap: wrap; margin-bottom: 0.6rem; }
  .head .title { margin-right: auto; display: flex; flex-direction: column; gap: 0.2rem; min-width: 12rem; }
  .head p { margin: 0; }
  code { font-size: 0.9rem; background: #f6f8fa; padding: 0 0.25rem; border-radius: 4px; overflow-wrap: anywhere; }
  .photos { display: flex; gap: 1rem; flex-wrap: wrap; margin: 0 0 0.6rem; }
  figure { margin: 0; display: flex; flex-direction: column; gap: 0.25rem; font-size: 0.85rem; }
  figure.removed wsi-slide-preview { filter: grayscale(1); }
  .warn { margin: 0 0 0.5rem; color: #7a4d00; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.4rem 0.6rem; }
  details summary { cursor: pointer; margin: 0.3rem 0; }
  .cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
  ul { margin: 0.2rem 0; padding-left: 1.1rem; }
  /* A removed card is told apart by its border and background, not by fading (text keeps its contrast). */
  .card.excluded { border-style: dashed; background: #f6f8fa; }
  .finalize { display: flex; justify-content: flex-end; margin-top: 1rem; gap: 0.6rem; align-items: center; }
  progress { width: 8rem; }
`;
