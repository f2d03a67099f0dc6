import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './support/browser.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { startFlakyProxy } from './support/flaky-proxy.ts';
import { checkStoredOnce, startThrottledUpload, unthrottle } from './support/throttled-upload.ts';
import { serverEnv } from './support/wizard.ts';

/**
 * Step 7's promise: an upload survives a lost connection and a server restart without losing or
 * duplicating data. The page is throttled so the interruption lands mid-upload.
 */
describe('upload interruptions in Chromium', () => {
  const t = useServerAndBrowser(serverEnv);

  it('finishes after the server is killed mid-upload and restarted', async () => {
    const { page, cdp, requests } = await startThrottledUpload(t.browser, t.server.url, 'direct-kill');
    await t.server.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    await t.server.restart();
    await unthrottle(cdp);
    await checkStoredOnce(page, t.server.dataDir, requests);
    await screenshot(page, 'upload-after-server-restart');
  });

  it('finishes after the connection drops mid-request', async () => {
    // The browser talks to the server through a proxy that can cut live connections.
    const proxy = await startFlakyProxy(t.server.port);
    try {
      const { page, cdp, requests } = await startThrottledUpload(t.browser, proxy.url, 'connection-drop');
      proxy.cut(4000);
      // While the server cannot be reached the page says so, with no stale speed or ETA.
      await page.getByRole('cell', { name: 'Reconnecting…' }).waitFor({ timeout: 4000 });
      const line = ((await page.locator('wsi-upload-progress .overall .line span').textContent()) ?? '').replace(/\s+/g, ' ');
      assert.match(line, /· Reconnecting…/, `overall line: ${line}`);
      assert.doesNotMatch(line, /\/s|left|estimating/, 'no speed or ETA while reconnecting');
      await screenshot(page, 'upload-reconnecting');
      await new Promise((r) => setTimeout(r, 4000));
      await unthrottle(cdp);
      await checkStoredOnce(page, t.server.dataDir, requests);
    } finally {
      await proxy.close();
    }
  });
});
