/**
 * Progress reporting for long jobs: phases, byte counts, a smoothed rate and an ETA, emitted
 * at most ~10 times a second (the final report and every phase change always go out).
 *
 * The clock is injectable so the rate/ETA math is testable without real time.
 */
import type { Progress } from '../api/types.js';

/**
 * Job phases the engine uses; any other string is allowed too. Before any byte moves a job
 * says what it waits for (issue #14): `inspecting` the source, `checking-passphrase`
 * (legacy heuristic), `unlocking` (a keyslot's KDF), `calibrating` (the new keyslot's KDF
 * cost), `creating`, `counting` (mapping the data to copy).
 */
export type Phase =
  | 'preparing'
  | 'inspecting'
  | 'checking-passphrase'
  | 'unlocking'
  | 'calibrating'
  | 'creating'
  | 'counting'
  | 'copying'
  | 'verifying'
  | 'finishing'
  | (string & {});

/** Milliseconds clock (defaults to `Date.now`). */
export type Clock = () => number;

export interface ProgressReporterOptions {
  /** Receives throttled snapshots. */
  onUpdate?: (p: Progress) => void;
  clock?: Clock;
  /** Minimum time between non-forced updates (default 100 ms, i.e. ≤ 10/s). */
  minIntervalMs?: number;
  /** Rate samples are taken at most this often (default 250 ms). */
  sampleIntervalMs?: number;
  /** Emit a held-back update after the interval even if nothing else happens (default true). */
  trailing?: boolean;
  /** Weight of the newest rate sample in the exponential average (default 0.3). */
  smoothing?: number;
}

/** Tracks one job's progress; the registry gives each job one of these. */
export class ProgressReporter {
  private phase: Phase = 'preparing';
  private done = 0;
  private total = 0;
  private rate = 0;
  private sampleAt: number;
  private sampleDone = 0;
  private lastEmit = Number.NEGATIVE_INFINITY;
  private pending = false;
  private trailing: ReturnType<typeof setTimeout> | undefined;
  private readonly clock: Clock;
  private readonly minInterval: number;
  private readonly sampleInterval: number;
  private readonly alpha: number;

  constructor(private readonly opts: ProgressReporterOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.minInterval = opts.minIntervalMs ?? 100;
    this.sampleInterval = opts.sampleIntervalMs ?? 250;
    this.alpha = opts.smoothing ?? 0.3;
    this.sampleAt = this.clock();
  }

  /** Enters a new phase: counters and rate restart, and an update is emitted at once. */
  setPhase(phase: Phase, bytesTotal = 0, bytesDone = 0): void {
    this.phase = phase;
    this.total = Math.max(0, bytesTotal);
    this.done = Math.max(0, bytesDone);
    this.rate = 0;
    this.sampleAt = this.clock();
    this.sampleDone = this.done;
    this.emit(true);
  }

  /** Changes the total of the current phase (e.g. once a map pass has counted the data). */
  setTotal(bytesTotal: number): void {
    this.total = Math.max(0, bytesTotal);
    this.emit(false);
  }

  /** Adds `bytes` to the done count. */
  advance(bytes: number): void {
    this.set(this.done + bytes);
  }

  /** Sets the done count (e.g. after resuming from a checkpoint) without counting it as speed. */
  skipTo(bytesDone: number): void {
    this.done = Math.max(0, bytesDone);
    this.sampleDone = this.done;
    this.sampleAt = this.clock();
    this.emit(false);
  }

  /** Sets the done count. */
  set(bytesDone: number): void {
    this.done = Math.max(0, bytesDone);
    this.sample();
    this.emit(false);
  }

  /** Emits the current state unconditionally (the final report of a job). */
  flush(): void {
    this.emit(true);
  }

  /** The current state (not throttled). */
  snapshot(): Progress {
    const remaining = Math.max(0, this.total - this.done);
    let eta: number | null = null;
    if (remaining === 0 && this.total > 0) eta = 0;
    else if (this.rate > 0) eta = remaining / this.rate;
    return {
      phase: this.phase,
      bytesDone: this.done,
      bytesTotal: this.total,
      bytesPerSecond: this.rate,
      etaSeconds: eta,
    };
  }

  private sample(): void {
    const now = this.clock();
    const dt = now - this.sampleAt;
    if (dt < this.sampleInterval) return;
    const instant = ((this.done - this.sampleDone) * 1000) / dt;
    this.rate = this.rate === 0 ? instant : this.alpha * instant + (1 - this.alpha) * this.rate;
    this.sampleAt = now;
    this.sampleDone = this.done;
  }

  private emit(force: boolean): void {
    const now = this.clock();
    if (!force && now - this.lastEmit < this.minInterval) {
      this.pending = true;
      // A held-back update still goes out once the interval has passed (real time).
      if (this.trailing === undefined && this.opts.trailing !== false) {
        this.trailing = setTimeout(() => {
          this.trailing = undefined;
          if (this.pending) this.emit(true);
        }, this.minInterval);
        this.trailing.unref?.();
      }
      return;
    }
    this.pending = false;
    if (this.trailing !== undefined) {
      clearTimeout(this.trailing);
      this.trailing = undefined;
    }
    this.lastEmit = now;
    this.opts.onUpdate?.(this.snapshot());
  }

  /** True when an update was held back by the throttle and not yet emitted. */
  get hasPending(): boolean {
    return this.pending;
  }
}
