import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { findSlideBarcodes } from '../../engine/barcode/index.ts';
import { matchSlides, type SlideMatch } from '../../shared/case-match.ts';
import { parseManifest, type Manifest } from '../../shared/manifest.ts';
import { encodeKeptFields } from '../../shared/kept-fields.ts';
import { SlideError, toSlideError } from '../../shared/errors.ts';
import { plural } from '../../shared/plural.ts';
import { matchMetadata } from '../../shared/match-metadata.ts';
import { FILE_NAME_FIELD, partPaths, uploadName } from '../../shared/upload-name.ts';
import { collectSlides, type SlideInput } from '../collect.ts';
import { collectedFailures, createRedactor, inputLabel, withSlide, type Redactor } from '../commands.ts';
import { parseUploadArgs, readToken, settingsKey, UploadUsageError, type UploadOptions } from './options.ts';
import { Progress } from './progress.ts';
import { cliRecord, writeRecord, type SlideOutcome } from './record.ts';
import { AUTH_REFUSED_MESSAGE, isAuthRefused, ServerApi } from './server-api.ts';
import { loadState, sameStamps, sentFilesIntact, stampFiles, StateWriter, type SentFile, type SlideState, type UploadState } from './state-file.ts';
import { CHECKSUM_MISMATCH, sendPart } from './tus-client.ts';
import { caseWords, matchWords } from './words.ts';
import { SETTLING, waitForPart, waitForScan } from './server-wait.ts';

export interface UploadIo {
  out: (s: string) => void;
  err: (s: string) => void;
  usage: string;
  /** stderr is a terminal: draw a progress bar. */
  tty: boolean;
  env: NodeJS.ProcessEnv;
}

const MiB = 1024 * 1024;
// Minutes, not seconds: a lab network or a restarting server can be gone for a while.
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 120000];
/** A part whose bytes arrive damaged this often is not sent again: something is wrong locally. */
const MAX_RESENDS = 2;

/** One slide of the run, in command-line order. */
interface Item {
  input: SlideInput;
  label: string;
  entry: SlideState;
  outcome?: SlideOutcome;
}

/** `wsi-import upload`: returns the exit code (0 all uploaded, 1 any failed, 2 usage or a refused token). */
export async function runUpload(args: string[], io: UploadIo): Promise<number> {
  let o: UploadOptions;
  let token: string;
  let manifest: Manifest | null = null;
  try {
    o = parseUploadArgs(args);
    token = await readToken(o, io.env);
    if (o.manifest !== undefined) {
      const text = await readFile(o.manifest, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new UploadUsageError(`upload: cannot read the manifest ${o.manifest} (${e.code ?? 'error'})`);
      });
      manifest = parseManifest(text);
      if (manifest.problems.length > 0) {
        // The manifest is fixed before anything is sent: a scheduled job must not half-import a batch.
        throw new UploadUsageError(`upload: the manifest ${o.manifest} has ${plural(manifest.problems.length, 'problem')}:\n${manifest.problems.map((p) => `  ${p.message}`).join('\n')}`);
      }
    }
  } catch (e) {
    if (!(e instanceof UploadUsageError)) throw e;
    io.err(`wsi-import: ${e.message}\n\n${io.usage}\n`);
    return 2;
  }
  const run = new UploadRun(o, manifest, new ServerApi(o.server, token), io);
  return run.run();
}

class UploadRun {
  private readonly outDir: string;
  private readonly progress: Progress;
  private writer!: StateWriter;
  private authRefused = false;
  private lab: string | null = null;
  private user: string | null = null;
  private readonly chunkSize: number;

  constructor(private readonly o: UploadOptions, private readonly manifest: Manifest | null, private readonly api: ServerApi, private readonly io: UploadIo) {
    this.outDir = resolve(o.out);
    // Lines go to stdout, except with --json (stdout is the JSON document): then to stderr.
    const line = o.json ? io.err : io.out;
    this.progress = new Progress({ tty: io.tty, line, bar: io.err });
    const knob = Number(io.env.WSI_IMPORT_CHUNK_BYTES);
    this.chunkSize = Number.isSafeInteger(knob) && knob > 0 ? knob : 64 * MiB;
  }

  private get state(): UploadState {
    return this.writer.state;
  }

