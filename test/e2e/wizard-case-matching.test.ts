import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ApiClient } from './support/api-client.ts';
import { checkPage, describeViolations } from './support/axe.ts';
import { screenshot } from './support/browser.ts';
import { useServerAndBrowser } from './support/setup.ts';
import { ADMIN, autoRedactToReview, finalizeAndUpload, openImport, pickFiles, recordRequests, serverEnv, type Recorded } from './support/wizard.ts';
import { writeSvsWithBarcode, type Symbology } from '../fixtures/barcode-slides.ts';

/**
 * Issue 14, in the browser: 4 slides whose labels carry barcodes and a manifest (3 rows by barcode,
 * 1 by file name, each with a display name) end as 4 scans, each in its case, in one pass; the
 * batch record (JSON, CSV, HTML) holds the original file names and barcodes; and no request the
 * page made carries a barcode or an original file name — only the case numbers the user confirmed.
 */
interface Fixture { file: string; code: string; symbology: Symbology; where: 'label' | 'macro'; caseNumber: string; name: string; byFile?: boolean }

const SLIDES: Fixture[] = [
  { file: 'S24-0001 Smith.svs', code: 'LAB-7731-A', symbology: 'code128', where: 'label', caseNumber: 'C-2024-101', name: 'Case 101 block A' },
  { file: 'S24-0002 Jones.svs', code: 'LAB-7732-B', symbology: 'datamatrix', where: 'label', caseNumber: 'C-2024-102', name: 'Case 102 block A' },
  { file: 'S24-0003 Brown.svs', code: 'LAB-7733-C', symbology: 'qr', where: 'macro', caseNumber: 'C-2024-103', name: 'Case 103 block A' },
  { file: 'S24-0004 Green.svs', code: 'LAB7734D', symbology: 'code39', where: 'label', caseNumber: 'C-2024-104', name: 'Case 104 block A', byFile: true },
];
/** Exists before the upload: linked, not created. */
const EXISTING_CASE = 'C-2024-102';

