import '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import type { WsiBulkImport } from '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { isOriginalsNeeded } from '../../../src/app/components/wsi-bulk-import/originals.ts';
import { db } from '../../../src/app/state/db.ts';
import type { StagedSlide } from '../../../src/app/state/batch-store.ts';
import { byText, deepQueryAll, eq, FakeEngine, fileOf, freshController, ok, pickInto, until } from './support.ts';

/**
 * Issue 5 gap 1: picked slides are never copied into IndexedDB. Files from showOpenFilePicker are
 * kept as handles (OPFS handles stand in for the picker's: same FileSystemFileHandle type, stored
 * and restored by IndexedDB the same way); after a reload they need a click to be readable again.
 * <input> picks are matched by name, size and date when selected again.
 */

const DIR = 'wizard-test-originals';

async function opfsFile(name: string, text: string): Promise<FileSystemFileHandle> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(DIR, { create: true });
  const fh = await dir.getFileHandle(name, { create: true });
  const w = await fh.createWritable();
  await w.write(text);
  await w.close();
  return fh;
}

async function mount(ctl: ImportController): Promise<WsiBulkImport> {
  document.body.replaceChildren();
  const el = document.createElement('wsi-bulk-import') as WsiBulkImport;
  el.ctl = ctl;
  document.body.append(el);
  await until(() => byText(el, 'h2', 'Bulk Import'), 'wizard rendered');
  return el;
}

/** Every Blob anywhere in a stored value (a File is a Blob). */
function blobsIn(v: unknown, seen = new Set<unknown>()): number {
  if (v instanceof Blob) return 1;
  if (!v || typeof v !== 'object' || seen.has(v)) return 0;
  seen.add(v);
  return Object.values(v as Record<string, unknown>).reduce<number>((n, x) => n + blobsIn(x, seen), 0);
}

async function storedSources(batchId: string): Promise<Record<string, unknown>[]> {
  return (await (await db()).getAllFromIndex('batch-sources', 'batchId', batchId)) as Record<string, unknown>[];
}

type Perm = { queryPermission(d: unknown): Promise<PermissionState>; requestPermission(d: unknown): Promise<PermissionState> };

/** Make stored handles behave as after a reload: 'prompt' until requestPermission is called. */
function simulatePermissionPrompt(): { requests: number; restore(): void } {
  const proto = FileSystemHandle.prototype as unknown as Perm;
  const q = proto.queryPermission;
  const r = proto.requestPermission;
  let granted = false;
  const state = { requests: 0, restore: () => { proto.queryPermission = q; proto.requestPermission = r; } };
  proto.queryPermission = async () => (granted ? 'granted' : 'prompt');
  proto.requestPermission = async () => {
    state.requests++;
    granted = true;
    return 'granted';
  };
  return state;
}

