/**
 * The batch record as one printable HTML page (print to PDF from the browser). Self-contained: inline
 * CSS, no scripts (a Content-Security-Policy forbids them, so a value that escaped wrongly could still
 * not run), no external resources; the scan links are the only URLs. Every value is escaped. Laid
 * out for A4: a summary, an overview table, then one table per slide that a page break avoids.
 */
import { formatBytes } from '../format-bytes.ts';
import { formatLabel } from '../format-names.ts';
import { plural } from '../plural.ts';
import { statusLabel } from '../status-names.ts';
import type { BatchRecordDoc, SlideRecord } from './types.ts';
import { caseStateWords, matchWords, serverCheckWords, slideError, slideTitle, sweepWords, uploadWords, verificationWords } from './words.ts';

/** The plain-words notice (C6): what the page holds, where it was written, what to do with it. */
export const BATCH_RECORD_NOTICE =
  'This record holds the original file names and barcodes of the slides. It was written on this computer and was not uploaded: ' +
  'the server has no copy of these names and barcodes. Keep it with the lab’s records — it is what links each scan back to its glass slide.';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and attribute values. */
export function escapeHtml(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "2025-03-04 14:05:09 (UTC+01:00)" in this computer's time zone; the ISO text if it is not a date. */
export function recordTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const off = -d.getTimezoneOffset();
  const zone = `UTC${off < 0 ? '−' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} (${zone})`;
}

