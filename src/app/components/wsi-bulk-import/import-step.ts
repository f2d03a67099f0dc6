import { LitElement, type PropertyDeclarations } from 'lit';
import type { ImportController } from './import-controller.ts';
import { WatchImport } from './watch-controller.ts';

/** Base of the wizard's step components: the shared controller, re-rendering on every change. */
export class ImportStepElement extends LitElement {
  // Lit merges a subclass's own `properties` with these.
  static override properties: PropertyDeclarations = { ctl: { attribute: false } };
  declare ctl: ImportController | undefined;

  /** `showsProgress`: re-render on byte progress too (the upload step), not only on changes. */
  constructor(showsProgress = false) {
    super();
    new WatchImport(this, showsProgress);
  }
}
