/**
 * Uploads files with tus-js-client from its own process (a client sharing the bench's event loop
 * would be measured against itself), `concurrency` at a time, upload i through endpoint
 * i % endpoints.length (round-robin over instances). Reads a job (JSON) on stdin; writes the
 * result (JSON) on stdout: per upload its slide id and when its last byte was confirmed (epoch
 * ms), and the whole run's wall time. Run: node --import tsx tus-upload-child.ts < job.json
 */
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Upload } from 'tus-js-client';

export interface UploadJob {
  endpoints: string[];
  token: string;
  files: { path: string; size: number; sha256: string; filename: string; format: string }[];
  concurrency: number;
  chunkSize: number;
  batchId: string;
}

export interface UploadResult {
  ms: number;
  uploads: { slideId: string; endpoint: string; finishedAt: number }[];
}

function uploadOne(job: UploadJob, i: number): Promise<UploadResult['uploads'][number]> {
  const f = job.files[i]!;
  const endpoint = job.endpoints[i % job.endpoints.length]!;
  const slideId = randomUUID();
  return new Promise((resolve, reject) => {
    const up = new Upload(createReadStream(f.path), {
      endpoint,
      chunkSize: job.chunkSize,
      uploadSize: f.size,
      retryDelays: [0, 500, 2000],
      headers: { authorization: `Bearer ${job.token}` },
      metadata: { filename: f.filename, slideId, part: '0', parts: '1', format: f.format, sha256: f.sha256, mode: 'direct', batchId: job.batchId },
      onSuccess: () => resolve({ slideId, endpoint, finishedAt: Date.now() }),
      onError: reject,
    });
    up.start();
  });
}

async function main(): Promise<void> {
  let input = '';
  for await (const c of process.stdin) input += c;
  const job = JSON.parse(input) as UploadJob;
  const uploads: UploadResult['uploads'] = new Array(job.files.length);
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < job.files.length; i = next++) uploads[i] = await uploadOne(job, i);
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.files.length) }, worker));
  const result: UploadResult = { ms: performance.now() - t0, uploads };
  process.stdout.write(JSON.stringify(result));
}

await main();
