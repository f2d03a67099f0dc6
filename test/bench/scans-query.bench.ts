/**
 * The Scans worklist with 100,000 scans in one lab (issue 13): every query shape the Scans view
 * makes, through the real route (HTTP on loopback, session, JSON) and, for reference, the
 * repository alone. Target: a page answers in < 100 ms (p95). Rows are generated straight into
 * the database (test/server/scan-rows.ts): 100,000 in the measured lab, 20,000 in another lab,
 * batches of 40, every 7th scan in a case.
 * The database is SQLite by default; with WSI_TEST_DATABASE_URL=postgres://… (a cluster, e.g.
 * from test/support/postgres.ts) the server runs on a fresh PostgreSQL database in it, and every
 * row's metric names the database.
 */
import type { BenchRow } from './run.ts';
import { memberOf, removeDir, startServer } from '../server/support.ts';
import { insertScans } from '../server/scan-rows.ts';
import { sql } from 'kysely';
import { listQuery } from '../../src/server/routes/scans-query.ts';

const SCANS = Number(process.env.WSI_BENCH_SCANS ?? 100_000);
const RUNS = 30;
const TARGET_MS = 100;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export async function run(): Promise<BenchRow[]> {
  const s = await startServer();
  try {
    const user = await memberOf(s, 'Bench Lab', 'bench-user', 'lab-user');
    const second = await memberOf(s, 'Bench Lab', 'bench-user-2', 'lab-user');
    const other = await memberOf(s, 'Other Lab', 'bench-other', 'lab-user');
    const t0 = performance.now();
    const gen = await insertScans(s.built.repos.db, { labId: user.labId, count: SCANS, uploaders: [user.userId, second.userId], batchSize: 40, caseEvery: 7, minutesApart: 5, prefix: 'bench' });
    await insertScans(s.built.repos.db, { labId: other.labId, count: SCANS / 5, uploaders: [other.userId], prefix: 'other' });
    // Planner statistics, as a database in service has them (both dialects spell it the same).
    await sql`ANALYZE`.execute(s.built.repos.db.kysely);
    const dialect = s.built.repos.db.dialect;
    process.stderr.write(`  generated ${SCANS} scans in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    // The kept-alive connection from sign-in may have been closed by the server meanwhile.
    for (let i = 0; ; i++) {
      try {
        await (await user.client.fetch('/api/scans?limit=1')).arrayBuffer();
        break;
      } catch (e) {
        if (i === 3) throw e;
      }
    }

    const midBatch = gen.batches[Math.floor(gen.batches.length / 2)]!;
    const shapes: [string, string][] = [
      ['first page (date)', 'limit=50'],
      ['page 1000 (offset 49,950)', 'limit=50&offset=49950'],
      ['last page', `limit=50&offset=${SCANS - 50}`],
      ['sort name', 'sort=name&limit=50'],
      ['sort name, deep page', 'sort=name&limit=50&offset=60000'],
      ['sort status', 'sort=status&limit=50'],
      ['status needs-mpp', 'status=needs-mpp&limit=50'],
      ['status failed+quarantined', 'status=failed,quarantined&limit=50'],
      ['not in a case', 'unassigned=true&limit=50'],
      ['batch', `batch=${midBatch}&sort=date&dir=asc&limit=50`],
      ['uploader', `uploadedBy=${second.userId}&limit=50`],
      ['date range (1 week)', 'from=2024-03-01&to=2024-03-07&limit=50'],
      ['format', 'format=hamamatsu-ndpi&limit=50'],
      ['not in a case, sort name', 'unassigned=true&sort=name&limit=50'],
      ['not in a case, needs MPP', 'unassigned=true&status=needs-mpp&limit=50'],
      ['not in a case, deep page', 'unassigned=true&limit=50&offset=40000'],
      ['combined filters', `status=ready&unassigned=true&format=aperio-svs&uploadedBy=${user.userId}&limit=50`],
      ['combined filters, no case filter', `status=ready&format=aperio-svs&uploadedBy=${user.userId}&limit=50`],
      // Filters that few scans (or none) match, sorted by name: walking the name index would read
      // the whole lab to fill a page.
      ['few matches, sort name', 'status=needs-mpp&format=hamamatsu-ndpi&from=2024-03-01&to=2024-03-07&sort=name&limit=50'],
      ['no match, sort name', `status=needs-mpp&format=dicom-wsi&sort=name&limit=50`],
      ['search name (1 hit)', 'q=slide-1000a0f0&limit=50'],
      ['search case number', 'q=BENCH-CASE-5600&limit=50'],
      ['search, no hit', 'q=nothing-like-this&limit=50'],
      ['page of 200', 'limit=200'],
    ];
    const rows: BenchRow[] = [];
    const filters = async () => {
      const r = await user.client.fetch('/api/scans/filters');
      if (r.status !== 200) throw new Error(`filters: ${r.status}`);
      await r.arrayBuffer();
    };
    for (const [name, query] of [...shapes, ['filter choices (/api/scans/filters)', ''] as [string, string]]) {
      const http: number[] = [];
      const repo: number[] = [];
      let total = 0;
      for (let i = 0; i < RUNS + 3; i++) {
        const t = performance.now();
        if (query === '') await filters();
        else {
          const r = await user.client.fetch(`/api/scans?${query}`);
          const body = (await r.json()) as { total: number; scans: unknown[] };
          if (r.status !== 200) throw new Error(`${query}: ${r.status}`);
          total = body.total;
        }
        const ms = performance.now() - t;
        if (query !== '') {
          const t2 = performance.now();
          await s.built.repos.scans.list(user.labId, listQuery(Object.fromEntries(new URLSearchParams(query))));
          if (i >= 3) repo.push(performance.now() - t2);
        }
        if (i >= 3) http.push(ms); // the first runs warm SQLite's page cache and the JIT
      }
      const p95 = percentile(http, 95);
      process.stderr.write(`  [${dialect}] ${name}: p50 ${percentile(http, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms${query ? `, ${total} matching` : ''}\n`);
      rows.push({ bench: 'scans-query', metric: `${dialect}: ${name} p50 (HTTP)`, value: percentile(http, 50), unit: 'ms' });
      rows.push({ bench: 'scans-query', metric: `${dialect}: ${name} p95 (HTTP)`, value: p95, unit: 'ms', target: `< ${TARGET_MS} ms`, ok: p95 < TARGET_MS });
      if (repo.length) rows.push({ bench: 'scans-query', metric: `${dialect}: ${name} p50 (SQL only)`, value: percentile(repo, 50), unit: 'ms' });
    }
    return rows;
  } finally {
    await s.stop();
    await removeDir(s.config.dataDir);
  }
}
