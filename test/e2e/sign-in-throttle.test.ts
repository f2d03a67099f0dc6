/**
 * Issue 11, sign-in abuse, as the real user sees it in Chromium: an attacker's wrong passwords for
 * the user's name (from the same address, the worst case: a shared lab PC or a NAT) slow the
 * attacker down but never lock the real user out. The user sees the wait in words, and once it
 * is over the right password gets in — the old throttle answered 429 for 15 minutes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, serverEnv } from './support/wizard.ts';
import { useServerAndBrowser } from './support/setup.ts';

describe('sign-in throttling in Chromium', () => {
  const ctx = useServerAndBrowser(serverEnv);

  it('the real user gets in after an attacker hammered their name from the same address', async () => {
    const { server, browser } = ctx;
    let throttled = 0;
    let retryAfter = 0;
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${server.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ADMIN.username, password: `wrong-guess-${i}-xyz` }) });
      assert.ok(res.status === 401 || res.status === 429, `attempt ${i}: ${res.status}`);
      if (res.status === 429) {
        throttled++;
        retryAfter = Number(res.headers.get('retry-after'));
      }
    }
    assert.ok(throttled > 0, 'the attacker is slowed down');
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);

    const page = browser.page;
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const menu = page.getByRole('navigation', { name: 'Worklist menu' });
    const alert = page.getByRole('alert');
    // Either the wait is already over, or the page says how long to wait; then the same password works.
    await Promise.race([menu.waitFor(), alert.waitFor()]);
    if (!(await menu.isVisible())) {
      const text = (await alert.textContent()) ?? '';
      assert.match(text, /try again in \d+ second/i);
      assert.doesNotMatch(text, /wrong username or password/i, 'a throttled attempt is not reported as a wrong password');
      const seconds = Number(/(\d+) second/i.exec(text)![1]);
      await page.waitForTimeout((seconds + 1.5) * 1000);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await menu.waitFor({ timeout: 15_000 });
    }
    assert.ok(await menu.isVisible(), 'the real user is signed in');
  });
});
