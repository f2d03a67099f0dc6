import { css } from 'lit';

export const imageReviewStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  h4 { margin: 0 0 0.5rem; font-size: 1rem; }
  .slides { display: flex; flex-direction: column; gap: 0.8rem; }
  .images { display: flex; gap: 1rem; flex-wrap: wrap; }
  figure { margin: 0; display: flex; flex-direction: column; gap: 0.4rem; }
  figure.removed wsi-slide-preview { opacity: 0.35; }
  figcaption { display: flex; gap: 0.6rem; align-items: center; }
  .warn { margin: 0; max-width: 240px; font-size: 0.9rem; color: #7a4d00; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 0.4rem 0.6rem; }
`;
