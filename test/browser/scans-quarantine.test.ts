import '../../src/app/components/wsi-scans/wsi-scans.ts';
import '../../src/app/components/wsi-scan-details/wsi-scan-details.ts';
import { loadMe } from '../../src/app/state/session.ts';
import type { ScanSummary } from '../../src/app/api.ts';
import { byText, deepQueryAll, eq, ok, until } from './wizard/support.ts';

/**
 * The Scans worklist and the scan page with a quarantined scan, against a stubbed fetch (the
 * server side is tested for real in test/server/quarantine.test.ts): status and reason shown, no
 * viewer, "Remove files" only for a lab admin, and the removal shown once the server confirms it.
 */
const quarantined: ScanSummary = {
  id: 41, slideId: '00000000-0000-4000-8000-000000000041', status: 'quarantined', mode: 'deidentified', parts: 1,
  format: null, width: null, height: null, levels: null, mpp: null, originalFilename: 'slide-1a2b3c4d.svs', totalBytes: 1000,
  error: 'failed verification on the server: 50 byte(s) outside the image structure are not blank',
  uploadedBy: { id: 2, username: 'u' }, createdAt: '2025-01-01T00:00:00.000Z', cases: [],
  quarantine: { problems: ['50 byte(s) outside the image structure are not blank'], filesRemoved: null },
};

function stubServer(role: 'lab-admin' | 'lab-user'): { calls: string[]; restore: () => void } {
  const calls: string[] = [];
  const real = window.fetch;
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    if (url === '/api/me') return json({ user: { id: 2, username: 'u' }, labs: [{ id: 1, name: 'L', role, features: [] }], currentLabId: 1, canImport: false });
    // The worklist asks for one page (sort, filters, paging in the query) and its filter choices.
    if (url.startsWith('/api/scans?')) return json({ scans: [quarantined], total: 1, totalExact: true });
    if (url === '/api/scans/filters') return json({ batches: [], uploaders: [], formats: [] });
    if (url === `/api/scans/${quarantined.id}` && method === 'GET') return json({ scan: { ...quarantined, files: [] } });
    if (url === `/api/scans/${quarantined.id}/files` && method === 'DELETE') {
      return json({ scan: { ...quarantined, totalBytes: 0, quarantine: { ...quarantined.quarantine!, filesRemoved: { at: '2025-01-02T00:00:00.000Z', by: { id: 1, username: 'boss' } } } } });
    }
    return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'not found' } }), { status: 404 });
  };
  return { calls, restore: () => (window.fetch = real) };
}

describe('quarantined scans in the worklist and on the scan page', () => {
  it('worklist: Quarantined with the reason; a lab admin removes the files after confirming', async () => {
    const server = stubServer('lab-admin');
    try {
      await loadMe();
      document.body.replaceChildren(document.createElement('wsi-scans'));
      const el = document.body.firstElementChild as HTMLElement;
      const chip = await until(() => byText<HTMLElement>(el, '.status', 'Quarantined — failed verification'), 'the Quarantined status');
      ok(chip, 'status shown as Quarantined — failed verification');
      await until(() => byText<HTMLElement>(el, 'div', /outside the image structure are not blank/), 'the reason');
      (await until(() => byText(el, 'button', 'Remove files'), 'Remove files for a lab admin')).click();
      (await until(() => byText(el, 'button', 'Yes, remove'), 'a confirmation')).click();
      await until(() => byText<HTMLElement>(el, 'div', /Files removed .* by boss/), 'the removal shown');
      eq(server.calls.filter((c) => c.startsWith('DELETE')), [`DELETE /api/scans/${quarantined.id}/files`], 'one DELETE of the files');
      ok(!byText(el, 'button', 'Remove files'), 'no second removal offered');
    } finally {
      server.restore();
    }
  });

  it('scan page: no viewer (the bytes are refused), every problem listed; a lab user gets no Remove files', async () => {
    const server = stubServer('lab-user');
    try {
      await loadMe();
      const el = document.createElement('wsi-scan-details');
      el.setAttribute('scan-id', String(quarantined.id));
      document.body.replaceChildren(el);
      await until(() => byText<HTMLElement>(el, 'p', /failed verification on the server and is quarantined/), 'the quarantine notice');
      await until(() => byText<HTMLElement>(el, 'li', /outside the image structure/), 'the problem listed');
      eq(deepQueryAll(el, 'wsi-viewer').length, 0, 'no viewer');
      ok(!byText(el, 'button', 'Remove files'), 'no Remove files for a lab user');
      ok(!server.calls.some((c) => c.includes('/file?')), 'no file was requested');
    } finally {
      server.restore();
    }
  });
});