describe('import wizard: barcodes + manifest → cases at upload, the batch record', () => {
  const t = useServerAndBrowser(serverEnv);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsi-cases-'));
    for (const s of SLIDES) await writeSvsWithBarcode(join(dir, s.file), { text: s.code, symbology: s.symbology, where: s.where });
    const rows = SLIDES.map((s) => (s.byFile ? `,${s.file},${s.caseNumber},${s.name}` : `${s.code},,${s.caseNumber},${s.name}`));
    await writeFile(join(dir, 'map.csv'), ['barcode,file,case,name', ...rows].join('\r\n') + '\r\n');
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('links 4 scans to their cases in one pass, saves the record, sends no barcode or file name', async () => {
    const page = t.browser.page;
    const requests = recordRequests(page);
    const api = await ApiClient.login(t.server.url, ADMIN.username, ADMIN.password);
    await openImport(page, t.server.url);
    await api.json('/api/cases', { body: { caseNumber: EXISTING_CASE } });

    await pickFiles(page, SLIDES.map((s) => join(dir, s.file)));
    await page.getByText(/4 slides ready/).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Next' }).click();

    // 2. Loaded files → Match slides to cases: the barcodes are read in the worker and shown.
    await page.getByRole('heading', { name: 'Loaded files' }).waitFor();
    const matching = page.locator('wsi-case-matching');
    await matching.getByRole('heading', { name: 'Match slides to cases' }).waitFor();
    for (const s of SLIDES) await matching.locator('td.barcodes code', { hasText: s.code }).waitFor({ timeout: 60_000 });
    // Before a manifest: each lone barcode is proposed as the case number, unconfirmed.
    await matching.getByText('Barcode proposed as the case number — confirm').first().waitFor();
    await matching.getByLabel('Load a table (CSV or TSV)').setInputFiles(join(dir, 'map.csv'));
    await matching.getByText('map.csv: 4 rows').waitFor();
    for (const [i, s] of SLIDES.entries()) {
      const row = matching.locator('tbody tr', { hasText: s.file.replace(/\.svs$/, '') });
      await row.getByText(s.caseNumber).waitFor();
      await row.getByText(s.name).waitFor();
      const how = s.byFile ? `File name matched line ${i + 2} of map.csv` : `matched line ${i + 2} of map.csv`;
      await row.getByText(how).waitFor();
    }
    await matching.getByText('Barcode on the overview image matched line 4 of map.csv').waitFor();
    await matching.getByText('4 slides with a case, 0 slides without').waitFor();
    await matching.getByRole('checkbox', { name: 'Create cases that do not exist yet' }).check();
    await screenshot(page, 'wizard-cases-2-matched');
    const found = await checkPage(page, 'wizard-cases-2-matched');
    assert.deepEqual(found, [], describeViolations(found));
    await page.getByRole('button', { name: 'Next' }).click();

    // 3–5: Auto redact (removes the file-name field: the slides go up under neutral names).
    await autoRedactToReview(page);

    // 7. Done: 4 scans, each in its case — linked at upload, no second pass.
    const scanIds = await finalizeAndUpload(page, 180_000);
    assert.equal(scanIds.length, 4);
    for (const s of SLIDES) {
      const text = s.caseNumber === EXISTING_CASE ? `Linked to case ${s.caseNumber}` : `Case ${s.caseNumber} created`;
      await page.locator('wsi-import-done').getByText(text).waitFor({ timeout: 60_000 });
    }
    await page.getByRole('link', { name: 'Show this batch in Scans' }).waitFor();
    await screenshot(page, 'wizard-cases-7-done');
    const doneViolations = await checkPage(page, 'wizard-cases-7-done');
    assert.deepEqual(doneViolations, [], describeViolations(doneViolations));

    const byName = new Map<string, { caseLink: { caseNumber: string; state: string } | null; status: string }>();
    for (const id of scanIds) {
      const { scan } = await api.json<{ scan: { name: string; status: string; caseLink: { caseNumber: string; state: string } | null } }>(`/api/scans/${id}`);
      byName.set(scan.name, scan);
    }
    for (const s of SLIDES) {
      const scan = byName.get(s.name);
      assert.ok(scan, `a scan named "${s.name}" (names: ${[...byName.keys()].join(', ')})`);
      assert.deepEqual(scan.caseLink, { caseNumber: s.caseNumber, state: s.caseNumber === EXISTING_CASE ? 'linked' : 'created' }, s.name);
    }
    const { cases } = await api.json<{ cases: { caseNumber: string; scanCount: number }[] }>('/api/cases');
    for (const s of SLIDES) assert.equal(cases.find((c) => c.caseNumber === s.caseNumber)?.scanCount, 1, `${s.caseNumber} holds its one scan`);

    // The batch record: three files saved on this PC, each with the 4 slides' names and barcodes.
    const saved = await saveRecords(page, dir);
    const doc = JSON.parse(saved.json) as { kind: string; slides: { originalFiles: { path: string; sha256: string | null }[]; barcodes: { value: string }[]; case: { number: string; state: string } | null; displayName: string | null; sent: { sha256: string }[]; verification: { ok: boolean; problems: string[] } | null; sweep: { ok: boolean } | null }[] };
    assert.equal(doc.kind, 'wsi-bulk-import.batch-record');
    assert.equal(doc.slides.length, 4);
    for (const s of SLIDES) {
      const rec = doc.slides.find((r) => r.originalFiles[0]?.path === s.file);
      assert.ok(rec, `${s.file} in the JSON record`);
      assert.ok(rec.barcodes.some((b) => b.value === s.code), `${s.file}: its barcode is recorded`);
      assert.match(rec.originalFiles[0]!.sha256 ?? '', /^[0-9a-f]{64}$/, `${s.file}: the original's SHA-256`);
      assert.equal(rec.displayName, s.name);
      assert.equal(rec.case?.number, s.caseNumber);
      assert.ok(rec.sent.length > 0 && rec.sent.every((x) => /^[0-9a-f]{64}$/.test(x.sha256)), `${s.file}: what was sent, with its SHA-256`);
      assert.deepEqual(rec.verification, { ok: true, problems: [] }, `${s.file}: verified`);
      assert.equal(rec.sweep?.ok, true, `${s.file}: swept`);
    }
    const csvLines = saved.csv.trim().split(/\r?\n/);
    assert.equal(csvLines.length, 5, 'a header and one row per slide');
    for (const s of SLIDES) {
      assert.equal(csvLines.filter((l) => l.includes(s.file) && l.includes(s.code)).length, 1, `${s.file}: one CSV row with its barcode`);
      assert.ok(saved.html.includes(s.file) && saved.html.includes(s.code), `${s.file} and its barcode on the printable page`);
    }

    // No request carried a barcode or an original file name (any case, raw or URL-encoded, in
    // the URL, a header, the body or tus Upload-Metadata) — the confirmed case numbers may go.
    const secrets = SLIDES.flatMap((s) => [s.code, s.file, s.file.replace(/\.svs$/, '')]);
    const leaks = leaksIn(requests, secrets);
    assert.deepEqual(leaks, [], 'no request carried a barcode or an original file name');
    // The server's batch record was told once that the batch finished (counts only).
    const puts = requests.filter((r) => r.method === 'PUT' && new URL(r.url).pathname.startsWith('/api/batches/'));
    assert.equal(puts.length, 1, 'one PUT /api/batches/:id');
    assert.deepEqual(JSON.parse(puts[0]!.body!.toString('utf8')), { client: 'web', slides: 4, finished: true });
    const sentCases = requests.flatMap((r) => uploadMetadata(r).caseNumber ?? []);
    assert.deepEqual([...new Set(sentCases)].sort(), SLIDES.map((s) => s.caseNumber).sort(), 'each confirmed case number was sent with its slide');
  });
});