describe('original files: handles, reconnect, re-select', () => {
  const win = window as unknown as { showOpenFilePicker?: unknown };
  const realPicker = win.showOpenFilePicker;
  after(async () => {
    win.showOpenFilePicker = realPicker;
    await (await navigator.storage.getDirectory()).removeEntry(DIR, { recursive: true }).catch(() => undefined);
  });

  it('"Select files" uses showOpenFilePicker and stores handles, not the files\' bytes', async () => {
    const handles = [await opfsFile('h1.svs', 'HANDLE-ONE'), await opfsFile('h2.svs', 'HANDLE-TWO!')];
    let asked: { types?: { accept: Record<string, string[]> }[]; multiple?: boolean } | undefined;
    win.showOpenFilePicker = async (o: typeof asked) => {
      asked = o;
      return handles;
    };
    const ctl = await freshController();
    const el = await mount(ctl);
    (await until(() => byText(el, 'button', 'Select files'), 'Select files')).click();
    await until(() => ctl.slides.length === 2, 'two slides from the picker');
    ok(asked?.multiple, 'several files at once');
    const exts = Object.values(asked?.types?.[0]?.accept ?? {}).flat().sort();
    eq(exts, ['.bif', '.dcm', '.mrxs', '.ndpi', '.scn', '.svs', '.tif', '.tiff', '.zip'], 'picker offers the slide types and zipped DICOM');
    const [rec] = await storedSources(ctl.batch!.id);
    eq(rec.origin, 'handles', 'stored as handles');
    ok((rec.handles as unknown[]).every((h) => h instanceof FileSystemFileHandle), 'FileSystemFileHandles');
    eq(blobsIn(rec), 0, 'no File or Blob in the stored selection');

    // A reload: a new controller on the stored batch reads the files through the handles.
    const again = new ImportController(new FakeEngine());
    await again.load();
    eq(again.needed.length, 0, 'granted handles need no prompt');
    eq(await Promise.all((await again.filesOf(again.slides[1])).map((f) => f.text())), ['HANDLE-TWO!'], 'read through the stored handle');
  });

  it('after a reload handles need "Reconnect files"; a file changed on disk is refused', async () => {
    const handles = [await opfsFile('r1.svs', 'RECONNECT-1')];
    win.showOpenFilePicker = async () => handles;
    const ctl = await freshController();
    await ctl.addFileHandles(handles);
    ctl.goto(2);
    await new Promise((r) => setTimeout(r, 50));
    const perm = simulatePermissionPrompt();
    try {
      const again = new ImportController(new FakeEngine());
      await again.load();
      const el = await mount(again);
      eq(again.needed.map((s) => s.label), ['r1.svs'], 'the selection needs permission again');
      const err = await again.filesOf(again.slides[0]).then(() => undefined, (e: unknown) => e);
      ok(isOriginalsNeeded(err), 'reading before the click fails with "originals needed"');
      const button = await until(() => byText(el, 'button', 'Reconnect files'), 'Reconnect files button');
      button.click();
      await until(() => !byText(el, 'button', 'Reconnect files'), 'banner gone after the click');
      eq(perm.requests, 1, 'permission asked once, from the click');
      eq(await (await again.filesOf(again.slides[0]))[0].text(), 'RECONNECT-1', 'readable again');

      // The file is replaced on disk with other content: never silently used.
      await new Promise((r) => setTimeout(r, 5));
      await opfsFile('r1.svs', 'SOMETHING ELSE ENTIRELY');
      const third = new ImportController(new FakeEngine());
      await third.load();
      const changed = await third.filesOf(third.slides[0]).then(() => undefined, (e: unknown) => e as Error);
      ok(changed && /has changed since it was selected/.test(changed.message), `a changed file is refused (${changed?.message})`);
    } finally {
      perm.restore();
    }
  });

  it('<input> picks: "Select again" matches name, size and date and refuses a different file', async () => {
    const ctl = await freshController();
    const el0 = await mount(ctl);
    pickInto(deepQueryAll<HTMLInputElement>(el0, 'input#files')[0], [fileOf('in.svs', 'INPUT-ORIGINAL')]);
    await until(() => ctl.slides.length === 1, 'slide');
    const [rec] = await storedSources(ctl.batch!.id);
    eq(rec.origin, 'input', 'an <input> pick');
    eq(blobsIn(rec), 0, 'no File or Blob stored');
    ctl.goto(3);
    await new Promise((r) => setTimeout(r, 50));

    const again = new ImportController(new FakeEngine());
    await again.load();
    const el = await mount(again);
    await until(() => byText(el, 'button', 'Select again: in.svs'), 'Select again button');
    // Same name, other content and size: refused with a message, still needed.
    again.reselect(again.sources[0], [new File(['A DIFFERENT FILE, LONGER'], 'in.svs', { lastModified: 1 })]);
    await until(() => byText(el, 'p', /in\.svs: not the file selected before/), 'refusal shown');
    eq(again.needed.length, 1, 'still needed');
    // Same name and size, other date: refused too.
    again.reselect(again.sources[0], [new File(['INPUT-ORIGINAL'], 'in.svs', { lastModified: 2 })]);
    eq(again.needed.length, 1, 'a different date is refused');
    again.reselect(again.sources[0], [fileOf('in.svs', 'INPUT-ORIGINAL')]);
    await until(() => !byText(el, 'button', 'Select again: in.svs'), 'banner gone');
    eq(await (await again.filesOf(again.slides[0]))[0].text(), 'INPUT-ORIGINAL', 'the re-selected file is used');
  });

  it('a reload during a de-identified upload asks for nothing: staged copies are enough', async () => {
    const ctl = await freshController();
    await ctl.addFiles([fileOf('s.svs', 'STAGED')], 's.svs');
    const staged: StagedSlide = { outputs: [{ name: 's.svs', opfsPath: `${DIR}/none.svs`, size: 6, sha256: '0'.repeat(64) }], verifyOk: true, problems: [], sweep: { valuesSearched: 0, hits: 0, ok: true } };
    ctl.slides[0].staged = staged;
    ctl.slides[0].uploads = [{ part: 0, name: 's.svs', size: 6, sha256: '0'.repeat(64), state: 'done', bytesSent: 6 }];
    ctl.batch!.step = 6;
    ctl.batch!.uploadStarted = true;
    ctl.batch!.uploadPaused = true; // keep the uploader from contacting a server in this test
    ctl.goto(6);
    await new Promise((r) => setTimeout(r, 50));
    const again = new ImportController(new FakeEngine());
    await again.load();
    eq(again.unavailable.length, 1, 'the <input> pick is gone after the reload');
    eq(again.needed.length, 0, 'but the upload does not need it: no prompt');
  });
});
