/**
 * Runs a service job from the CLI: progress as a status line on a TTY or as JSON lines
 * (`--progress=json`: `{"phase","bytesDone","bytesTotal","bytesPerSecond","etaSeconds"}`),
 * Ctrl-C cancels the job (which removes its partial output) and exits 130.
 */
import { fail } from '../api/errors.js';
import type { JobInfo, Progress } from '../api/types.js';
import { cancelKdfWork, kdfWorkStuck } from '../crypto/kdf-client.js';
import type { VaultService } from '../service/vault-service.js';
import { humanSize } from './info-format.js';
import type { CliIo } from './io.js';

export type ProgressMode = 'tty' | 'json' | 'none';

export function progressMode(value: string | undefined, io: CliIo): ProgressMode {
  if (value === 'json') return 'json';
  if (value === 'none' || value === 'off') return 'none';
  if (value !== undefined && value !== 'tty')
    throw fail('INVALID_ARGUMENT', '--progress must be json, tty or none');
  return io.stderrIsTTY ? 'tty' : 'none';
}

function statusLine(p: Progress): string {
  const pct =
    p.bytesTotal > 0 ? Math.min(100, (100 * p.bytesDone) / p.bytesTotal).toFixed(1) : '0.0';
  const eta = p.etaSeconds === null ? '' : `, ETA ${Math.ceil(p.etaSeconds)} s`;
  return `\r${p.phase}: ${pct}% (${humanSize(p.bytesDone)} of ${humanSize(p.bytesTotal)}, ${humanSize(p.bytesPerSecond)}/s${eta})\x1b[K`;
}

/** Waits for `job` to end while reporting progress; returns the final info. */
export async function followJob(
  service: VaultService,
  job: JobInfo,
  io: CliIo,
  mode: ProgressMode
): Promise<JobInfo> {
  const out = (line: string) => io.out(line);
  const unsubscribe = service.subscribe((e) => {
    if (e.type !== 'job' || e.job.id !== job.id) return;
    const p = e.job.progress;
    if (mode === 'json') {
      out(
        JSON.stringify({
          phase: p.phase,
          bytesDone: p.bytesDone,
          bytesTotal: p.bytesTotal,
          bytesPerSecond: Math.round(p.bytesPerSecond),
          etaSeconds: p.etaSeconds === null ? null : Math.round(p.etaSeconds * 10) / 10,
        })
      );
    } else if (mode === 'tty') io.progress(statusLine(p));
  });
  let signal: NodeJS.Signals | undefined;
  const onSigint = (sig: NodeJS.Signals) => {
    signal ??= sig;
    void service.cancelJob(job.id);
    // A key derivation does not look at the job's signal: stop it (issue #13).
    cancelKdfWork();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    const done = await service.waitForJob(job.id);
    if (mode === 'tty') io.progress('\r\x1b[K');
    if (signal && done.state !== 'succeeded' && kdfWorkStuck()) {
      // The job has cleaned up; a derivation still inside a native call would keep the
      // process alive for minutes: end by the signal received, as an interrupted program does.
      io.err('image-vault: Cancelled during key derivation; no output was left behind [CANCELLED]');
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    return done;
  } finally {
    unsubscribe();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** Throws the job's error as a VaultError when it did not succeed. */
export function jobResult(done: JobInfo): Record<string, unknown> {
  if (done.state === 'succeeded') return done.result ?? {};
  if (done.state === 'cancelled') throw fail('CANCELLED', 'Cancelled; no output was left behind');
  const e = done.error ?? { code: 'INTERNAL' as const, message: 'The job failed' };
  throw fail(e.code, e.message);
}
