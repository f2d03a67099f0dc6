import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBrowser, screenshot, signIn, type BrowserSession } from './support/browser.ts';
import { repoRoot, startServer, type RunningServer } from './support/server.ts';
import { ApiClient } from './support/api-client.ts';

// Used only inside page callbacks, which run in the page (the Node project has no DOM lib).
declare const navigator: { serviceWorker: { ready: Promise<{ active: unknown }>; controller: unknown } };

/** First start prints the generated admin credentials; a new user can sign in with them. */
function printedCredentials(output: string): { username: string; password: string } {
  const user = /user(?:name)?\s*[:=]\s*(\S+)/i.exec(output)?.[1];
  const password = /password\s*[:=]\s*(\S+)/i.exec(output)?.[1];
  assert.ok(user && password, `credentials not printed in server output`);
  return { username: user, password };
}

describe('walking skeleton in Chromium', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let creds: { username: string; password: string };

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    server = await startServer({ env: { WSI_ADMIN_USER: 'labadmin', WSI_ADMIN_PASSWORD: '' } });
    creds = printedCredentials(server.output());
    browser = await openBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('signs in with the printed credentials and shows Bulk Import in the worklist menu', async () => {
    assert.equal(creds.username, 'labadmin');
    await signIn(browser.page, server.url, creds.username, creds.password);
    const menu = browser.page.getByRole('navigation', { name: 'Worklist menu' });
    await menu.getByRole('link', { name: 'Bulk Import' }).waitFor();
    await menu.getByRole('link', { name: 'Scans' }).click();
    await browser.page.getByRole('heading', { name: 'Scans' }).waitFor();
    await screenshot(browser.page, 'skeleton-scans');
  });

  it('hides Bulk Import from a viewer, and from everyone when the lab flag is off', async () => {
    const admin = await ApiClient.login(server.url, creds.username, creds.password);
    const me = await admin.json<{ currentLabId: number }>('/api/me');
    await admin.json(`/api/labs/${me.currentLabId}/users`, { body: { username: 'slideviewer', password: 'viewer-password-123', role: 'viewer' } });
    const page = await browser.context.newPage();
    await browser.context.clearCookies();
    await signIn(page, server.url, 'slideviewer', 'viewer-password-123');
    const menu = page.getByRole('navigation', { name: 'Worklist menu' });
    await menu.getByRole('link', { name: 'Scans' }).waitFor();
    assert.equal(await menu.getByRole('link', { name: 'Bulk Import' }).count(), 0);
    await page.goto(`${server.url}/import`);
    await page.getByText(/Bulk Import is not available/).waitFor();

    await admin.json(`/api/labs/${me.currentLabId}/features`, { method: 'PUT', body: { features: [] } });
    await browser.context.clearCookies();
    await signIn(page, server.url, creds.username, creds.password);
    assert.equal(await menu.getByRole('link', { name: 'Bulk Import' }).count(), 0);
    await admin.json(`/api/labs/${me.currentLabId}/features`, { method: 'PUT', body: { features: ['bulk-import'] } });
    await page.reload();
    await menu.getByRole('link', { name: 'Bulk Import' }).waitFor();
    await page.close();
    await browser.context.clearCookies();
    await signIn(browser.page, server.url, creds.username, creds.password);
  });

  it('rejects a wrong password with a message', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Username').fill(creds.username);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /wrong username or password/i);
    await page.close();
  });

  it('loads the app shell offline on a second visit (service worker precache)', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/scans`);
    // Wait until the service worker controls the page, i.e. the shell is precached.
    await page.waitForFunction(async () => {
      const reg = await navigator.serviceWorker.ready;
      return Boolean(reg.active) && navigator.serviceWorker.controller !== null;
    }, undefined, { timeout: 30_000 }).catch(async () => {
      await page.reload();
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    });
    await server.stop();
    const offline = await fetch(`${server.url}/`).then(() => false, () => true);
    assert.ok(offline, 'server should be down');
    await page.reload();
    // The shell renders from the cache; with the API unreachable it offers the sign-in form.
    await page.getByRole('heading', { name: /Sign in to WSI Bulk Import/ }).waitFor({ timeout: 15_000 });
    await screenshot(page, 'skeleton-offline-shell');
    await server.restart();
  });
});