  async run(): Promise<number> {
    const { o, io } = this;
    try {
      const me = await this.api.me();
      this.user = me.user.username;
      this.lab = me.labs.find((l) => l.id === me.currentLabId)?.name ?? null;
      if (!me.canImport) {
        io.err(`wsi-import: upload: this account cannot import slides into ${this.lab ?? 'a lab'} (the lab needs the bulk-import feature, and the user must be a lab admin or lab user).\n`);
        return 2;
      }
    } catch (e) {
      if (isAuthRefused(e)) {
        io.err(`wsi-import: upload: ${toSlideError(e).message}\n`);
        return 2;
      }
      io.err(`wsi-import: upload: ${toSlideError(e).message}\n`);
      return 1;
    }
    await mkdir(this.outDir, { recursive: true });
    this.writer = new StateWriter(this.outDir, await this.loadOrStartState());

    const collected = await collectSlides(o.inputs);
    const failures = collectedFailures(collected);
    for (const f of failures) if (!f.r.ok) this.progress.note(`✗ ${f.r.error.message}`);
    const items = await this.resolveItems(collected.slides);
    const totalBytes = items.reduce((n, it) => n + (it.entry.sent ?? it.entry.files).reduce((m, f) => m + f.size, 0), 0);
    this.progress.setTotals(items.length, totalBytes);
    this.progress.note(`Batch ${this.state.batchId}: ${plural(items.length, 'slide')} to ${o.server} (${this.lab ?? 'no lab'}), ${o.direct ? 'originals (Direct Upload)' : 'de-identified'}`);

    await this.readSlides(items);
    this.match(items);
    await this.writer.save();

    const redactor = o.direct ? undefined : await createRedactor({ out: this.outDir, keepLabel: o.keepLabel, keepMacro: o.keepMacro, keep: o.keep, allowIncomplete: o.allowIncomplete });
    const verdicts: Promise<void>[] = [];
    // De-identification of the next slide overlaps the upload of this one.
    const prepare = (i: number) => this.prepare(items[i]!, i, redactor).then(() => true, (e: unknown) => this.fail(items[i]!, i, e));
    let next: Promise<boolean> | undefined = items.length > 0 ? prepare(0) : undefined;
    for (let i = 0; i < items.length; i++) {
      const ready = await next!;
      next = i + 1 < items.length && !this.authRefused ? prepare(i + 1) : undefined;
      const it = items[i]!;
      if (!ready || it.outcome) continue;
      if (this.authRefused) {
        it.outcome = { state: 'not-started' };
        continue;
      }
      try {
        await this.upload(it, i);
        verdicts.push(this.verdict(it, i).catch((e: unknown) => void this.fail(it, i, e)));
      } catch (e) {
        this.fail(it, i, e);
      }
    }
    await next;
    await Promise.all(verdicts);
    for (const it of items) it.outcome ??= { state: 'not-started' };
    this.progress.finish();

    const failed = items.filter((it) => it.outcome!.state !== 'uploaded').length + failures.length;
    let recordPaths: { json: string; csv: string; html: string } | undefined;
    try {
      const doc = cliRecord(this.state, { lab: this.lab, user: this.user, direct: o.direct, finishedAt: new Date() }, [
        ...items.map((it) => ({ entry: it.entry, input: it.label, outcome: it.outcome! })),
        ...failures.map((f) => ({ input: f.r.input, outcome: { state: 'skipped' as const, error: f.r.ok ? '' : f.r.error.message } })),
      ]);
      recordPaths = await writeRecord(this.outDir, doc);
      this.progress.note(`Batch record (keep it with the lab's records; it holds the original file names and barcodes): ${recordPaths.html}`);
    } catch (e) {
      this.progress.note(`✗ The batch record could not be written: ${toSlideError(e).message}`);
    }
    if (!this.authRefused) {
      // The server's own (PHI-free) record of the batch: how many slides the client had.
      await this.api.putBatch(this.state.batchId, { client: 'cli', slides: items.length, finished: true }).catch((e: unknown) => {
        if (isAuthRefused(e)) this.authRefused = true;
        else this.progress.note(`The server did not record the end of the batch: ${toSlideError(e).message}`);
      });
    }
    const uploaded = items.filter((it) => it.outcome!.state === 'uploaded').length;
    this.progress.note(`${plural(uploaded, 'slide')} uploaded${failed > 0 ? `, ${plural(failed, 'slide')} failed or skipped` : ''}.`);
    if (this.authRefused) io.err(`wsi-import: upload: ${AUTH_REFUSED_MESSAGE}\n`);
    if (o.json) {
      io.out(`${JSON.stringify({
        command: 'upload',
        ok: failed === 0 && !this.authRefused,
        batchId: this.state.batchId,
        record: recordPaths ?? null,
        results: [
          ...items.map((it) => ({ input: it.label, ok: it.outcome!.state === 'uploaded', slideId: it.entry.slideId, upload: it.outcome!.state, ...(it.outcome!.error ? { error: it.outcome!.error } : {}), scanId: it.outcome!.scan?.id ?? null, scanStatus: it.outcome!.scan?.status ?? null, caseLink: it.outcome!.caseLink ?? null })),
          ...failures.map((f) => ({ input: f.r.input, ok: false, upload: 'skipped', error: f.r.ok ? '' : f.r.error.message })),
        ],
      }, null, 2)}\n`);
    }
    if (this.authRefused) return 2;
    return failed === 0 ? 0 : 1;
  }

