import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ImportController } from './import-controller.ts';

/**
 * Re-renders a step component whenever the import state changes. The state object keeps its
 * identity (Lit would not notice a mutation), so components subscribe instead.
 */
export class WatchImport implements ReactiveController {
  private off: (() => void) | undefined;
  constructor(private readonly host: ReactiveControllerHost & { ctl?: ImportController }) {
    host.addController(this);
  }

  hostConnected(): void {
    this.off = this.host.ctl?.subscribe(() => this.host.requestUpdate());
  }

  hostDisconnected(): void {
    this.off?.();
    this.off = undefined;
  }

  /** The controller may be set after connection (property binding): subscribe then. */
  hostUpdate(): void {
    if (!this.off && this.host.ctl) this.off = this.host.ctl.subscribe(() => this.host.requestUpdate());
  }
}
