import '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import type { WsiBulkImport } from '../../../src/app/components/wsi-bulk-import/wsi-bulk-import.ts';
import { finishedForm, saveBatch } from '../../../src/app/state/batch-store.ts';
import type { BarcodeScan } from '../../../src/workers/engine-api-types.ts';
import { byText, deepQueryAll, eq, FakeEngine, fileOf, freshController, ok, pickInto, until } from './support.ts';

/** Barcodes by file name: what the worker would decode from each slide's label. */
class BarcodeEngine extends FakeEngine {
  asked: string[] = [];
  constructor(private readonly codes: Record<string, string[]>) {
    super();
  }
  async barcodes(_slideId: string, files: File[]): Promise<BarcodeScan> {
    this.asked.push(files[0]!.name);
    const values = this.codes[files[0]!.name] ?? [];
    return { barcodes: values.map((value) => ({ value, symbology: 'Code128', source: 'label' as const })), decodeMs: 1, imagesSearched: 1 };
  }
}

const MANIFEST = 'barcode,file,case,name\nBC-1,,C-001,First slide\n,b.svs,C-002,Second slide\nBC-9,,,No case here\n,,C-4,Nothing to match\n';

async function mount(ctl: ImportController): Promise<WsiBulkImport> {
  document.body.replaceChildren();
  const el = document.createElement('wsi-bulk-import') as WsiBulkImport;
  el.ctl = ctl;
  document.body.append(el);
  await until(() => byText(el, 'h4', 'Match slides to cases'), 'case matching rendered');
  return el;
}

const slideNamed = (ctl: ImportController, name: string) => ctl.slides.find((s) => s.name === name)!;