const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(recordTime(iso))}</time>`;
const isWebUrl = (u: string) => /^https?:\/\/[^\s]+$/i.test(u);
const link = (url: string) => (isWebUrl(url) ? `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>` : escapeHtml(url));
const mono = (v: string) => `<span class="mono">${escapeHtml(v)}</span>`;
const code = (v: string) => `<span class="code">${escapeHtml(v)}</span>`;
const bad = (html: string) => `<span class="bad">${html}</span>`;
const none = '<span class="none">None</span>';

/** Short labels (fields, image roles) run on one line, so a slide with 40 removed fields still fits a page. */
const inline = (items: string[]) => (items.length ? escapeHtml(items.join(', ')) : none);

const SOURCE_WORDS: Readonly<Record<string, string>> = { label: 'on the label', macro: 'on the macro image', metadata: 'in the file’s metadata' };
function barcodeWords(b: { value: string; symbology: string; source: string }): string {
  const where = SOURCE_WORDS[b.source] ?? b.source;
  return `${code(b.value)} (${escapeHtml(b.symbology === 'metadata' ? where : `${b.symbology}, ${where}`)})`;
}

function list(items: string[]): string {
  if (items.length === 0) return none;
  if (items.length === 1) return items[0];
  return `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`;
}

const MODE_WORDS: Readonly<Record<string, string>> = {
  deidentified: 'De-identified on this computer before upload',
  direct: 'Direct Upload: the original files were sent unchanged',
};

const STYLE = `
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1a1a1a; font: 10.5pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 18pt; margin: 0 0 .5rem; }
h2 { font-size: 13pt; margin: 1.2rem 0 .4rem; break-after: avoid; page-break-after: avoid; }
.notice { border: 2px solid #6b4500; background: #fff8e6; padding: .5rem .75rem; margin: .5rem 0 1rem; }
table { border-collapse: collapse; width: 100%; margin: 0 0 .5rem; }
th, td { border: 1px solid #767676; padding: 3px 6px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
thead th { background: #ececec; }
th[scope="row"] { width: 30%; background: #f4f4f4; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
ul { margin: 0; padding-left: 1.1em; }
a { color: #0645ad; }
.mono { font-family: ui-monospace, "Cascadia Mono", Consolas, "Liberation Mono", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
.code { font-family: ui-monospace, "Cascadia Mono", Consolas, "Liberation Mono", monospace; overflow-wrap: anywhere; }
.bad { color: #a3000b; font-weight: 600; }
.none { color: #555; }
.slide { break-inside: avoid; page-break-inside: avoid; }
@media print {
  main { max-width: none; padding: 0; }
  .notice { background: none; }
  a { color: inherit; text-decoration: none; }
}
`;

function summary(doc: BatchRecordDoc): string {
  const count = (state: string) => doc.slides.filter((s) => s.upload.state === state).length;
  const uploaded = count('uploaded');
  const failed = count('failed');
  const others = (['cancelled', 'skipped', 'not-started'] as const)
    .map((st) => [st, count(st)] as const)
    .filter(([, n]) => n > 0)
    .map(([st, n]) => `${n} ${uploadWords({ state: st }).toLowerCase()}`);
  const inCase = doc.slides.filter((s) => s.case?.state === 'linked' || s.case?.state === 'created').length;
  const rows: [string, string][] = [
    ['Slides', escapeHtml(plural(doc.slides.length, 'slide'))],
    ['Uploaded', escapeHtml(String(uploaded))],
    ['Failed', failed > 0 ? bad(escapeHtml(String(failed))) : '0'],
    ...(others.length ? [['Not uploaded', escapeHtml(others.join(', '))] as [string, string]] : []),
    ['Linked to their case', escapeHtml(String(inCase))],
    ['Batch', code(doc.batchId)],
    ['Started', time(doc.startedAt)],
    ['Finished', time(doc.finishedAt)],
    ['Server', escapeHtml(doc.server)],
    ['Lab', doc.lab ? escapeHtml(doc.lab) : none],
    ['User', doc.user ? escapeHtml(doc.user) : none],
    ['Mode', escapeHtml(MODE_WORDS[doc.mode] ?? doc.mode)],
    ['Written by', escapeHtml(doc.client === 'cli' ? 'wsi-import upload (command line)' : 'WSI Bulk Import in the browser')],
  ];
  return `<table class="summary"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

function overview(doc: BatchRecordDoc): string {
  const rows = doc.slides.map((s, i) => {
    const upload = s.upload.state === 'uploaded' ? escapeHtml(uploadWords(s.upload)) : bad(escapeHtml(uploadWords(s.upload)));
    return `<tr><td>${i + 1}</td><td><a href="#slide-${i + 1}">${escapeHtml(slideTitle(s, i))}</a></td><td>${s.case ? escapeHtml(s.case.number) : none}</td><td>${upload}</td><td>${s.scan ? escapeHtml(`Scan ${s.scan.id}`) : none}</td></tr>`;
  });
  return `<table class="overview"><thead><tr><th scope="col">#</th><th scope="col">Slide</th><th scope="col">Case</th><th scope="col">Upload</th><th scope="col">Scan</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function slideSection(s: SlideRecord, i: number, total: number): string {
  const files = (fs: { name: string; size: number; sha256: string | null }[]) =>
    list(fs.map((f) => `${escapeHtml(f.name)} (${escapeHtml(formatBytes(f.size))})<br>SHA-256: ${f.sha256 ? mono(f.sha256) : 'not computed'}`));
  const rows: [string, string][] = [
    ['Display name', s.displayName ? escapeHtml(s.displayName) : none],
    ['Case', s.case ? `${escapeHtml(s.case.number)} — ${escapeHtml(caseStateWords(s.case.state))}` : none],
    ['Matched by', escapeHtml(matchWords(s.match))],
    ['Original files', files(s.originalFiles.map((f) => ({ name: f.path, size: f.size, sha256: f.sha256 })))],
    ['Barcodes', list(s.barcodes.map(barcodeWords))],
    ['Format', s.format ? escapeHtml(formatLabel(s.format)) : none],
    ['Dimensions', s.width !== null && s.height !== null ? escapeHtml(`${s.width.toLocaleString('en-US')} × ${s.height.toLocaleString('en-US')} pixels`) : none],
    ['MPP', s.mpp ? escapeHtml(`${s.mpp.x} × ${s.mpp.y} µm per pixel${s.mpp.source ? ` (from ${s.mpp.source})` : ''}`) : none],
    ['Sent files', files(s.sent)],
    ['Removed fields', inline(s.removedFields)],
    ['Removed images', inline(s.removedImages)],
    ['Kept identifying fields', inline(s.keptIdentifyingFields)],
    ['Verification', s.verification && !s.verification.ok ? bad(escapeHtml(verificationWords(s.verification))) : escapeHtml(verificationWords(s.verification))],
    ['PHI sweep', s.sweep && !s.sweep.ok ? bad(escapeHtml(sweepWords(s.sweep))) : escapeHtml(sweepWords(s.sweep))],
    ['Upload', s.upload.state === 'uploaded' ? escapeHtml(uploadWords(s.upload)) : bad(escapeHtml(uploadWords(s.upload)))],
    [
      'Scan',
      s.scan
        ? `${escapeHtml(`Scan ${s.scan.id} — ${statusLabel(s.scan.status)}`)}<br>${link(s.scan.url)}${s.scan.serverCheck ? `<br>Server check: ${escapeHtml(serverCheckWords(s.scan.serverCheck))}` : ''}`
        : none,
    ],
  ];
  const err = slideError(s);
  if (err) rows.push(['Error', bad(escapeHtml(err))]);
  const body = rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${v}</td></tr>`).join('');
  return `<section class="slide" aria-labelledby="slide-${i + 1}"><h2 id="slide-${i + 1}">${escapeHtml(`Slide ${i + 1} of ${total}: ${slideTitle(s, i)}`)}</h2><table><tbody>${body}</tbody></table></section>`;
}

export function batchRecordHtml(doc: BatchRecordDoc): string {
  const title = `Batch record ${doc.batchId.slice(0, 8)} — ${recordTime(doc.startedAt).slice(0, 10)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="notice" role="note"><strong>Keep with the lab’s records.</strong> ${escapeHtml(BATCH_RECORD_NOTICE)}</p>
<section aria-labelledby="summary"><h2 id="summary">Summary</h2>
${summary(doc)}
${doc.slides.length ? overview(doc) : ''}
</section>
${doc.slides.map((s, i) => slideSection(s, i, doc.slides.length)).join('\n')}
</main>
</body>
</html>
`;
}
