import { css } from 'lit';

export const viewerStyles = css`
  :host { display: block; position: relative; min-height: 360px; background: #222; border-radius: 8px; overflow: hidden; }
  #osd { position: absolute; inset: 0; }
  .msg { position: absolute; inset: auto 0 0 0; color: #fff; background: rgba(0, 0, 0, 0.6); padding: 0.3rem 0.6rem; font-size: 0.85rem; }
  /* Bottom left, clear of the navigator (bottom right) and the zoom buttons (top left). */
  .scale { position: absolute; left: 0.6rem; bottom: 0.6rem; color: #fff; background: rgba(0, 0, 0, 0.65); padding: 0.15rem 0.4rem 0.25rem; border-radius: 4px; font-size: 0.8rem; pointer-events: none; }
  .scale .bar { box-sizing: border-box; height: 8px; border: 2px solid #fff; border-top: none; margin-top: 2px; }
  .msg ~ .scale { bottom: 2.4rem; }
  /* OpenSeadragon's own "mobile" rule, here because its injected copy is refused (see claimOsdMobileCss). */
  @media (hover: none) { .openseadragon-canvas:focus { outline: none !important; } }
  .openseadragon-canvas:focus-visible { outline: 3px solid #4da3ff; outline-offset: -3px; }
`;
