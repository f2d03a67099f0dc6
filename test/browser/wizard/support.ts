import type { EngineInput, InspectOutcome, WizardEngine } from '../../../src/app/components/wsi-bulk-import/wizard-engine.ts';
import type { StagedSlide } from '../../../src/app/state/batch-store.ts';
import { ImportController } from '../../../src/app/components/wsi-bulk-import/import-controller.ts';
import { setSessionForTest } from '../../../src/app/state/session.ts';
import type { Me } from '../../../src/app/api.ts';

/** The wizard's state belongs to the signed-in user: these tests act as this one (no server). */
export const TEST_USER: Me = { user: { id: 1, username: 'wizard-test' }, labs: [{ id: 1, name: 'Lab', role: 'lab-user', features: ['bulk-import'] }], currentLabId: 1, canImport: true };
setSessionForTest(TEST_USER);

export function ok(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

export function eq<T>(actual: T, expected: T, msg: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${msg}: expected ${e}, got ${a}`);
}

/** Poll until fn returns a truthy value (Lit renders asynchronously; IDB and the engine too). */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 5000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Deep query through open shadow roots (the wizard nests step components). */
export function deepQueryAll<E extends Element = HTMLElement>(root: ParentNode, selector: string): E[] {
  const out: E[] = [...root.querySelectorAll<E>(selector)];
  if (root instanceof Element && root.shadowRoot) out.push(...deepQueryAll<E>(root.shadowRoot, selector));
  for (const el of root.querySelectorAll('*')) if (el.shadowRoot) out.push(...deepQueryAll<E>(el.shadowRoot, selector));
  return out;
}

export function byText<E extends HTMLElement = HTMLButtonElement>(root: ParentNode, selector: string, text: string | RegExp): E | undefined {
  return deepQueryAll<E>(root, selector).find((e) => (typeof text === 'string' ? e.textContent?.trim() === text : text.test(e.textContent ?? '')));
}

/**
 * A stand-in engine for UI logic tests: it recognises files by name (".svs" → an SVS-like slide,
 * "bad" → a read error) and records what it was asked. The real worker is exercised end to end.
 */
export class FakeEngine implements WizardEngine {
  inspected: string[][] = [];
  async inspect(inputs: EngineInput[]): Promise<InspectOutcome[]> {
    this.inspected.push(inputs.map((i) => i.path));
    return inputs.map((i) => {
      if (i.path.includes('bad')) return { paths: [i.path], error: { code: 'NOT_RECOGNIZED', message: `${i.path}: not a slide this tool can read` } };
      return {
        paths: [i.path],
        slide: {
          name: i.file.name,
          format: i.path.endsWith('.svs') ? 'aperio-svs' : 'generic-tiff',
          width: 2220,
          height: 2967,
          mpp: i.path.includes('nompp') ? undefined : { x: 0.499, y: 0.499 },
          fields: [
            { id: 'aperio:Filename', label: 'Filename', value: 'CMU-1', class: 'phi' },
            { id: 'aperio:Date', label: 'Date', value: '12/29/09', class: 'phi' },
            { id: 'aperio:MPP', label: 'MPP', value: '0.499', class: 'critical' },
            { id: 'aperio:StripeWidth', label: 'StripeWidth', value: '2040', class: 'neutral' },
          ],
          images: [
            { id: 'ifd-0', role: 'level', width: 2220, height: 2967, compression: 'JPEG' },
            { id: 'ifd-2', role: 'label', width: 387, height: 463, compression: 'LZW' },
            { id: 'ifd-3', role: 'overview', width: 1280, height: 431, compression: 'JPEG' },
          ],
        },
      };
    });
  }
  async preview(): Promise<Blob | null> {
    const c = new OffscreenCanvas(4, 4);
    c.getContext('2d')!.fillRect(0, 0, 4, 4);
    return c.convertToBlob();
  }
  async sha256(file: Blob): Promise<string> {
    const d = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  async deidentify(): Promise<StagedSlide> {
    throw new Error('not used in these tests');
  }
  async zipStaged(): Promise<{ size: number }> {
    throw new Error('not used in these tests');
  }
}

/** A fresh controller on an empty batch (the previous test's batch is forgotten). */
export async function freshController(engine: WizardEngine = new FakeEngine()): Promise<ImportController> {
  const ctl = new ImportController(engine);
  await ctl.load();
  await ctl.startOver();
  return ctl;
}

export function fileOf(name: string, text = `bytes of ${name}`): File {
  return new File([text], name, { type: 'application/octet-stream', lastModified: 1 });
}

/** Put files into an <input type=file> and fire change, as a user's pick does. */
export function pickInto(input: HTMLInputElement, files: File[]): void {
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  input.files = dt.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}