  /** The state of an earlier run of this batch, or a new batch (another server or other settings start one). */
  private async loadOrStartState(): Promise<UploadState> {
    const prev = await loadState(this.outDir);
    const settings = settingsKey(this.o);
    if (prev && prev.server === this.o.server && prev.settings === settings) {
      this.progress.note(`Resuming batch ${prev.batchId} (state in ${join(this.outDir, '.wsi-import-state.json')}).`);
      return prev;
    }
    if (prev) this.progress.note('The output folder holds a batch sent to another server or with other settings: starting a new batch.');
    return { version: 1, batchId: randomUUID(), server: this.o.server, settings, startedAt: new Date().toISOString(), slides: [] };
  }

  /** Each collected slide with its state entry; an input changed since the last run starts again under a new slide id. */
  private async resolveItems(slides: SlideInput[]): Promise<Item[]> {
    const items: Item[] = [];
    for (const s of slides) {
      const label = inputLabel(s);
      const files = await stampFiles(s.files);
      let entry = this.state.slides.find((x) => x.key === s.identity);
      if (entry && !sameStamps(entry.files, files)) {
        this.progress.note(`${label}: changed since the last run (size or modification time): starting it again as a new slide`);
        this.state.slides.splice(this.state.slides.indexOf(entry), 1);
        entry = undefined;
      }
      if (!entry) {
        entry = { key: s.identity, input: label, files, slideId: randomUUID(), parts: [] };
        this.state.slides.push(entry);
      }
      items.push({ input: s, label, entry });
    }
    return items;
  }

  /** Format, size, MPP and barcodes of every slide not read by an earlier run. */
  private async readSlides(items: Item[]): Promise<void> {
    for (const [i, it] of items.entries()) {
      if (it.entry.facts) continue;
      try {
        it.entry.facts = await withSlide(it.input, async (slide) => {
          let barcodes: { value: string; symbology: string; source: string }[] = [];
          try {
            barcodes = (await findSlideBarcodes(slide)).barcodes.map((b) => ({ value: b.value, symbology: b.symbology, source: b.source }));
          } catch (e) {
            this.progress.event(i, it.label, `barcodes could not be read (${toSlideError(e).message}); matching by file name only`);
          }
          return { format: slide.format, width: slide.width, height: slide.height, mpp: slide.mpp ? { x: slide.mpp.x, y: slide.mpp.y, source: slide.mpp.source } : null, barcodes };
        });
      } catch (e) {
        this.fail(it, i, e);
      }
    }
  }

  /**
   * Case and name per slide from the manifest and barcodes. A slide whose upload has begun keeps
   * the match it was sent with (every part of a slide carries the same case).
   */
  private match(items: Item[]): void {
    const readable = items.filter((it) => it.entry.facts);
    const matches = matchSlides(readable.map((it) => ({ id: it.entry.slideId, fileNames: [it.input.name, ...it.input.files], barcodes: it.entry.facts!.barcodes.map((b) => b.value) })), this.manifest);
    for (const [i, it] of items.entries()) {
      if (!it.entry.facts) continue;
      const started = it.entry.parts.some((p) => p.url !== undefined || p.done);
      if (!started || it.entry.match === undefined) {
        let m: SlideMatch | null = matches.get(it.entry.slideId) ?? null;
        if (m && m.how === 'barcode' && !m.confirmed && this.o.barcodeIsCase) m = { ...m, confirmed: true };
        it.entry.match = m ? { ...m } : null;
      }
      this.progress.event(i, it.label, matchWords(it.entry.match ?? null, this.o));
    }
  }

