/**
 * Test-only: a worker thread that keeps sweeping /proc/PID/cmdline and /proc/PID/environ of
 * every process while an operation runs, to prove a secret never shows up there. Sweeps are
 * synchronous inside the worker, so they run concurrently with the main thread's spawns.
 */
import { Worker } from 'node:worker_threads';

export interface ProcScanReport {
  sweeps: number;
  /** Distinct command lines seen that mention `watch` (e.g. "virsh"), NUL turned into space. */
  seen: string[];
  /** Places where the needle appeared, e.g. "/proc/123/cmdline". */
  leaks: string[];
}

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { readdirSync, readFileSync } = require('node:fs');
const flag = new Int32Array(workerData.stop);
const needle = Buffer.from(workerData.needle);
const seen = new Set(); const leaks = new Set(); let sweeps = 0;
while (Atomics.load(flag, 0) === 0) {
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid) || pid === String(process.pid)) continue;
    for (const what of ['cmdline', 'environ']) {
      let buf;
      try { buf = readFileSync('/proc/' + pid + '/' + what); } catch { continue; }
      if (buf.includes(needle)) leaks.add('/proc/' + pid + '/' + what);
      if (what === 'cmdline') {
        const line = buf.toString('utf8').split('\\0').join(' ').trim();
        if (line.includes(workerData.watch)) seen.add(line);
      }
    }
  }
  sweeps++;
}
parentPort.postMessage({ sweeps, seen: [...seen], leaks: [...leaks] });
`;

/** Runs `op` while a worker sweeps /proc for `needle`; returns what the sweeps saw. */
export async function scanProcDuring(
  needle: Uint8Array,
  watch: string,
  op: () => Promise<void>
): Promise<ProcScanReport> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { stop, needle: Buffer.from(needle), watch },
  });
  const report = new Promise<ProcScanReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await new Promise<void>((resolve) => worker.once('online', () => resolve()));
  try {
    await op();
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
  }
  const r = await report;
  await worker.terminate();
  return r;
}
