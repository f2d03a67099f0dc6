import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';

/**
 * The server's Prometheus metrics, on a registry of its own (several servers in one process — the
 * tests — must not share counters). No label ever carries an identifying value: labels are route
 * templates, methods, statuses, error codes and outcome names, all fixed by the code.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly apiErrors: Counter<'code' | 'status'>;
  readonly uploadsCreated: Counter;
  readonly uploadsFinished: Counter<'outcome'>;
  readonly uploadsFailed: Counter<'reason'>;
  readonly bytesReceived: Counter;
  readonly ingestDuration: Histogram<'status'>;
  /** Requests in progress per upload id (the gauge reports how many uploads, never which). */
  private readonly uploadRequests = new Map<string, number>();
  /** Scans queued or being ingested; set by whoever owns the queue. */
  ingestDepth: () => number | Promise<number> = () => 0;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({ name: 'wsi_http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({
      name: 'wsi_http_request_duration_seconds',
      help: 'Time from request to the end of the response, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      // Up to minutes: an upload PATCH lasts as long as its chunk takes to arrive.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.apiErrors = new Counter({ name: 'wsi_api_errors_total', help: 'Error answers of the API, by error code and HTTP status', labelNames: ['code', 'status'], registers });
    this.uploadsCreated = new Counter({ name: 'wsi_uploads_created_total', help: 'tus uploads created', registers });
    this.uploadsFinished = new Counter({ name: 'wsi_uploads_finished_total', help: 'tus uploads that received their last byte, by outcome (complete, duplicate, corrupt, conflict)', labelNames: ['outcome'], registers });
    this.uploadsFailed = new Counter({ name: 'wsi_uploads_failed_total', help: 'tus upload requests or uploads that failed, by reason (corrupt, conflict, storage_full, storage_unavailable, internal)', labelNames: ['reason'], registers });
    this.bytesReceived = new Counter({ name: 'wsi_upload_bytes_received_total', help: 'Upload bytes written to storage by tus', registers });
    this.ingestDuration = new Histogram({
      name: 'wsi_ingest_duration_seconds',
      help: 'Time to ingest one scan, by resulting status (ready, failed, quarantined, ..., error when ingest crashed)',
      labelNames: ['status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    const uploadRequests = this.uploadRequests;
    new Gauge({
      name: 'wsi_uploads_in_flight',
      help: 'tus uploads with a request in progress',
      registers,
      collect() {
        this.set(uploadRequests.size);
      },
    });
    const depth = (): number | Promise<number> => this.ingestDepth();
    new Gauge({
      name: 'wsi_ingest_queue_depth',
      help: 'Scans queued for ingest or being ingested',
      registers,
      async collect() {
        this.set(await depth());
      },
    });
  }

  /** A request of upload `id` started; call the returned function once when it ends. */
  uploadRequestStarted(id: string): () => void {
    this.uploadRequests.set(id, (this.uploadRequests.get(id) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const n = (this.uploadRequests.get(id) ?? 1) - 1;
      if (n <= 0) this.uploadRequests.delete(id);
      else this.uploadRequests.set(id, n);
    };
  }

  /** An error answer; the code must be one of ours (SCREAMING_SNAKE), anything else counts as OTHER. */
  apiError(code: string, status: number): void {
    this.apiErrors.inc({ code: /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : 'OTHER', status: String(status) });
  }

  ingestFinished(seconds: number, status: string): void {
    this.ingestDuration.observe({ status: /^[a-z_-]{1,32}$/.test(status) ? status : 'other' }, seconds);
  }

  /** Prometheus text exposition of everything. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts and times every request by its route TEMPLATE (/api/scans/:id, /files/*), never the URL
 * (ids, searches). Measured on the raw response's close, so tus's hijacked replies and requests
 * cut off mid-way (status "aborted") are counted too.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRequest', (req, reply, done) => {
    const start = process.hrtime.bigint();
    const res = reply.raw;
    res.once('close', () => {
      const route = req.routeOptions.url ?? '(unmatched)';
      const method = knownMethods.has(req.method) ? req.method : 'OTHER';
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      const labels = { method, route, status };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    done();
  });
}