  /** De-identify into the output folder (or hash the originals with --direct), unless an earlier run did and the files are unchanged. */
  private async prepare(it: Item, i: number, redactor: Redactor | undefined): Promise<void> {
    const e = it.entry;
    if (!e.facts) return; // could not be read: already failed
    if (e.sent && (await sentFilesIntact(e.sent))) return;
    if (e.sent && e.parts.some((p) => p.url !== undefined || p.done)) {
      // What was sent under this slide id is gone or changed: a new slide id, so the server never mixes the two.
      this.progress.event(i, it.label, 'its prepared copy changed or is missing: preparing it again as a new slide');
      e.slideId = randomUUID();
    }
    e.sent = undefined;
    e.parts = [];
    const before = e.files.reduce((n, f) => n + f.size, 0);
    if (this.o.direct) {
      const paths = partPaths({ id: e.slideId, format: e.facts.format }, it.input.files, false);
      const sent: SentFile[] = [];
      for (const [k, f] of it.input.files.entries()) {
        const st = await stat(f);
        sent.push({ file: f, name: basename(f), ...(paths[k] ? { path: paths[k] } : {}), size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(f) });
      }
      e.sent = sent;
    } else {
      this.progress.event(i, it.label, 'de-identifying');
      const { report, labels } = await withSlide(it.input, async (slide, input) => {
        const r = await redactor!(slide, input);
        const label = (id: string) => slide.fields.find((f) => f.id === id)?.label ?? id;
        return { report: r, labels: { removed: r.removedFields.map(label), kept: r.keptFields.map(label) } };
      });
      const names = report.outputs.map((x) => x.name);
      const paths = partPaths({ id: e.slideId, format: e.facts.format }, names, true);
      // The original file name often carries an accession number: the server gets a neutral one
      // unless the user keeps it (--keep upload:file-name). DICOM instances have generated names.
      const keepName = e.facts.format === 'dicom-wsi' || this.o.keep.some((k) => k.toLowerCase() === FILE_NAME_FIELD);
      const sent: SentFile[] = [];
      for (const [k, x] of report.outputs.entries()) {
        const file = join(this.outDir, x.name);
        const st = await stat(file);
        const path = paths[k];
        sent.push({ file, name: path ? path.split('/').pop()! : uploadName({ id: e.slideId, removeFields: keepName ? [] : [FILE_NAME_FIELD] }, x.name), ...(path ? { path } : {}), size: x.size, mtimeMs: st.mtimeMs, sha256: x.sha256 });
      }
      e.report = {
        removedFields: labels.removed,
        removedImages: report.removedImages.map((x) => x.role),
        keptFields: report.keptFields,
        keptFieldLabels: labels.kept,
        verification: report.verify,
        sweep: report.sweep,
      };
      e.sent = sent;
    }
    e.parts = e.sent.map(() => ({ done: false }));
    this.progress.adjustTotal(e.sent.reduce((n, s) => n + s.size, 0) - before);
    await this.writer.save();
  }

  /** Send every part not yet confirmed; each continues where the server's copy ends. */
  private async upload(it: Item, i: number): Promise<void> {
    const e = it.entry;
    const sent = e.sent!;
    // The server's view first: a part completed just before a kill is done; an upload created
    // before the kill whose URL never reached the state file is found (our own) and continued.
    const server = await this.api.slide(e.slideId).catch((err: unknown) => {
      if (isAuthRefused(err)) throw err;
      return undefined;
    });
    let anySent = false;
    for (const [k, f] of sent.entries()) {
      const part = e.parts[k]!;
      if (part.done) {
        this.progress.addBytes(f.size);
        continue;
      }
      const sp = server?.parts.find((p) => p.part === k);
      if (sp?.status === 'complete' && sp.sha256 === f.sha256) {
        part.done = true;
        this.progress.addBytes(f.size);
        await this.writer.save();
        continue;
      }
      if (part.url === undefined) {
        const ours = sp?.uploads.find((u) => u.url !== undefined && u.status === 'uploading' && u.sha256 === f.sha256);
        if (ours?.url) part.url = new URL(ours.url, this.o.server).href;
      }
      anySent = true;
      for (let resends = 0; ; resends++) {
        let counted = 0;
        if (part.url === undefined) this.progress.event(i, it.label, sent.length > 1 ? `uploading part ${k + 1} of ${sent.length}` : 'uploading');
        else this.progress.event(i, it.label, sent.length > 1 ? `resuming part ${k + 1} of ${sent.length}` : 'resuming');
        try {
          await sendPart({
            endpoint: new URL('/files/', this.o.server).href,
            authorization: this.api.authorization,
            file: f.file,
            metadata: this.metadata(e, k),
            ...(part.url !== undefined ? { url: part.url } : {}),
            chunkSize: this.chunkSize,
            retryDelays: RETRY_DELAYS,
            onUrl: async (url) => {
              part.url = url;
              await this.writer.save();
            },
            onProgress: (n) => {
              this.progress.addBytes(n - counted);
              counted = n;
            },
          });
        } catch (err) {
          if (!(err instanceof SlideError && err.detail === CHECKSUM_MISMATCH) || resends >= MAX_RESENDS) throw err;
          part.url = undefined;
          this.progress.addBytes(-counted);
          continue;
        }
        const status = await waitForPart(this.api, e.slideId, k);
        if (status?.status === 'complete' && status.sha256 === f.sha256) break;
        if (status?.status === 'corrupt' && resends < MAX_RESENDS) {
          // The server's hash disagreed with ours: it dropped the bytes; send the part again.
          part.url = undefined;
          await this.writer.save();
          this.progress.addBytes(-counted);
          continue;
        }
        throw new SlideError('NETWORK', `The server did not confirm part ${k + 1} (${status?.status ?? 'no answer'}).`);
      }
      part.done = true;
      await this.writer.save();
    }
    this.progress.event(i, it.label, anySent ? 'sent; waiting for the server to check it' : 'already on the server; waiting for the server to check it');
  }

