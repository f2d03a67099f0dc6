import { css } from 'lit';

export const casesStyles = css`
  .toolbar { display: flex; gap: 0.6rem; align-items: end; margin-bottom: 0.8rem; flex-wrap: wrap; }
  .toolbar h2 { margin: 0 auto 0 0; }
  form { display: flex; gap: 0.5rem; align-items: end; flex-wrap: wrap; margin-bottom: 0.8rem; }
  form .error { flex-basis: 100%; margin: 0; }
  form .error:empty { display: none; }
  label { display: grid; gap: 0.2rem; }
  .thumb { display: block; width: 96px; height: 72px; object-fit: contain; background: #f0f0f0; border-radius: 4px; }
  .thumb.placeholder { display: grid; place-items: center; color: var(--wsi-muted, #57606a); }
  td { vertical-align: middle; }
`;
