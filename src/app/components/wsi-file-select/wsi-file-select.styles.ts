import { css } from 'lit';

export const fileSelectStyles = css`
  h3 { margin: 0 0 0.6rem; font-size: 1.1rem; }
  h3:focus { outline: none; }
  .pickers { display: flex; gap: 0.6rem; flex-wrap: wrap; align-items: center; margin-bottom: 1rem; }
  input[type='file'] { display: none; }
  .direct { margin: 1rem 0; }
  .direct label { display: inline-flex; gap: 0.5rem; align-items: center; font-weight: 600; }
  .warning { background: #fff1e5; border: 1px solid #d18616; border-radius: 6px; padding: 0.6rem 0.8rem; margin-top: 0.5rem; }
  ul { padding-left: 1.2rem; }
  li { margin: 0.2rem 0; }
`;
