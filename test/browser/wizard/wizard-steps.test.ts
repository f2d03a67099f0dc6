import { sendKeys } from '@web/test-runner-commands';
import '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import type { WsiBulkImport } from '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { byText, deepQueryAll, eq, FakeEngine, fileOf, freshController, ok, pickInto, until } from './support.ts';

async function mount(ctl: ImportController): Promise<WsiBulkImport> {
  document.body.replaceChildren();
  const el = document.createElement('wsi-bulk-import') as WsiBulkImport;
  el.ctl = ctl;
  document.body.append(el);
  await until(() => byText(el, 'h2', 'Bulk Import'), 'wizard rendered');
  return el;
}

const input = (el: Element, id: string) => deepQueryAll<HTMLInputElement>(el, `input#${id}`)[0];
const click = async (el: Element, text: string | RegExp) => (await until(() => byText(el, 'button', text), `button ${text}`)).click();

describe('import wizard steps (fake engine)', () => {
  it('step 1: Select files adds readable slides and lists broken files without blocking', async () => {
    const engine = new FakeEngine();
    const ctl = await freshController(engine);
    const el = await mount(ctl);
    const next = () => byText(el, 'button', 'Next')!;
    ok(next().disabled, 'Next is disabled with no files');
    pickInto(input(el, 'files'), [fileOf('CMU-1.svs'), fileOf('bad.svs')]);
    await until(() => ctl.slides.length === 2, 'two entries');
    await until(() => byText(el, 'li', /bad\.svs.*not a slide/i), 'error listed');
    ok(!next().disabled, 'Next is enabled: the readable file can go on');
    // A second pick goes into the same batch.
    pickInto(input(el, 'files'), [fileOf('other.tiff')]);
    await until(() => ctl.slides.length === 3, 'third entry');
    eq(engine.inspected, [['CMU-1.svs', 'bad.svs'], ['other.tiff']], 'each pick inspected once');
    next().click();
    await until(() => byText(el, 'h3', 'Loaded files'), 'step 2');
    // The list's own rows (step 2 also shows the case-matching table, one row per readable slide).
    const rows = deepQueryAll(deepQueryAll(el, 'wsi-file-list')[0]!, 'tbody tr').length;
    eq(rows, 3, 'one row per slide, including the broken one');
    ok(deepQueryAll(el, 'td').some((td) => td.textContent === 'MPP unknown') === false, 'MPP shown for files that have one');
  });

  it('step 2: "Show thumbnails" is remembered', async () => {
    const ctl = await freshController();
    await ctl.addFiles([fileOf('a.svs')], 'a.svs');
    ctl.goto(2);
    const el = await mount(ctl);
    const sw = await until(() => deepQueryAll<HTMLInputElement>(el, 'input[role=switch]')[0], 'switch');
    await until(() => deepQueryAll(el, 'wsi-slide-preview').length === 1, 'thumbnail cell');
    if (!sw.checked) sw.click();
    sw.click(); // off
    await until(() => deepQueryAll(el, 'wsi-slide-preview').length === 0, 'thumbnails hidden');
    const el2 = await mount(ctl);
    await new Promise((r) => setTimeout(r, 200));
    eq(deepQueryAll(el2, 'wsi-slide-preview').length, 0, 'still hidden after re-mount');
    deepQueryAll<HTMLInputElement>(el2, 'input[role=switch]')[0].click();
    await until(() => deepQueryAll(el2, 'wsi-slide-preview').length === 1, 'thumbnails back');
  });

  it('step 3: critical fields ask before redaction; Auto redact; apply to same format', async () => {
    const ctl = await freshController();
    await ctl.addFiles([fileOf('a.svs'), fileOf('b.svs'), fileOf('c.tiff')], '3 files');
    ctl.goto(3);
    const el = await mount(ctl);
    const [a, b, c] = ctl.slides;
    eq(a.removeFields.sort(), ['aperio:Date', 'aperio:Filename', 'upload:file-name'], 'identifying fields removed by default, the file name too');
    ok(deepQueryAll<HTMLInputElement>(el, 'input[aria-label="Redact File name (sent to the server)"]')[0]?.checked, 'the file name is a field of its own, redacted');
    const mppBox = await until(() => deepQueryAll<HTMLInputElement>(el, 'input[aria-label="Redact MPP"]')[0], 'MPP toggle');
    mppBox.click();
    const dialog = await until(() => deepQueryAll<HTMLDialogElement>(el, 'dialog').find((d) => d.open), 'confirmation dialog');
    ok(!a.removeFields.includes('aperio:MPP'), 'not removed before confirming');
    (await until(() => byText(dialog, 'button', 'Keep'), 'Keep')).click();
    ok(!dialog.open && !a.removeFields.includes('aperio:MPP'), 'Keep keeps it');
    mppBox.click();
    (await until(() => byText(dialog, 'button', 'Redact anyway'), 'Redact anyway')).click();
    ok(a.removeFields.includes('aperio:MPP'), 'confirmed redaction');
    // Un-redact a phi field on a, then apply to the same format: b follows, c (other format) does not.
    deepQueryAll<HTMLInputElement>(el, 'input[aria-label="Redact Date"]')[0].click();
    await click(el, /Apply to all Aperio SVS files/);
    eq([...b.removeFields].sort(), [...a.removeFields].sort(), 'b got a\'s decisions');
    eq([...c.removeFields].sort(), ['aperio:Date', 'aperio:Filename', 'upload:file-name'], 'c of another format unchanged');
    await click(el, 'Auto redact');
    for (const s of [a, b, c]) eq([...s.removeFields].sort(), ['aperio:Date', 'aperio:Filename', 'aperio:StripeWidth', 'upload:file-name'], `${s.name}: everything but critical`);
  });

  it('step 4: label and overview are shown and removed by default; keep toggles', async () => {
    const ctl = await freshController();
    await ctl.addFiles([fileOf('a.svs')], 'a.svs');
    ctl.goto(4);
    const el = await mount(ctl);
    const s = ctl.slides[0];
    eq([...s.removeImages].sort(), ['ifd-2', 'ifd-3'], 'label and overview removed by default');
    await until(() => deepQueryAll(el, 'img[alt^="Label of"]').length === 1, 'label image shown');
    deepQueryAll<HTMLInputElement>(el, 'input[aria-label="Remove Label of a.svs"]')[0].click();
    eq(s.removeImages, ['ifd-3'], 'label kept');
  });

  it('Direct Upload: warning shown, steps 3–5 skipped', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    const sw = await until(() => deepQueryAll<HTMLInputElement>(el, 'input[role=switch]')[0], 'Direct Upload switch');
    sw.click();
    await until(() => deepQueryAll(el, '#direct-warning')[0]?.textContent?.includes('unmodified'), 'warning');
    pickInto(input(el, 'files'), [fileOf('a.svs')]);
    await until(() => ctl.slides.length === 1, 'entry');
    await click(el, 'Next');
    await until(() => ctl.batch!.step === 2, 'step 2');
    await click(el, 'Next');
    await until(() => ctl.batch!.step === 6, 'Next from step 2 goes to Upload');
    ok(byText(el, 'button', 'Start upload'), 'Start upload offered');
    ok(deepQueryAll(el, '.skipped').length === 3, 'three steps marked skipped');
  });

  it('a reload returns to the same step with the same files and decisions', async () => {
    const ctl = await freshController();
    await ctl.addFiles([fileOf('a.svs', 'AAAA'), fileOf('bad.svs')], '2 files');
    ctl.autoRedact();
    ctl.setImageRemoved(ctl.slides[0], 'ifd-2', false);
    ctl.goto(4);
    await new Promise((r) => setTimeout(r, 700)); // the coalesced save
    const again = new ImportController(new FakeEngine());
    await again.load();
    eq(again.batch!.id, ctl.batch!.id, 'same batch');
    eq(again.batch!.step, 4, 'same step');
    eq(again.slides.map((s) => [s.id, s.name, !!s.error]), ctl.slides.map((s) => [s.id, s.name, !!s.error]), 'same slides');
    eq(again.slides[0].removeFields, ctl.slides[0].removeFields, 'same field decisions');
    eq(again.slides[0].removeImages, ['ifd-3'], 'same image decisions');
    // An <input> pick is not stored (no copy of the bytes): the same file must be selected again.
    eq(again.needed.map((s) => s.label), ['2 files'], 'the selection is asked for again');
    again.reselect(again.sources[0], [fileOf('a.svs', 'AAAA'), fileOf('bad.svs')]);
    eq(again.needed.length, 0, 'matched by name, size and date');
    const [file] = await again.filesOf(again.slides[0]);
    eq(await file.text(), 'AAAA', 'the picked file is readable after selecting it again');
  });

  it('keyboard: Tab reaches the pickers with a visible focus ring; controls are labelled', async () => {
    const ctl = await freshController();
    const el = await mount(ctl);
    await until(() => byText(el, 'button', 'Select files'), 'picker');
    (document.activeElement as HTMLElement | null)?.blur();
    let focused: Element | null = null;
    for (let i = 0; i < 10; i++) {
      await sendKeys({ press: 'Tab' });
      focused = deepActive();
      if (focused?.textContent?.trim() === 'Select files') break;
    }
    ok(focused?.textContent?.trim() === 'Select files', 'Select files reachable with Tab');
    const outline = getComputedStyle(focused!).outlineStyle;
    ok(outline !== 'none', `visible focus outline (${outline})`);
    for (const i of deepQueryAll<HTMLInputElement>(el, 'input')) ok(i.getAttribute('aria-label') || i.closest('label'), `input ${i.outerHTML.slice(0, 60)} is labelled`);
  });
});

function deepActive(): Element | null {
  let a: Element | null = document.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  return a;
}
