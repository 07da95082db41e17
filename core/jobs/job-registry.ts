/**
 * The registry of running and finished jobs: starts a job's function with an `AbortSignal`
 * and a progress reporter, records its outcome as a `JobInfo`, and pushes every change to
 * subscribers (the faces turn these into `VaultEvent`s).
 *
 * docs/DESIGN.md "Data safety": a cancelled job ends in state `cancelled`; the job function is
 * responsible (through `withPartialOutput`) for leaving no output behind.
 */
import { randomHex } from '../crypto/random.js';
import { fail, toVaultError } from '../api/errors.js';
import type { JobInfo, JobKind } from '../api/types.js';
import { ProgressReporter, type Clock } from './progress.js';

/** What a running job receives. */
export interface JobContext {
  /** Aborted when the job is cancelled through the registry. */
  readonly signal: AbortSignal;
  readonly progress: ProgressReporter;
  /** Throws `CANCELLED` when the job has been cancelled. */
  throwIfCancelled(): void;
}

export type JobFunction = (ctx: JobContext) => Promise<Record<string, unknown>>;

export interface JobRegistryOptions {
  clock?: Clock;
  /** Progress throttle interval (default 100 ms). */
  progressIntervalMs?: number;
  /** Finished jobs kept for `list()`; the oldest are dropped beyond this (default 200). */
  keepFinished?: number;
}

interface Entry {
  info: JobInfo;
  controller: AbortController;
  done: Promise<JobInfo>;
}

/** Builds a `JobContext` around a signal (used by the registry and by tests). */
export function makeJobContext(signal: AbortSignal, progress: ProgressReporter): JobContext {
  return {
    signal,
    progress,
    throwIfCancelled() {
      if (signal.aborted) throw fail('CANCELLED', 'Cancelled');
    },
  };
}

/** Starts, tracks, cancels and reports jobs. */
export class JobRegistry {
  private readonly jobs = new Map<string, Entry>();
  private readonly listeners = new Set<(job: JobInfo) => void>();
  private readonly clock: Clock;
  private seq = 0;

  constructor(private readonly opts: JobRegistryOptions = {}) {
    this.clock = opts.clock ?? Date.now;
  }

  /**
   * Starts `run` on the next tick and returns the job's initial info at once. Whatever `run`
   * throws becomes `{ code, message }` via `toVaultError`; a cancelled job ends `cancelled`.
   */
  start(kind: JobKind, label: string, run: JobFunction): JobInfo {
    const id = `${kind}-${++this.seq}-${randomHex(4)}`;
    const controller = new AbortController();
    const info: JobInfo = {
      id,
      kind,
      label,
      state: 'running',
      progress: {
        phase: 'preparing',
        bytesDone: 0,
        bytesTotal: 0,
        bytesPerSecond: 0,
        etaSeconds: null,
      },
      startedAt: this.clock(),
    };
    const progress = new ProgressReporter({
      clock: this.clock,
      minIntervalMs: this.opts.progressIntervalMs ?? 100,
      onUpdate: (p) => {
        if (info.state !== 'running') return;
        info.progress = p;
        this.notify(info);
      },
    });
    const ctx = makeJobContext(controller.signal, progress);
    const done = Promise.resolve()
      .then(() => run(ctx))
      .then(
        (result) => {
          info.progress = progress.snapshot();
          info.state = 'succeeded';
          info.result = result;
        },
        (e: unknown) => {
          info.progress = progress.snapshot();
          const err = toVaultError(e);
          if (controller.signal.aborted || err.code === 'CANCELLED') {
            info.state = 'cancelled';
            info.error = { code: 'CANCELLED', message: 'Cancelled' };
          } else {
            info.state = 'failed';
            info.error = err.toPayload();
          }
        }
      )
      .then(() => {
        info.endedAt = this.clock();
        this.notify(info);
        this.prune();
        return copyInfo(info);
      });
    this.jobs.set(id, { info, controller, done });
    this.notify(info);
    return copyInfo(info);
  }

  /** All known jobs, oldest first. */
  list(): JobInfo[] {
    return [...this.jobs.values()].map((e) => copyInfo(e.info));
  }

  get(id: string): JobInfo | undefined {
    const e = this.jobs.get(id);
    return e ? copyInfo(e.info) : undefined;
  }

  /** Requests cancellation; returns false when the job is unknown or already finished. */
  cancel(id: string): boolean {
    const e = this.jobs.get(id);
    if (!e || e.info.state !== 'running') return false;
    e.controller.abort(fail('CANCELLED', 'Cancelled'));
    return true;
  }

  /** Calls `listener` with a copy of a job on every change; returns the unsubscribe function. */
  subscribe(listener: (job: JobInfo) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves with the job's final info (never rejects for a failed job; check `state`). */
  async wait(id: string): Promise<JobInfo> {
    const e = this.jobs.get(id);
    if (!e) throw fail('NOT_FOUND', `No job with id ${id}`);
    return e.done;
  }

  private notify(info: JobInfo): void {
    for (const l of this.listeners) {
      try {
        l(copyInfo(info));
      } catch {
        // A failing listener must not break the job or other listeners.
      }
    }
  }

  private prune(): void {
    const keep = this.opts.keepFinished ?? 200;
    const finished = [...this.jobs.values()].filter((e) => e.info.state !== 'running');
    for (const e of finished.slice(0, Math.max(0, finished.length - keep))) {
      this.jobs.delete(e.info.id);
    }
  }
}

function copyInfo(info: JobInfo): JobInfo {
  return {
    ...info,
    progress: { ...info.progress },
    ...(info.error ? { error: { ...info.error } } : {}),
    ...(info.result ? { result: { ...info.result } } : {}),
  };
}