  /** The tus Upload-Metadata of one part: the browser's keys, plus the confirmed case and name (C1). */
  private metadata(e: SlideState, k: number): Record<string, string> {
    const f = e.sent![k]!;
    const deidentified = !this.o.direct;
    return {
      filename: f.name,
      ...(f.path ? { path: f.path } : {}),
      slideId: e.slideId,
      part: String(k),
      parts: String(e.sent!.length),
      format: e.facts!.format,
      sha256: f.sha256,
      mode: deidentified ? 'deidentified' : 'direct',
      batchId: this.state.batchId,
      ...(deidentified && e.report?.keptFields.length ? { keptFields: encodeKeptFields(e.report.keptFields) } : {}),
      ...matchMetadata(e.match as SlideMatch | null | undefined, this.o.createCases),
    };
  }

  /** Wait for the server's ingest verdict (and case link) on a slide whose parts are all stored. */
  private async verdict(it: Item, i: number): Promise<void> {
    const e = it.entry;
    const limit = Number(this.io.env.WSI_IMPORT_VERDICT_MS) > 0 ? Number(this.io.env.WSI_IMPORT_VERDICT_MS) : 30 * 60_000;
    const scan = await waitForScan(this.api, e.slideId, e.scanId, limit, async (id) => {
      e.scanId = id;
      await this.writer.save();
    });
    this.progress.slideFinished();
    if (!scan || SETTLING.includes(scan.status)) {
      it.outcome = { state: 'uploaded', ...(scan ? { scan: { id: scan.id, status: scan.status, serverCheck: 'pending' as const } } : {}) };
      this.progress.event(i, it.label, 'uploaded; the server has not finished checking it yet');
      return;
    }
    const caseLink = scan.caseLink ?? null;
    if (scan.status === 'quarantined') {
      const why = scan.quarantine?.problems.length ? scan.quarantine.problems.join('; ') : (scan.error ?? 'no reason given');
      it.outcome = { state: 'failed', error: `The server quarantined it: ${why}`, scan: { id: scan.id, status: scan.status, serverCheck: 'quarantined' }, caseLink };
      this.progress.event(i, it.label, `failed: the server quarantined it (${why})`);
      return;
    }
    if (scan.status === 'failed') {
      it.outcome = { state: 'failed', error: `The server could not process it: ${scan.error ?? 'no reason given'}`, scan: { id: scan.id, status: scan.status }, caseLink };
      this.progress.event(i, it.label, `failed: the server could not process it (${scan.error ?? 'no reason given'})`);
      return;
    }
    it.outcome = { state: 'uploaded', scan: { id: scan.id, status: scan.status, ...(this.o.direct ? {} : { serverCheck: 'passed' as const }) }, caseLink };
    this.progress.event(i, it.label, `uploaded${caseWords(caseLink)} (scan ${scan.id})`);
  }

  private fail(it: Item, i: number, e: unknown): false {
    if (isAuthRefused(e)) this.authRefused = true;
    const err = toSlideError(e);
    if (!it.outcome) this.progress.slideFinished();
    it.outcome = { state: 'failed', error: err.message };
    this.progress.event(i, it.label, `failed: ${err.message}`);
    return false;
  }
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