describe('step 2: match slides to cases', () => {
  it('barcodes are read after inspection and proposed; a manifest matches by barcode and file name', async () => {
    const engine = new BarcodeEngine({ 'a.svs': ['BC-1'], 'b.svs': ['BC-2'], 'c.svs': ['LONE-7'] });
    const ctl = await freshController(engine);
    await ctl.addFiles([fileOf('a.svs'), fileOf('b.svs'), fileOf('c.svs'), fileOf('d.svs')], '4 files');
    await until(() => ctl.matching.reading.size === 0 && engine.asked.length === 4, 'barcodes read');
    const c = slideNamed(ctl, 'c.svs');
    eq(c.barcodes, [{ value: 'LONE-7', symbology: 'Code128', source: 'label' }], 'barcodes stored on the slide');
    eq(c.match, { caseNumber: 'LONE-7', how: 'barcode', confirmed: false }, 'a lone barcode is proposed, not confirmed');
    eq(slideNamed(ctl, 'd.svs').match, null, 'no barcode, no manifest: unmatched');

    ctl.goto(2);
    const el = await mount(ctl);
    ctl.matching.setManifest('map.csv', MANIFEST);
    await until(() => byText(el, 'li', /Line 5/), 'manifest problem listed with its line');
    const a = slideNamed(ctl, 'a.svs');
    eq(a.match, { caseNumber: 'C-001', name: 'First slide', how: 'manifest-barcode', line: 2, confirmed: true }, 'by barcode');
    eq(slideNamed(ctl, 'b.svs').match?.how, 'manifest-file', 'by file name');
    await until(() => byText(el, 'td', 'Barcode on the label matched line 2 of map.csv'), 'how, in words');
    await until(() => byText(el, 'td', 'File name matched line 3 of map.csv'), 'how, by file name');
    ok(byText(el, 'span', 'No case'), 'the unmatched slide is flagged');
    ok(byText(el, 'p', /1 problem in map\.csv/), 'problem count, singular');

    // Every control is named.
    for (const b of deepQueryAll<HTMLButtonElement>(deepQueryAll(el, 'wsi-case-matching')[0]!, 'button')) ok((b.getAttribute('aria-label') ?? b.textContent ?? '').trim(), 'button has a name');
    ok(deepQueryAll(el, 'button[aria-label="Confirm case LONE-7 for c.svs"]').length === 1, 'a proposal can be confirmed');
    const confirmAll = await until(() => byText(el, 'button', 'Confirm all proposals (1)'), 'Confirm all');
    confirmAll.click();
    ok(c.match?.confirmed, 'confirmed');
    // Matching again (another selection, a new manifest) keeps the confirmation.
    ctl.matching.recompute();
    ok(c.match?.confirmed, 'still confirmed');
  });

  it('an edit or a clear by the user survives recomputing; Undo goes back; a reload keeps everything', async () => {
    const engine = new BarcodeEngine({ 'a.svs': ['BC-1'] });
    const ctl = await freshController(engine);
    await ctl.addFiles([fileOf('a.svs'), fileOf('b.svs')], '2 files');
    await until(() => engine.asked.length === 2 && ctl.matching.reading.size === 0, 'barcodes read');
    ctl.matching.setManifest('map.csv', MANIFEST);
    const a = slideNamed(ctl, 'a.svs');
    const b = slideNamed(ctl, 'b.svs');
    ctl.goto(2);
    const el = await mount(ctl);

    // Edit in the row: inputs named after the slide.
    (await until(() => deepQueryAll<HTMLButtonElement>(el, 'button[aria-label="Edit case and name of a.svs"]')[0], 'Edit')).click();
    const caseInput = await until(() => deepQueryAll<HTMLInputElement>(el, 'input[aria-label="Case number of a.svs"]')[0], 'case input');
    caseInput.value = '\u0007bad';
    deepQueryAll<HTMLButtonElement>(el, 'button[aria-label="Save case and name of a.svs"]')[0]!.click();
    await until(() => byText(el, 'p', /a\.svs: The case number holds control characters/), 'refused with a reason');
    caseInput.value = 'MY-CASE';
    deepQueryAll<HTMLInputElement>(el, 'input[aria-label="Name of a.svs"]')[0]!.value = 'My name';
    deepQueryAll<HTMLButtonElement>(el, 'button[aria-label="Save case and name of a.svs"]')[0]!.click();
    eq(a.match, { how: 'manual', confirmed: true, caseNumber: 'MY-CASE', name: 'My name' }, 'entered by the user');
    await until(() => byText(el, 'td', 'Entered by you'), 'how: entered by you');
    ctl.matching.clear(b);
    ctl.matching.setManifest('map2.csv', MANIFEST);
    eq(a.match?.caseNumber, 'MY-CASE', 'a new manifest does not overwrite an edit');
    eq(b.match, { how: 'manual', confirmed: true }, 'nor a clear');
    ctl.matching.setCreateMissingCases(true);

    // A reload: the same batch, the same matches, manifest and choice.
    await ctl.close();
    const again = new ImportController(engine);
    await again.load();
    const a2 = again.slides.find((s) => s.name === 'a.svs')!;
    eq(a2.match?.caseNumber, 'MY-CASE', 'the edit survives a reload');
    eq(a2.barcodes?.map((x) => x.value), ['BC-1'], 'barcodes survive a reload');
    eq(again.batch!.manifest?.fileName, 'map2.csv', 'the manifest too');
    ok(again.batch!.createMissingCases, 'and "Create cases that do not exist yet"');
    again.matching.reset(a2);
    eq(a2.match?.how, 'manifest-barcode', 'Undo: matched again from the manifest');
    await again.startOver();
  });

  it('a finished batch keeps only what was sent: the name and a confirmed case, no barcodes', async () => {
    const ctl = await freshController(new BarcodeEngine({ 'a.svs': ['SECRET-BARCODE'], 'b.svs': ['OTHER-CODE'] }));
    await ctl.addFiles([fileOf('a.svs'), fileOf('b.svs')], '2 files');
    await until(() => ctl.matching.reading.size === 0 && ctl.slides.every((s) => s.barcodes), 'barcodes read');
    const [a, b] = ctl.slides;
    ctl.matching.confirm(a!);
    ctl.matching.edit(b!, '', 'Named by me');
    const done = finishedForm({ ...ctl.batch!, step: 7, finishedAt: 5 });
    const text = JSON.stringify(done);
    ok(!text.includes('OTHER-CODE'), 'no barcode of the slide kept');
    eq(done.slides.map((s) => s.match), [{ how: 'barcode', confirmed: true, caseNumber: 'SECRET-BARCODE' }, { how: 'manual', confirmed: true, name: 'Named by me' }], 'the case that was sent and the name');
    eq(done.finishedAt, 5, 'when it finished');
    ok(done.slides.every((s) => s.barcodes === undefined), 'no barcodes');
    ok(await saveBatch(ctl.batch!), 'saved');
    await ctl.startOver();
  });

  it('loads a manifest from a file input and a pasted table', async () => {
    const ctl = await freshController(new FakeEngine());
    await ctl.addFiles([fileOf('b.svs')], 'b.svs');
    ctl.goto(2);
    const el = await mount(ctl);
    const input = deepQueryAll<HTMLInputElement>(deepQueryAll(el, 'wsi-case-matching')[0]!, 'input[type=file]')[0]!;
    pickInto(input, [new File([MANIFEST], 'map.csv', { type: 'text/csv' })]);
    await until(() => byText(el, 'span', 'map.csv: 3 rows'), 'manifest loaded');
    eq(ctl.slides[0]!.match?.caseNumber, 'C-002', 'matched by file name');
    byText(el, 'button', 'Remove table')!.click();
    eq(ctl.slides[0]!.match, null, 'unmatched without the manifest');
    deepQueryAll<HTMLTextAreaElement>(el, 'textarea')[0]!.value = 'file\tcase\tname\nb.svs\tP-1\tPasted';
    byText(el, 'button', 'Apply')!.click();
    eq(ctl.slides[0]!.match?.caseNumber, 'P-1', 'a pasted table (tabs) works too');
    await until(() => byText(el, 'span', 'the pasted table: 1 row'), 'singular');
    await ctl.startOver();
  });
});
