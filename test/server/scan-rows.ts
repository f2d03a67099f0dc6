import type { Database } from '../../src/server/db/database.ts';
import { defaultScanName, type ScanStatus } from '../../src/server/db/repos/scans.ts';

export interface GeneratedScans {
  ids: number[];
  batches: string[];
}

const statuses: ScanStatus[] = ['ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'needs-mpp', 'failed', 'quarantined', 'processing'];
const formats = ['aperio-svs', 'aperio-svs', 'hamamatsu-ndpi', 'dicom-wsi', 'mirax', 'philips-tiff'];

/**
 * Scan rows written straight into the database (no files), for worklist tests and the query bench:
 * deterministic, so row i always has the same status, format, batch and time. Batches hold
 * `batchSize` consecutive scans; every `caseEvery`-th scan is linked to a case. Rows go in
 * 500 at a time, in one transaction (either database).
 */
export async function insertScans(
  db: Database,
  o: { labId: number; count: number; uploaders: number[]; start?: string; minutesApart?: number; batchSize?: number; caseEvery?: number; prefix?: string },
): Promise<GeneratedScans> {
  const start = Date.parse(o.start ?? '2024-01-01T08:00:00.000Z');
  const step = (o.minutesApart ?? 1) * 60_000;
  const batchSize = o.batchSize ?? 40;
  const prefix = o.prefix ?? `g${o.labId}`;
  const ids: number[] = [];
  const batches: string[] = [];
  await db.kysely.transaction().execute(async (tx) => {
    let caseId = 0;
    for (let first = 0; first < o.count; first += 500) {
      const rows = [];
      for (let i = first; i < Math.min(o.count, first + 500); i++) {
        const slideId = `${(i + 0x10000000).toString(16).slice(-8)}-0000-4000-8000-${prefix.padStart(12, '0').slice(-12)}`;
        const batch = `${prefix}-batch-${Math.floor(i / batchSize)}`;
        if (i % batchSize === 0) batches.push(batch);
        const status = statuses[i % statuses.length]!;
        const format = formats[i % formats.length]!;
        const file = format === 'dicom-wsi' ? 'level-0.dcm' : `slide-${slideId.slice(0, 8)}.${format === 'mirax' ? 'mrxs' : format === 'hamamatsu-ndpi' ? 'ndpi' : 'svs'}`;
        const at = new Date(start + i * step).toISOString();
        rows.push({
          lab_id: o.labId, slide_id: slideId, batch_id: batch, status, mode: 'deidentified', parts: 1, claimed_format: format, format: status === 'processing' ? null : format,
          width: 40000, height: 30000, levels: 4, original_filename: file, name: defaultScanName(file, slideId), uploaded_by: o.uploaders[i % o.uploaders.length]!,
          created_at: at, updated_at: at, total_bytes: 1000,
        });
      }
      // Identities are handed out in VALUES order; RETURNING's own order is not promised.
      const made = (await tx.insertInto('scans').values(rows).returning('id').execute()).map((r) => Number(r.id)).sort((a, b) => a - b);
      for (let k = 0; k < made.length; k++) {
        const i = first + k;
        ids.push(made[k]!);
        if (o.caseEvery && i % o.caseEvery === 0) {
          if (i % (o.caseEvery * 4) === 0) {
            caseId = Number((await tx.insertInto('cases').values({ lab_id: o.labId, case_number: `${prefix.toUpperCase()}-CASE-${i}` }).returning('id').executeTakeFirstOrThrow()).id);
          }
          await tx.insertInto('case_scans').values({ case_id: caseId, scan_id: made[k]!, lab_id: o.labId }).execute();
        }
      }
    }
  });
  return { ids, batches };
}
