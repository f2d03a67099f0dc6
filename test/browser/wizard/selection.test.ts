import '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import type { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import type { WsiBulkImport } from '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import type { EngineInput, InspectOutcome } from '../../../src/app/components/wsi-bulk-import/wizard-engine.ts';
import { getSources } from '../../../src/app/state/batch-store.ts';
import { db } from '../../../src/app/state/db.ts';
import { stagingDir } from '../../../src/upload/staging.ts';
import { byText, deepQueryAll, eq, FakeEngine, fileOf, freshController, ok, pickInto, until } from './support.ts';

/**
 * Issue 13, the wizard's selection step: duplicates asked about, non-slide files of a folder
 * skipped with one line, selections removed, a batch discarded, drag-and-drop, empty files named
 * empty, zipped DICOM only with Direct Upload.
 */

/** As the real worker: unknown files are errors at the top of a pick, left out below a folder. */
class FolderEngine extends FakeEngine {
  override async inspect(inputs: EngineInput[]): Promise<InspectOutcome[]> {
    const slides = inputs.filter((i) => /\.(svs|tiff?)$/.test(i.path));
    const out = await super.inspect(slides);
    for (const i of inputs) {
      if (slides.includes(i) || i.path.includes('/')) continue;
      out.push({ paths: [i.path], error: { code: 'NOT_RECOGNIZED', message: `${i.path}: not a slide this tool can read` } });
    }
    return out;
  }
}

async function mount(ctl: ImportController): Promise<WsiBulkImport> {
  document.body.replaceChildren();
  const el = document.createElement('wsi-bulk-import') as WsiBulkImport;
  el.ctl = ctl;
  document.body.append(el);
  await until(() => byText(el, 'h2', 'Bulk Import'), 'wizard rendered');
  return el;
}

const input = (el: Element, id: string) => deepQueryAll<HTMLInputElement>(el, `input#${id}`)[0];
const button = (el: Element, text: string | RegExp) => until(() => byText(el, 'button', text), `button ${text}`);
const textOf = (el: Element, selector: string) => deepQueryAll(el, selector).map((e) => e.textContent?.replace(/\s+/g, ' ').trim() ?? '');

async function opfsDir(name: string, files: Record<string, string>): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(name, { recursive: true }).catch(() => undefined);
  const dir = await root.getDirectoryHandle(name, { create: true });
  for (const [path, text] of Object.entries(files)) {
    const w = await (await dir.getFileHandle(path, { create: true })).createWritable();
    await w.write(text);
    await w.close();
  }
  return dir;
}

