import type { Page } from 'playwright-core';

/**
 * Steps of setting a lab up in the UI that more than one story walks through: the sign-in form
 * (without waiting for the menu: a one-time password leads elsewhere), the one-time password card
 * and the first sign-in that asks for a password of one's own. Each takes an optional `check`,
 * called on the page states it passes (screenshot + axe-core in the callers).
 */
export type StateCheck = (page: Page, state: string) => Promise<void>;

/** Fills and sends the sign-in form on the current (login) page. */
export async function submitSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The one-time password card (after creating a lab or an account): reads the password, then Done. */
export async function takeOneTimePassword(page: Page, check?: StateCheck, state = 'one-time-password'): Promise<string> {
  const card = page.locator('wsi-one-time-password');
  const code = card.getByLabel('One-time password', { exact: true });
  await code.waitFor();
  const password = (await code.textContent())!.trim();
  if (!/^[A-Za-z0-9]{20}$/.test(password)) throw new Error(`not a one-time password: ${password.length} characters`);
  await check?.(page, state);
  await card.getByRole('button', { name: 'Done' }).click();
  await card.waitFor({ state: 'detached' });
  return password;
}

/**
 * First sign-in with a one-time password on the current (login) page: the app asks for a new
 * password before anything else; after it, the worklist menu.
 */
export async function firstSignIn(page: Page, username: string, oneTime: string, own: string, check?: StateCheck, state = 'first-sign-in'): Promise<void> {
  await submitSignIn(page, username, oneTime);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await check?.(page, state);
  await page.getByLabel('One-time password').fill(oneTime);
  await page.getByLabel('New password', { exact: true }).fill(own);
  await page.getByLabel('New password again').fill(own);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('navigation', { name: 'Worklist menu' }).waitFor();
}