/** Click JSON, CSV and Printable page; returns what each download holds. */
async function saveRecords(page: Page, dir: string): Promise<{ json: string; csv: string; html: string }> {
  const out: Record<string, string> = {};
  for (const [kind, button, ext] of [['json', 'JSON', '.json'], ['csv', 'CSV', '.csv'], ['html', 'Printable page (HTML)', '.html']] as const) {
    const event = page.waitForEvent('download');
    await page.getByRole('button', { name: button, exact: true }).click();
    const dl = await event;
    assert.ok(dl.suggestedFilename().endsWith(ext), `${kind}: ${dl.suggestedFilename()}`);
    assert.match(dl.suggestedFilename(), /^batch-/);
    const path = join(dir, `record${ext}`);
    await dl.saveAs(path);
    out[kind] = await readFile(path, 'utf8');
  }
  return out as { json: string; csv: string; html: string };
}

/** tus Upload-Metadata of a request ("key base64,key base64"), decoded; {} without one. */
function uploadMetadata(r: Recorded): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (r.headers['upload-metadata'] ?? '').split(',')) {
    const [k, v] = pair.trim().split(' ');
    if (k) out[k] = Buffer.from(v ?? '', 'base64').toString('utf8');
  }
  return out;
}

/** "METHOD URL: what" for every request holding one of `secrets`. */
function leaksIn(requests: Recorded[], secrets: string[]): string[] {
  const forms = (v: string) => [v, encodeURIComponent(v), v.replace(/ /g, '+')].map((x) => x.toLowerCase());
  const needles = [...new Set(secrets.flatMap(forms))];
  const out: string[] = [];
  for (const r of requests) {
    const texts: [string, string][] = [
      ['url', decodeURIComponentSafe(r.url)], ['url', r.url],
      ...Object.entries(r.headers).map(([k, v]): [string, string] => [`header ${k}`, v]),
      ...Object.entries(uploadMetadata(r)).map(([k, v]): [string, string] => [`Upload-Metadata ${k}`, v]),
      ['body', r.body ? r.body.toString('latin1') : ''],
    ];
    for (const [where, text] of texts) {
      const lower = text.toLowerCase();
      const hit = needles.find((n) => lower.includes(n));
      if (hit) out.push(`${r.method} ${r.url}: ${where} holds "${hit}"`);
    }
  }
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
