import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { cspReportPath, cspReportRoutes, summarizeReports } from '../../src/server/routes/csp-report.ts';
import { removeDir, startServer, type TestServer } from './support.ts';

/** What a browser sends for report-uri (Chromium's field names), with a sample that may hold PHI. */
const legacyReport = {
  'csp-report': {
    'document-uri': 'http://127.0.0.1:8080/scans/12?q=DOE%5EJANE',
    referrer: '',
    'violated-directive': 'style-src-attr',
    'effective-directive': 'style-src-attr',
    'original-policy': "default-src 'self'",
    disposition: 'enforce',
    'blocked-uri': 'inline',
    'line-number': 12,
    'column-number': 3,
    'source-file': 'http://127.0.0.1:8080/app.js',
    'status-code': 200,
    'script-sample': 'color: red /* DOE^JANE 1970-01-01 */',
  },
};
const reportingApi = [
  { type: 'csp-violation', url: 'http://127.0.0.1:8080/import', body: { effectiveDirective: 'img-src', blockedURL: 'https://tracker.example/pixel.gif?patient=DOE', sourceFile: 'https://cdn.example/lib/x.js', lineNumber: 1, sample: 'DOE^JANE' } },
  { type: 'deprecation', body: { id: 'x' } },
];

describe('summarizeReports', () => {
  test('report-uri format: directive, blocked keyword, our script and line; never the sample or the document URL', () => {
    const [v] = summarizeReports(legacyReport);
    assert.deepEqual(v, { directive: 'style-src-attr', blocked: 'inline', source: '/app.js', line: 12 });
    assert.doesNotMatch(JSON.stringify(summarizeReports(legacyReport)), /DOE|JANE|scans|1970/);
  });

  test('Reporting API format: only csp-violation entries; a blocked URL is reduced to its origin; foreign scripts are not named', () => {
    const out = summarizeReports(reportingApi);
    assert.deepEqual(out, [{ directive: 'img-src', blocked: 'https://tracker.example', line: 1 }]);
  });

  test('blob:, data: and eval are named by kind', () => {
    const kinds = ['blob:http://127.0.0.1:8080/1b6a0c6e-0000-4000-8000-000000000000', 'data:image/png;base64,AAAA', 'eval', 'wasm-eval'].map(
      (u) => summarizeReports({ 'csp-report': { 'effective-directive': 'worker-src', 'blocked-uri': u } })[0]?.blocked,
    );
    assert.deepEqual(kinds, ['blob', 'data', 'eval', 'wasm-eval']);
  });

  test('anything else is not a report', () => {
    for (const body of [null, 'x', 42, {}, { 'csp-report': 'x' }, [{ type: 'deprecation', body: {} }]]) assert.deepEqual(summarizeReports(body), []);
  });
});

describe('the report endpoint', () => {
  test('logs each violation once (summary only), answers 204, refuses non-reports, caps the log', async () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const log = {
      warn: (obj: Record<string, unknown>, msg: string) => lines.push({ obj, msg }),
    } as unknown as FastifyBaseLogger;
    const app = Fastify();
    cspReportRoutes(app, log);
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}${cspReportPath}`;
      const post = (type: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
      assert.equal((await post('application/csp-report', JSON.stringify(legacyReport))).status, 204);
      assert.equal((await post('application/reports+json', JSON.stringify(reportingApi))).status, 204);
      assert.equal(lines.length, 2);
      assert.deepEqual(lines.map((l) => l.msg), ['content security policy violation', 'content security policy violation']);
      assert.deepEqual(lines[0]!.obj, { csp: { directive: 'style-src-attr', blocked: 'inline', source: '/app.js', line: 12 } });
      assert.doesNotMatch(JSON.stringify(lines), /DOE|JANE|pixel|scans/);

      assert.equal((await post('application/csp-report', '{not json')).status, 400);
      assert.equal((await post('application/json', JSON.stringify({ hello: 'world' }))).status, 400);
      assert.equal((await post('application/csp-report', JSON.stringify({ 'csp-report': { 'blocked-uri': 'x'.repeat(70 * 1024) } }))).status, 413);
      // A flood: at most 30 a minute reach the log.
      for (let i = 0; i < 40; i++) await post('application/csp-report', JSON.stringify(legacyReport));
      assert.equal(lines.length, 30);
    } finally {
      await app.close();
    }
  });

  describe('on the real server', () => {
    let s: TestServer;
    before(async () => {
      s = await startServer();
    });
    after(async () => {
      await s.stop();
      await removeDir(s.config.dataDir);
    });

    test('the policy names the endpoint, and a browser report (no session, no Origin) is accepted', async () => {
      const res = await fetch(`${s.url}/api/health`);
      assert.match(res.headers.get('content-security-policy') ?? '', /(^|;)\s*report-uri \/api\/csp-report(;|$)/);
      const r = await fetch(s.url + cspReportPath, { method: 'POST', headers: { 'content-type': 'application/csp-report' }, body: JSON.stringify(legacyReport) });
      assert.equal(r.status, 204);
    });
  });
});
