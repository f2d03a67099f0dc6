import '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import type { WsiBulkImport } from '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import type { StagedSlide } from '../../../src/app/state/batch-store.ts';
import type { DiskEstimate } from '../../../src/upload/staging.ts';
import { byText, eq, FakeEngine, fileOf, ok, until } from './support.ts';

/**
 * Issue 5 gap 3: a full disk gives a clear message, not a crash. The staging budget is checked
 * against an injected estimate (the real disk is never filled): with no room, the slide shows the
 * message, the upload is paused and nothing is de-identified; Resume after space was freed goes on.
 */
class CountingEngine extends FakeEngine {
  deidentified = 0;
  override async deidentify(): Promise<StagedSlide> {
    this.deidentified++;
    // Never uploaded in this test: the queue's endpoint does not exist, the part just fails.
    return { outputs: [{ name: 'a.svs', opfsPath: 'wizard-test-quota/a.svs', size: 10, sha256: '0'.repeat(64) }], verifyOk: true, problems: [], sweep: { valuesSearched: 1, hits: 0, ok: true } };
  }
}

describe('upload: full disk', () => {
  it('shows the QUOTA message, pauses, and continues after Resume once there is room', async () => {
    const MiB = 1024 * 1024;
    let estimate: DiskEstimate = { quota: 100 * MiB, usage: 100 * MiB, free: 0 };
    const engine = new CountingEngine();
    const ctl = new ImportController(engine, { estimate: async () => estimate, queue: { endpoint: '/no-such-tus-endpoint/', retryDelays: [] } });
    await ctl.load();
    await ctl.startOver();
    await ctl.addFiles([fileOf('a.svs', 'A'.repeat(4096))], 'a.svs');
    ctl.goto(6);
    document.body.replaceChildren();
    const el = document.createElement('wsi-bulk-import') as WsiBulkImport;
    el.ctl = ctl;
    document.body.append(el);
    (await until(() => byText(el, 'button', 'Start upload'), 'Start upload')).click();
    const cell = await until(() => byText(el, 'td', /not enough disk space/), 'the disk-space message in the file row');
    ok(/Free some disk space, then press Resume/.test(cell.textContent ?? ''), `says what to do (${cell.textContent})`);
    await until(() => byText(el, 'button', 'Resume'), 'Resume offered (paused)');
    eq(engine.deidentified, 0, 'nothing de-identified without room');
    eq(ctl.message, '', 'no page-level error (no crash)');

    estimate = { quota: 10_000 * MiB, usage: 0, free: 10_000 * MiB };
    byText(el, 'button', 'Resume')!.click();
    await until(() => engine.deidentified === 1, 'de-identified after Resume');
    await until(() => !byText(el, 'td', /not enough disk space/), 'message cleared');
    ctl.uploader?.pause();
    await ctl.startOver();
  });
});
