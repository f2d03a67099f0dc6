import type { Database } from 'better-sqlite3';
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
 * `batchSize` consecutive scans; every `caseEvery`-th scan is linked to a case.
 */
export function insertScans(
  db: Database,
  o: { labId: number; count: number; uploaders: number[]; start?: string; minutesApart?: number; batchSize?: number; caseEvery?: number; prefix?: string },
): GeneratedScans {
  const start = Date.parse(o.start ?? '2024-01-01T08:00:00.000Z');
  const step = (o.minutesApart ?? 1) * 60_000;
  const batchSize = o.batchSize ?? 40;
  const prefix = o.prefix ?? `g${o.labId}`;
  const insert = db.prepare(
    `INSERT INTO scans (lab_id, slide_id, batch_id, status, mode, parts, claimed_format, format, width, height, levels, original_filename, name, uploaded_by, created_at, updated_at, total_bytes)
     VALUES (?, ?, ?, ?, 'deidentified', 1, ?, ?, 40000, 30000, 4, ?, ?, ?, ?, ?, 1000)`,
  );
  const newCase = db.prepare(`INSERT INTO cases (lab_id, case_number) VALUES (?, ?)`);
  const link = db.prepare(`INSERT INTO case_scans (case_id, scan_id, lab_id) VALUES (?, ?, ?)`);
  const ids: number[] = [];
  const batches: string[] = [];
  db.transaction(() => {
    let caseId = 0;
    for (let i = 0; i < o.count; i++) {
      const slideId = `${(i + 0x10000000).toString(16).slice(-8)}-0000-4000-8000-${prefix.padStart(12, '0').slice(-12)}`;
      const batch = `${prefix}-batch-${Math.floor(i / batchSize)}`;
      if (i % batchSize === 0) batches.push(batch);
      const status = statuses[i % statuses.length]!;
      const format = formats[i % formats.length]!;
      const file = format === 'dicom-wsi' ? 'level-0.dcm' : `slide-${slideId.slice(0, 8)}.${format === 'mirax' ? 'mrxs' : format === 'hamamatsu-ndpi' ? 'ndpi' : 'svs'}`;
      const at = new Date(start + i * step).toISOString();
      const r = insert.run(o.labId, slideId, batch, status, format, status === 'processing' ? null : format, file, defaultScanName(file, slideId), o.uploaders[i % o.uploaders.length]!, at, at);
      const id = Number(r.lastInsertRowid);
      ids.push(id);
      if (o.caseEvery && i % o.caseEvery === 0) {
        if (i % (o.caseEvery * 4) === 0) caseId = Number(newCase.run(o.labId, `${prefix.toUpperCase()}-CASE-${i}`).lastInsertRowid);
        link.run(caseId, id, o.labId);
      }
    }
  })();
  return { ids, batches };
}
