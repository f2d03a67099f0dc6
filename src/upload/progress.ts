/**
 * Overall progress of a batch from its parts. Slides not yet de-identified count with their
 * original size: a TIFF output is the same size plus a few bytes, a DICOM header changes little,
 * so the ETA is right from the start instead of jumping when staging catches up.
 */
export interface PartBytes {
  sent: number;
  total: number;
  /** Bytes per second now (0 when not sending). */
  speed: number;
  /** The server cannot be reached: the part waits to retry (no bytes move). */
  reconnecting?: boolean;
}

export interface OverallProgress {
  sent: number;
  total: number;
  speed: number;
  /** Seconds left at the current speed; undefined while nothing moves. */
  eta: number | undefined;
  fraction: number;
  /**
   * Some part cannot reach the server and waits to retry. Its last speed means nothing then, so
   * speed is 0 and there is no ETA: the page says "Reconnecting…" instead of a stale estimate.
   */
  reconnecting: boolean;
}

export function overallProgress(parts: PartBytes[]): OverallProgress {
  let sent = 0;
  let total = 0;
  let speed = 0;
  let reconnecting = false;
  for (const p of parts) {
    sent += Math.min(p.sent, p.total);
    total += p.total;
    speed += p.speed;
    if (p.reconnecting) reconnecting = true;
  }
  if (reconnecting) speed = 0;
  const left = total - sent;
  return {
    sent,
    total,
    speed,
    eta: left <= 0 ? 0 : speed > 0 ? left / speed : undefined,
    fraction: total > 0 ? sent / total : 0,
    reconnecting,
  };
}

/**
 * Speed over a sliding window, so one fast chunk does not make the ETA jump. Samples are
 * (time ms, cumulative bytes).
 */
export class SpeedMeter {
  private samples: [number, number][] = [];
  constructor(private readonly windowMs = 8000) {}

  add(bytes: number, now = Date.now()): number {
    const last = this.samples.at(-1);
    // A restart from a lower offset (resume after reload) starts a new window.
    if (last && bytes < last[1]) this.samples = [];
    this.samples.push([now, bytes]);
    while (this.samples.length > 2 && now - this.samples[0][0] > this.windowMs) this.samples.shift();
    return this.speed(now);
  }

  speed(now = Date.now()): number {
    if (this.samples.length < 2) return 0;
    const [t0, b0] = this.samples[0];
    const [t1, b1] = this.samples.at(-1)!;
    // Idle for longer than the window: nothing is moving.
    if (now - t1 > this.windowMs) return 0;
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
  }

  reset(): void {
    this.samples = [];
  }
}

/** What the upload as a whole is doing, as the progress step words it. */
export type UploadActivity = 'running' | 'paused' | 'reconnecting' | 'cancelled' | 'stopped';

/**
 * The overall line's status after "x of y": speed and time left only while bytes can move; a
 * paused, cancelled or reconnecting upload says so instead of showing "— · estimating…".
 */
export function activityText(activity: UploadActivity, o: Pick<OverallProgress, 'speed' | 'eta'>, fmt: { bytes: (n: number) => string; duration: (s: number) => string }): string {
  switch (activity) {
    case 'paused': return 'Paused';
    case 'cancelled': return 'Cancelled';
    case 'reconnecting': return 'Reconnecting…';
    case 'stopped': return 'Stopped';
    case 'running':
      if (o.eta === 0) return 'Finishing…';
      if (o.speed > 0 && o.eta !== undefined) return `${fmt.bytes(o.speed)}/s · ${fmt.duration(o.eta)} left`;
      return 'Estimating time left…';
  }
}
