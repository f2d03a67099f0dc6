import { css } from 'lit';

export const uploadReviewStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  h4 { margin: 0; font-size: 1rem; }
  .slides { display: flex; flex-direction: column; gap: 0.8rem; }
  .head { display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; margin-bottom: 0.4rem; }
  .head h4 { margin-right: auto; }
  .cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
  ul { margin: 0.2rem 0; padding-left: 1.1rem; }
  .card.excluded { opacity: 0.6; }
  .finalize { display: flex; justify-content: flex-end; margin-top: 1rem; gap: 0.6rem; align-items: center; }
  progress { width: 8rem; }
`;
