import { css } from 'lit';

export const signOutStyles = css`
  :host { display: inline-block; }
  /* The header's button: light on the header's colour (wsi-app styles only its own shadow root). */
  button.header { background: transparent; color: inherit; border-color: rgba(255, 255, 255, 0.5); }
  dialog { max-width: 34rem; border: 1px solid var(--wsi-border, #d0d7de); border-radius: 8px; padding: 1.2rem; color: var(--wsi-text, #1b1f24); }
  dialog::backdrop { background: rgba(0, 0, 0, 0.35); }
  h2 { font-size: 1.1rem; margin: 0 0 0.6rem; }
  .choices { display: grid; gap: 0.8rem; margin: 1rem 0; }
  .choice { display: grid; gap: 0.25rem; }
  .choice p { margin: 0; font-size: 0.9rem; }
  .footer { display: flex; justify-content: flex-end; }
`;
