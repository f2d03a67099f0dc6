import type { BrowserContext, Page, Request } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signIn } from './browser.ts';

// Page-side globals used inside page.evaluate callbacks (this project has no DOM lib; they run in the page).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any, document: any;
type HTMLInputElement = { checked: boolean };

/** Shared steps of the import-wizard end-to-end tests. */
export const ADMIN = { username: 'labadmin', password: 'e2e-wizard-password-1' };
export const serverEnv = { WSI_ADMIN_USER: ADMIN.username, WSI_ADMIN_PASSWORD: ADMIN.password };

export async function openImport(page: Page, baseUrl: string): Promise<void> {
  await signIn(page, baseUrl, ADMIN.username, ADMIN.password);
  await page.getByRole('navigation', { name: 'Worklist menu' }).getByRole('link', { name: 'Bulk Import' }).click();
  await page.getByRole('heading', { name: 'Bulk Import', exact: true }).waitFor();
}

/** Use the <input webkitdirectory> fallback: Playwright cannot answer showDirectoryPicker. */
export async function withoutDirectoryPicker(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    delete (window as unknown as { showDirectoryPicker?: unknown }).showDirectoryPicker;
  });
}

export async function pickFiles(page: Page, paths: string[]): Promise<void> {
  // CSS locators pierce open shadow roots; the inputs are hidden behind the labelled buttons.
  await page.locator('wsi-file-select input#files').setInputFiles(paths);
}

export async function pickDirectory(page: Page, dir: string): Promise<void> {
  await page.locator('wsi-file-select input#dir').setInputFiles(dir);
}

export interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

/** Every request the page makes, with its body, in order. */
export function recordRequests(page: Page): Recorded[] {
  const list: Recorded[] = [];
  page.on('request', (r: Request) => {
    list.push({ url: r.url(), method: r.method(), headers: r.headers(), body: r.postDataBuffer() });
  });
  return list;
}

export interface ShownField {
  label: string;
  value: string;
  redacted: boolean;
}

/** Every field row of every file in the metadata review, with its Redact box state. */
export async function reviewFields(page: Page): Promise<ShownField[]> {
  const out: ShownField[] = [];
  const files = page.locator('wsi-metadata-review nav[aria-label="Files"] button');
  const n = await files.count();
  for (let i = 0; i < n; i++) {
    await files.nth(i).click();
    await page.waitForFunction((i) => {
      const el = document.querySelector('wsi-app')?.shadowRoot?.querySelector('wsi-bulk-import')?.shadowRoot?.querySelector('wsi-metadata-review');
      return el?.shadowRoot?.querySelectorAll('nav button')[i]?.getAttribute('aria-current') === 'true';
    }, i);
    out.push(...(await page.locator('wsi-metadata-review').evaluate((el) => {
      const rows = [...(el.shadowRoot?.querySelectorAll('tbody tr') ?? [])];
      return rows.map((r) => ({
        label: r.querySelector('th')?.textContent ?? '',
        value: r.querySelector('td.value')?.textContent ?? '',
        redacted: !!(r.querySelector('input[type=checkbox]') as HTMLInputElement | null)?.checked,
      }));
    })));
  }
  return out;
}

/**
 * Values that must not arrive: redacted ones, except those that also occur inside a kept value
 * (e.g. a removed Frame Type "VOLUME" while the kept Image Type still says VOLUME).
 */
export function mustNotArrive(fields: ShownField[]): string[] {
  const kept = fields.filter((f) => !f.redacted).map((f) => f.value);
  return [...new Set(fields.filter((f) => f.redacted).map((f) => f.value))].filter((v) => !kept.some((k) => k.includes(v)));
}

/** The stored part files of a scan in the server's data directory. */
export async function storedParts(dataDir: string, scanId: number): Promise<string[]> {
  const out: string[] = [];
  const scans = join(dataDir, 'scans');
  for (const lab of await readdir(scans)) {
    const dir = join(scans, lab, String(scanId));
    const names = await readdir(dir).catch(() => [] as string[]);
    out.push(...names.filter((n) => n.startsWith('part-')).sort().map((n) => join(dir, n)));
  }
  return out;
}

export async function sha256Of(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Associated images OpenSlide finds in a stored TIFF/SVS (label, macro, thumbnail). */
export function openSlideAssociated(path: string): string[] {
  const out = execFileSync('/usr/bin/python3', ['-c', 'import sys, openslide; print("\\n".join(sorted(openslide.OpenSlide(sys.argv[1]).associated_images)))', path], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}

/**
 * Values that occur in a file's bytes. Only values a search can prove: at least 4 bytes, and
 * digit-only values at least 8 (a date) — a de-identified DICOM header carries freshly remapped
 * UIDs (2.25. + ~39 random decimal digits, new per batch), where a given 4-digit string turns up
 * by chance in about one run in ten (seen: '2040').
 */
export async function valuesFoundIn(path: string, values: string[]): Promise<string[]> {
  const bytes = await readFile(path);
  const provable = (v: string) => Buffer.byteLength(v) >= (/^[\d.]+$/.test(v) ? 8 : 4);
  return values.filter((v) => provable(v) && bytes.includes(Buffer.from(v)));
}

/** Scan ids from the Done step's links (/scans/<id>). */
export async function doneScanIds(page: Page, timeout = 120_000): Promise<number[]> {
  try {
    await page.getByRole('heading', { name: 'Upload complete' }).waitFor({ timeout });
  } catch (e) {
    // Leave evidence for the reviewer: what the upload step showed when it did not finish.
    await page.screenshot({ path: join(process.cwd(), 'test-output/screenshots', 'wizard-upload-not-finished.png'), fullPage: true });
    throw e;
  }
  const hrefs = await page.locator('wsi-import-done a.scan').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
  return hrefs.map((h) => Number(/\/scans\/(\d+)/.exec(h)?.[1]));
}

/** From the Metadata review step: Auto redact, keep the images' defaults, on to Review before upload. */
export async function autoRedactToReview(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
  await page.getByRole('button', { name: 'Auto redact' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'Label and overview images' }).waitFor();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
}

/** From Review before upload: Finalize, Start upload, and the Done step's scan ids. */
export async function finalizeAndUpload(page: Page, timeout?: number): Promise<number[]> {
  await page.getByRole('button', { name: 'Finalize' }).click();
  await page.getByRole('button', { name: 'Start upload' }).click();
  return doneScanIds(page, timeout);
}