describe('wizard step 1: selections', () => {
  it('the same file picked again is asked about: Skip duplicate (default) or Add anyway; a renamed copy is caught by content', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    const a = fileOf('a.svs', 'AAAA-slide-bytes');
    pickInto(input(el, 'files'), [a]);
    await until(() => ctl.slides.length === 1, 'first pick');
    pickInto(input(el, 'files'), [a, fileOf('b.svs', 'BBBB-slide-bytes')]);
    const skip = await button(el, 'Skip duplicate');
    await until(() => deepQueryAll(el, '[role=alertdialog]')[0]?.textContent?.includes('a.svs'), 'the prompt names the file');
    ok(deepActive() === skip, 'Skip duplicate has keyboard focus: the default');
    skip.click();
    await until(() => ctl.slides.length === 2 && ctl.reading.length === 0, 'only b.svs added');
    eq(ctl.slides.map((s) => s.name), ['a.svs', 'b.svs'], 'a.svs not added twice');
    await until(() => textOf(el, '[role=status]').some((t) => t.includes('a.svs is already in this batch')), 'a note says so');
    // A copy under another name, same bytes: the same content.
    pickInto(input(el, 'files'), [new File(['AAAA-slide-bytes'], 'copy of a.svs', { lastModified: 99 })]);
    (await button(el, 'Add anyway')).click();
    await until(() => ctl.slides.length === 3, 'added anyway');
    // Same size, other bytes: not a duplicate.
    pickInto(input(el, 'files'), [fileOf('c.svs', 'CCCC-slide-bytes')]);
    await until(() => ctl.slides.length === 4, 'a different file of the same size goes in without asking');
    eq(deepQueryAll(el, '[role=alertdialog]').length, 0, 'no prompt left');
  });

  it('a folder pick skips files that are not slides with one summary line; picked alone they stay errors', async () => {
    const ctl = await freshController(new FolderEngine());
    const el = await mount(ctl);
    const dir = await opfsDir('wizard-test-folder', { 'a.svs': 'slide A', 'notes.txt': 'hello', 'export.csv': 'x,y', 'empty.log': '' });
    await ctl.addDirectory(dir);
    eq(ctl.slides.map((s) => s.name), ['a.svs'], 'only the slide is in the batch');
    const line = await until(() => textOf(el, '.skipped')[0], 'summary line');
    eq(line, '3 files were skipped: not slides (empty.log, export.csv, notes.txt).', 'one summary line');
    eq(deepQueryAll(el, '.problems li').length, 0, 'no red errors for them');
    // Below a folder (the worker leaves such files out itself): skipped too.
    await ctl.addInputs([{ path: 'case/b.svs', file: fileOf('b.svs', 'slide B') }, { path: 'case/sub/readme.md', file: fileOf('readme.md') }], 'case', true);
    await until(() => textOf(el, '.skipped')[0]?.startsWith('4 files were skipped'), 'summary counts every selection');
    pickInto(input(el, 'files'), [fileOf('notes.txt', 'picked on purpose')]);
    await until(() => textOf(el, '.problems li').some((t) => /^notes\.txt \(\d+ B\): Not a slide this tool can read\.$/.test(t)), 'picked alone: an error, naming the file once');
    await (await navigator.storage.getDirectory()).removeEntry('wizard-test-folder', { recursive: true });
  });

  it('an empty file is called empty; error lines name the file once', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    pickInto(input(el, 'files'), [new File([], 'notes.svs'), fileOf('bad.svs')]);
    await until(() => ctl.slides.length === 2, 'two entries');
    const lines = await until(() => (textOf(el, '.problems li').length === 2 ? textOf(el, '.problems li') : undefined), 'two problem lines');
    ok(lines.includes('notes.svs is empty (0 bytes).'), `empty file line: ${lines.join(' | ')}`);
    for (const l of lines) eq(l.split(/notes\.svs|bad\.svs/).length - 1, 1, `file name once in "${l}"`);
    ok(textOf(el, '.error').some((t) => t.startsWith('2 files cannot be imported')), 'proper plural');
  });

  it('Remove takes one selection out of the batch, at step 1 and on Loaded files', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    pickInto(input(el, 'files'), [fileOf('a.svs', 'first')]);
    await until(() => ctl.slides.length === 1, 'first pick');
    pickInto(input(el, 'files'), [fileOf('b.svs', 'second pick'), fileOf('c.svs', 'second pick!')]);
    await until(() => ctl.slides.length === 3, 'second pick');
    await until(() => textOf(el, 'p').some((t) => t.startsWith('3 slides ready from 2 selections')), 'plural counts');
    (await button(el, 'Remove')).click(); // the first: a.svs
    await until(() => ctl.slides.length === 2, 'a.svs removed');
    eq(ctl.slides.map((s) => s.name), ['b.svs', 'c.svs'], 'the other selection stays');
    eq((await getSources(ctl.batch!)).map((s) => s.label), ['2 files'], 'its stored selection is gone');
    (await button(el, 'Next')).click();
    await until(() => byText(el, 'h3', 'Loaded files'), 'step 2');
    const list = await until(() => deepQueryAll(el, 'wsi-file-list')[0], 'file list');
    const remove = await until(() => deepQueryAll<HTMLButtonElement>(list, 'button').find((b) => b.getAttribute('aria-label') === 'Remove 2 files'), 'Remove on step 2');
    remove.click();
    await until(() => ctl.slides.length === 0 && ctl.sources.length === 0, 'batch empty');
    await until(() => byText(el, 'button', 'Next')?.disabled, 'nothing to go on with');
  });

  it('Discard batch asks, then removes the batch, its selections and staged copies', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    pickInto(input(el, 'files'), [fileOf('a.svs')]);
    await until(() => ctl.slides.length === 1, 'pick');
    const old = ctl.batch!;
    const slide = ctl.slides[0];
    // A copy staged for this slide (as step 5's Download makes one).
    let dir = await navigator.storage.getDirectory();
    for (const p of stagingDir(old, slide.id).split('/')) dir = await dir.getDirectoryHandle(p, { create: true });
    await (await dir.getFileHandle('a.svs', { create: true })).createWritable().then((w) => w.close());
    (await button(el, 'Discard batch')).click();
    const dialog = await until(() => deepQueryAll<HTMLDialogElement>(el, 'dialog').find((d) => d.open), 'confirmation');
    (await until(() => byText(dialog, 'button', 'Keep batch'), 'Keep batch')).click();
    ok(!dialog.open && ctl.batch === old && ctl.slides.length === 1, 'Keep batch keeps it');
    (await button(el, 'Discard batch')).click();
    (await until(() => byText(dialog, 'button', 'Discard batch'), 'confirm')).click();
    await until(() => ctl.batch !== old && ctl.notice.includes('discarded'), 'a new batch');
    eq(ctl.slides.length, 0, 'empty');
    ok(!(await (await db()).get('batches', old.id)), 'old batch record gone');
    eq((await getSources(old)).length, 0, 'its selections gone');
    const root = await navigator.storage.getDirectory();
    let found = true;
    try {
      let d = root;
      for (const p of stagingDir(old, slide.id).split('/')) d = await d.getDirectoryHandle(p);
    } catch {
      found = false;
    }
    ok(!found, 'staged copy gone');
    await until(() => textOf(el, '[role=status]').some((t) => t.includes('The batch was discarded')), 'a note says so');
  });

  it('files dropped on the step are added (keyboard pickers stay)', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    const step = await until(() => deepQueryAll(el, 'wsi-file-select')[0], 'step 1');
    const dt = new DataTransfer();
    dt.items.add(fileOf('drop-1.svs', 'dropped one'));
    dt.items.add(fileOf('drop-2.svs', 'dropped two!'));
    const over = new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
    step.dispatchEvent(over);
    ok(over.defaultPrevented, 'dragover accepted (the browser would open the file otherwise)');
    await until(() => deepQueryAll(el, '.dropzone.over').length === 1, 'drop zone highlighted');
    step.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true }));
    await until(() => ctl.slides.length === 2, 'two dropped files');
    eq(ctl.sources.map((s) => s.label), ['2 files'], 'one drop = one selection');
    ok(byText(el, 'button', 'Select files') && byText(el, 'button', 'Select DICOM directory'), 'buttons remain');
  });

  it('a zipped DICOM folder: an error with a clear message without Direct Upload, a slide with it', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    const zip = new File([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3])], 'dicom-folder.zip', { lastModified: 5 });
    pickInto(input(el, 'files'), [zip]);
    await until(() => ctl.slides.length === 1, 'zip entry');
    ok(input(el, 'files').accept.split(',').includes('.zip'), 'the file input offers .zip');
    await until(() => textOf(el, '.problems li').some((t) => t.includes('Zipped DICOM can only be sent with Direct Upload; unzip it to de-identify it')), 'the message');
    eq(ctl.usable.length, 0, 'not usable without Direct Upload');
    (await until(() => deepQueryAll<HTMLInputElement>(el, 'input[role=switch]')[0], 'switch')).click();
    await until(() => ctl.usable.length === 1, 'usable with Direct Upload');
    eq([ctl.slides[0].format, ctl.slides[0].zipped], ['dicom-wsi', true], 'sent as DICOM, zipped');
    eq(deepQueryAll(el, '.problems li').length, 0, 'no error left');
    pickInto(input(el, 'files'), [new File(['not a zip at all'], 'fake.zip')]);
    await until(() => textOf(el, '.problems li').some((t) => t.includes('fake.zip') && t.includes('Not a zip file')), 'a .zip that is not a zip');
  });
});

function deepActive(): Element | null {
  let a: Element | null = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return a;
}
