import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ImportController } from './import-controller.ts';

/**
 * Re-renders a step component whenever the import state changes. The state object keeps its
 * identity (Lit would not notice a mutation), so components subscribe instead.
 */
export class WatchImport implements ReactiveController {
  private off: (() => void) | undefined;
  /**
   * `progress`: also re-render when only bytes moved (ImportController.progressed) — only what
   * shows upload progress needs that; every other step element re-renders on real changes.
   */
  constructor(private readonly host: ReactiveControllerHost & { ctl?: ImportController }, private readonly progress = false) {
    host.addController(this);
  }

  hostConnected(): void {
    this.watch();
  }

  hostDisconnected(): void {
    this.off?.();
    this.off = undefined;
  }

  /** The controller may be set after connection (property binding): subscribe then. */
  hostUpdate(): void {
    if (!this.off) this.watch();
  }

  private watch(): void {
    const ctl = this.host.ctl;
    if (!ctl) return;
    const update = () => this.host.requestUpdate();
    const offs = [ctl.subscribe(update), ...(this.progress ? [ctl.subscribeProgress(update)] : [])];
    this.off = () => offs.forEach((off) => off());
  }
}
