import '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import type { WsiBulkImport } from '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import type { StagedSlide } from '../../../src/app/state/batch-store.ts';
import { byText, eq, FakeEngine, fileOf, until } from './support.ts';

/**
 * Issue 15 (main thread while uploading): progress that is only bytes moving re-renders the
 * upload step alone, in an animation frame — not the wizard around it. The stand-in engine
 * reports de-identification progress when the test says and never finishes on its own.
 */
class SteppedEngine extends FakeEngine {
  report: ((done: number, total: number) => void) | undefined;
  // Optional parameters: FakeEngine's deidentify takes none.
  override async deidentify(_id?: string, _files?: File[], _req?: unknown, _dir?: string, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<StagedSlide> {
    this.report = onProgress;
    return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('stopped'))));
  }
}

describe('upload step: byte progress', () => {
  it('re-renders the progress step only', async () => {
    const engine = new SteppedEngine();
    const ctl = new ImportController(engine);
    await ctl.load();
    await ctl.startOver();
    await ctl.addFiles([fileOf('a.svs', 'A'.repeat(4096))], 'a.svs');
    ctl.goto(6);
    document.body.replaceChildren();
    const el = document.createElement('wsi-bulk-import') as WsiBulkImport;
    el.ctl = ctl;
    document.body.append(el);
    (await until(() => byText(el, 'button', 'Start upload'), 'Start upload')).click();
    await until(() => engine.report, 'de-identification started');
    engine.report!(1, 4);
    await until(() => byText(el, 'td', 'De-identifying 25 %'), 'the first progress shown');

    // From here only bytes move: the wizard around the step must not render again.
    await new Promise((r) => setTimeout(r, 300));
    let shellRenders = 0;
    const shell = el as unknown as { updated: () => void };
    const updated = shell.updated.bind(el);
    shell.updated = () => {
      shellRenders++;
      updated();
    };
    engine.report!(3, 4);
    await until(() => byText(el, 'td', 'De-identifying 75 %'), 'the next progress shown');
    eq(shellRenders, 0, 'renders of the wizard around the upload step for byte progress');

    ctl.uploader?.stop();
    await ctl.startOver();
  });
});
