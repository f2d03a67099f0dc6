import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  profileDir: string;
  close(): Promise<void>;
}

/**
 * Debian's Chromium with an on-disk profile: incognito contexts keep OPFS in memory and behave
 * differently for large files (STACK-NOTES), and service workers need a persistent profile.
 */
export async function openBrowser(profileDir?: string): Promise<BrowserSession> {
  const dir = profileDir ?? (await mkdtemp(join(tmpdir(), 'wsi-profile-')));
  const context = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs, acceptDownloads: true });
  await zeroCopySwitch(context);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    profileDir: dir,
    async close() {
      await context.close();
      if (!profileDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `WSI_E2E_ZERO_COPY=1` (or `0`) runs any e2e test with the app's zero-copy upload setting
 * (localStorage `wsi-zero-copy`) forced on (or off). Added first, so a test that sets the
 * setting itself (an init script added later runs later) still has the last word.
 */
async function zeroCopySwitch(context: BrowserContext): Promise<void> {
  // Zero-copy Download (the default) streams into a file from the browser's save picker, which
  // Playwright cannot answer: tests waiting for a download event get the staged (browser)
  // download. A test of the picker path gives the page a picker of its own (a later init script).
  await context.addInitScript('delete window.showSaveFilePicker');
  const v = process.env.WSI_E2E_ZERO_COPY;
  if (v !== '0' && v !== '1') return;
  await context.addInitScript(`try { localStorage.setItem('wsi-zero-copy', '${v}'); } catch {}`);
}

export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Worklist menu' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(process.cwd(), 'test-output/screenshots', `${name}.png`), fullPage: true });
}

/**
 * Polls a JavaScript expression (a string) in the page until it is truthy. Not
 * page.waitForFunction(string): that evals the string inside the page on every poll after the
 * first, which the app's Content-Security-Policy (no 'unsafe-eval') refuses — so it only passed
 * when the first try already held. page.evaluate goes through DevTools, which CSP does not govern.
 * Strings rather than functions because tsx's helpers (__name) do not exist in the page.
 */
export async function pollInPage(page: Page, expression: string, { timeout = 30_000, interval = 100 } = {}): Promise<void> {
  const end = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(expression)) return;
    if (Date.now() > end) throw new Error(`pollInPage: still false after ${timeout} ms: ${expression.slice(0, 120)}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
