import { after, before } from 'node:test';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBrowser, type BrowserSession } from './browser.ts';
import { repoRoot, startServer, type RunningServer } from './server.ts';

export interface E2eContext {
  server: RunningServer;
  browser: BrowserSession;
}

/**
 * Call inside describe(): a real server on a free loopback port and Debian's Chromium with an
 * on-disk profile, started before the suite's tests and disposed after them.
 */
export function useServerAndBrowser(env: Record<string, string>): E2eContext {
  const ctx = {} as E2eContext;
  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    ctx.server = await startServer({ env });
    ctx.browser = await openBrowser();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.server?.dispose();
  });
  return ctx;
}
