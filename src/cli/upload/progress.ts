import { formatBytes } from '../../shared/format-bytes.ts';

type Write = (s: string) => void;

/**
 * What the user sees while a batch runs. On a terminal: one progress line on stderr, redrawn in
 * place (slides done / total, bytes, rate), with each slide's events printed above it. Otherwise
 * (a scheduled job writing a log): plain lines only, "[3/10] slide.svs: uploaded". Lines name
 * local files — they go to this computer's terminal or log, never to the server.
 */
export class Progress {
  private total = 0;
  private done = 0;
  private bytesTotal = 0;
  private bytesDone = 0;
  private samples: [number, number][] = [];
  private lastDraw = 0;
  private barShown = false;

  constructor(private readonly o: { tty: boolean; line: Write; bar: Write; now?: () => number }) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  setTotals(slides: number, bytes: number): void {
    this.total = slides;
    this.bytesTotal = bytes;
    this.draw(true);
  }

  /** Bytes of a slide became known (prepared): the total is corrected. */
  adjustTotal(delta: number): void {
    this.bytesTotal += delta;
  }

  /** Bytes the server has (also those an earlier run sent): moves the bar. */
  addBytes(n: number): void {
    this.bytesDone += n;
    this.draw(false);
  }

  /** A slide finished (uploaded or failed): counts towards "done". */
  slideFinished(): void {
    this.done++;
  }

  /** An event of one slide, e.g. "[3/10] slide.svs: uploaded". */
  event(index: number, input: string, message: string): void {
    this.clearBar();
    this.o.line(`[${index + 1}/${this.total}] ${input}: ${message}\n`);
    this.draw(true);
  }

  /** A message about the batch as a whole. */
  note(message: string): void {
    this.clearBar();
    this.o.line(`${message}\n`);
    this.draw(true);
  }

  finish(): void {
    this.draw(true);
    if (this.o.tty && this.barShown) this.o.bar('\n');
    this.barShown = false;
  }

  /** Bytes per second over the last few seconds. */
  rate(): number {
    const now = this.now();
    this.samples.push([now, this.bytesDone]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    return now > t0 ? ((this.bytesDone - b0) * 1000) / (now - t0) : 0;
  }

  private clearBar(): void {
    if (this.o.tty && this.barShown) this.o.bar('\r\u001b[2K');
  }

  private draw(force: boolean): void {
    if (!this.o.tty) return;
    const now = this.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const width = 24;
    const frac = this.bytesTotal > 0 ? Math.min(1, this.bytesDone / this.bytesTotal) : 0;
    const fill = Math.round(frac * width);
    const rate = this.rate();
    this.o.bar(`\r\u001b[2K[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${this.done}/${this.total} slides  ${formatBytes(this.bytesDone)} of ${formatBytes(this.bytesTotal)}${rate > 0 ? `  ${formatBytes(Math.round(rate))}/s` : ''}`);
    this.barShown = true;
  }
}
