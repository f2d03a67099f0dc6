import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useServerAndBrowser } from './support/setup.ts';
import { checkPage, describeViolations } from './support/axe.ts';

/**
 * Setting a lab up in the UI only (issue 13): the platform admin creates a lab and its first lab
 * admin; that admin signs in with the one-time password, chooses their own, creates a lab user and
 * switches Bulk Import on; the lab user signs in the same way and finds Bulk Import in the menu.
 * Every page state is screenshotted at 1366×768 and checked with axe-core (0 violations).
 */
const platformPassword = 'platform admin passphrase here';

describe('a new lab set up in the UI, from the platform admin to a lab user', () => {
  const t = useServerAndBrowser({ WSI_ADMIN_PASSWORD: platformPassword });

  async function check(page: Page, state: string): Promise<void> {
    const violations = await checkPage(page, state);
    assert.equal(violations.length, 0, `${state}:\n${describeViolations(violations)}`);
  }

  /** A fresh page with nobody signed in. */
  async function signedOutPage(): Promise<Page> {
    await t.browser.context.clearCookies();
    const page = await t.browser.context.newPage();
    await page.goto(`${t.server.url}/login`);
    return page;
  }

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** The one-time password card: read the password, then Done. */
  async function takeOneTimePassword(page: Page, state: string): Promise<string> {
    const card = page.locator('wsi-one-time-password');
    const code = card.getByLabel('One-time password', { exact: true });
    await code.waitFor();
    const password = (await code.textContent())!.trim();
    assert.match(password, /^[A-Za-z0-9]{20}$/);
    await check(page, state);
    await card.getByRole('button', { name: 'Done' }).click();
    await card.waitFor({ state: 'detached' });
    return password;
  }

  /** Sign in with a one-time password: the app asks for a new one before anything else. */
  async function firstSignIn(page: Page, username: string, oneTime: string, own: string, state: string): Promise<void> {
    await signIn(page, username, oneTime);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await check(page, state);
    await page.getByLabel('One-time password').fill(oneTime);
    await page.getByLabel('New password', { exact: true }).fill(own);
    await page.getByLabel('New password again').fill(own);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('navigation', { name: 'Worklist menu' }).waitFor();
  }

  let labAdminOtp = '';
  let labUserOtp = '';

  it('the platform admin creates the lab with its first lab admin, Bulk Import still off', async () => {
    const page = await signedOutPage();
    await signIn(page, 'admin', platformPassword);
    const menu = page.getByRole('navigation', { name: 'Worklist menu' });
    await menu.getByRole('link', { name: 'Labs' }).click();
    await page.getByRole('heading', { name: 'Labs' }).waitFor();
    await page.locator('tr[data-lab="Demo Lab"]').waitFor();
    await check(page, 'admin-platform-labs');

    await page.getByLabel('Lab name').fill('Histology East');
    await page.getByLabel("First lab admin's username").fill('east-admin');
    await page.getByLabel('Their name').fill('Dr East');
    await page.getByLabel('Bulk Import on').uncheck();
    await page.getByRole('button', { name: 'Create lab' }).click();
    labAdminOtp = await takeOneTimePassword(page, 'admin-platform-lab-created');
    const row = page.locator('tr[data-lab="Histology East"]');
    await row.getByText('1 member', { exact: true }).waitFor();
    assert.equal(await row.getByRole('switch', { name: 'Bulk Import in Histology East' }).isChecked(), false);

    // A platform admin administers any lab from here.
    await row.getByRole('link', { name: 'Administer Histology East' }).click();
    await page.getByRole('heading', { name: 'Lab admin · Histology East' }).waitFor();
    await page.locator('tr[data-user="east-admin"]').waitFor();
    await check(page, 'admin-platform-lab-members');
    await page.close();
  });

  it('the new lab admin signs in, chooses a password, creates a lab user and switches Bulk Import on', async () => {
    const page = await signedOutPage();
    await firstSignIn(page, 'east-admin', labAdminOtp, 'east admin own passphrase', 'admin-first-sign-in');
    const menu = page.getByRole('navigation', { name: 'Worklist menu' });
    assert.equal(await menu.getByRole('link', { name: 'Bulk Import' }).count(), 0, 'the flag is off');
    assert.equal(await menu.getByRole('link', { name: 'Labs' }).count(), 0, 'not a platform admin');
    await menu.getByRole('link', { name: 'Lab admin' }).click();
    await page.getByRole('heading', { name: 'Lab admin · Histology East' }).waitFor();
    await page.getByRole('status', { name: 'Lab storage' }).waitFor();
    await page.locator('tr[data-user="east-admin"]').waitFor();
    await check(page, 'admin-lab-members');

    const form = page.locator('form').filter({ has: page.getByRole('button', { name: 'Create account' }) });
    await form.getByLabel('Username', { exact: true }).fill('east-user');
    await form.getByLabel('Name', { exact: true }).fill('Sam East');
    await form.getByLabel('Role').selectOption('lab-user');
    assert.equal(await form.getByLabel('One-time password').isChecked(), true, 'a one-time password by default');
    await form.getByRole('button', { name: 'Create account' }).click();
    labUserOtp = await takeOneTimePassword(page, 'admin-lab-user-created');
    const userRow = page.locator('tr[data-user="east-user"]');
    await userRow.getByRole('cell', { name: 'Active', exact: true }).waitFor();

    // The tabs work with arrow keys too.
    await page.getByRole('tab', { name: 'Members' }).focus();
    await page.keyboard.press('ArrowRight');
    const features = page.getByRole('tab', { name: 'Features' });
    assert.equal(await features.getAttribute('aria-selected'), 'true');
    const flag = page.getByRole('switch', { name: /Bulk Import/ });
    assert.equal(await flag.isChecked(), false);
    await check(page, 'admin-lab-features');
    await flag.check();
    await page.getByRole('status').filter({ hasText: 'Bulk Import is on for this lab.' }).waitFor();
    await menu.getByRole('link', { name: 'Bulk Import' }).waitFor();
    await check(page, 'admin-lab-features-on');
    await page.close();
  });

  it('the lab user signs in with the one-time password, chooses their own, and sees Bulk Import', async () => {
    const page = await signedOutPage();
    await firstSignIn(page, 'east-user', labUserOtp, 'east user own passphrase', 'admin-lab-user-first-sign-in');
    const menu = page.getByRole('navigation', { name: 'Worklist menu' });
    await menu.getByRole('link', { name: 'Bulk Import' }).click();
    await page.waitForURL(/\/import$/);
    assert.equal(await menu.getByRole('link', { name: 'Lab admin' }).count(), 0, 'a lab user administers nothing');
    await page.close();
  });

  it('the lab admin deactivates the lab user: signed out, cannot sign in; reactivated, can again', async () => {
    const userPage = await signedOutPage();
    await signIn(userPage, 'east-user', 'east user own passphrase');
    await userPage.getByRole('navigation', { name: 'Worklist menu' }).waitFor();
    const userCookies = await t.browser.context.cookies();

    // The admin in a context of their own (cookies are per context).
    const adminContext = await t.browser.context.browser()?.newContext();
    const adminPage = adminContext ? await adminContext.newPage() : await signedOutPage();
    await adminPage.goto(`${t.server.url}/login`);
    await signIn(adminPage, 'east-admin', 'east admin own passphrase');
    await adminPage.getByRole('navigation', { name: 'Worklist menu' }).getByRole('link', { name: 'Lab admin' }).click();
    const row = adminPage.locator('tr[data-user="east-user"]');
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await check(adminPage, 'admin-lab-deactivate-confirm');
    await row.getByRole('button', { name: 'Yes, deactivate' }).click();
    await row.getByRole('cell', { name: 'Deactivated', exact: true }).waitFor();
    await check(adminPage, 'admin-lab-user-deactivated');

    const r = await fetch(`${t.server.url}/api/me`, { headers: { cookie: userCookies.map((c) => `${c.name}=${c.value}`).join('; ') } });
    assert.equal(r.status, 401, "the user's session ended");
    const again = await signedOutPage();
    await signIn(again, 'east-user', 'east user own passphrase');
    await again.getByRole('alert').filter({ hasText: 'deactivated' }).waitFor();

    await row.getByRole('button', { name: 'Reactivate' }).click();
    await row.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    await again.getByRole('button', { name: 'Sign in' }).click();
    await again.getByRole('navigation', { name: 'Worklist menu' }).waitFor();
    await adminContext?.close();
    await userPage.close();
    await again.close();
  });
});
