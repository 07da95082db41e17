/**
 * Test-only child process: runs `info`, `check`, `keyslot test` and `convert` of the CLI
 * in-process on every file of a hostile corpus (core/testing/hostile-corpus.ts), each with a
 * 10 s timeout, and prints one JSON line: the outcome counts and every bad outcome, the
 * slowest run and the process's peak RSS. Usage: hostile-driver.js LIST.json PW WORKDIR
 *
 * Outcomes: `ok` (exit 0), `findings` (check's 2/3), `typed` (one line ending in [CODE]),
 * `internal` (one line with [INTERNAL]), `untyped` (anything else), `timeout`, `threw`.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import type { CliIo } from '../cli/io.js';
import { setKdfCostPolicy } from '../crypto/kdf-cost.js';
import type { CorpusEntry } from './hostile-corpus.js';

const TIMEOUT_MS = 10_000;

type Outcome = 'ok' | 'findings' | 'typed' | 'internal' | 'untyped' | 'timeout' | 'threw';

async function runOne(argv: string[]): Promise<{ outcome: Outcome; line: string; ms: number }> {
  const err: string[] = [];
  const io: CliIo = {
    out: () => undefined,
    err: (l) => err.push(l),
    progress: () => undefined,
    stderrIsTTY: false,
  };
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(
    (r) => (timer = setTimeout(() => r('timeout'), TIMEOUT_MS))
  );
  try {
    const code = await Promise.race([main(argv, io), timeout]);
    const ms = performance.now() - t0;
    // Warnings (skipped keyslots, unreadable backing files) precede the error line.
    const lines = err.filter((l) => !l.startsWith('warning: '));
    const line = lines.join(' | ');
    if (code === 'timeout') return { outcome: 'timeout', line, ms };
    if (code === 0) return { outcome: 'ok', line, ms };
    if (argv[0] === 'check' && (code === 2 || code === 3)) return { outcome: 'findings', line, ms };
    if (lines.length === 1 && /\[INTERNAL\]$/.test(line)) return { outcome: 'internal', line, ms };
    if (lines.length === 1 && /\[[A-Z_]+\]$/.test(line) && !line.includes('\n'))
      return { outcome: 'typed', line, ms };
    return { outcome: 'untyped', line, ms };
  } catch (e) {
    return { outcome: 'threw', line: String(e), ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

async function run() {
  const [list, pw, work] = process.argv.slice(2) as [string, string, string];
  const entries = JSON.parse(await readFile(list, 'utf8')) as CorpusEntry[];
  // The corpus bounds (issue #13: every run within 10 s and 300 MiB): keyslots costing more
  // than 5 s or 128 MiB of Argon2 memory are skipped, as the CLI's bounds skip costlier ones.
  setKdfCostPolicy({ maxSeconds: 5, maxMemoryKiB: 128 * 1024 });
  const counts: Record<string, Record<string, number>> = {};
  const codes: Record<string, number> = {};
  const bad: string[] = [];
  let slowest = { ms: 0, what: '' };
  let peakRss = 0;
  let opPeak = 0;
  const growth: [number, string][] = [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    peakRss = Math.max(peakRss, rss);
    opPeak = Math.max(opPeak, rss);
  }, 10);
  const dst = join(work, 'out.raw');
  for (const e of entries) {
    const ops: [string, string[]][] = [
      ['info', ['info', e.path]],
      ['check', ['check', e.path]],
      ['keyslot test', ['keyslot', 'test', '--passphrase-file', pw, e.path]],
      ['convert', ['convert', '-O', 'raw', '--source-passphrase-file', pw, e.path, dst]],
    ];
    for (const [name, argv] of ops) {
      const before = process.memoryUsage.rss();
      opPeak = before;
      const r = await runOne(argv);
      growth.push([
        Math.round((Math.max(opPeak, process.memoryUsage.rss()) - before) / 2 ** 20),
        `${name} ${e.label}`,
      ]);
      growth.sort((a, b) => b[0] - a[0]).splice(5);
      await rm(dst, { force: true });
      await rm(`${dst}.partial`, { force: true });
      await rm(`${dst}.partial.journal`, { force: true });
      (counts[name] ??= {})[r.outcome] = ((counts[name] ??= {})[r.outcome] ?? 0) + 1;
      const code = /\[([A-Z_]+)\]$/.exec(r.line)?.[1];
      if (code) codes[code] = (codes[code] ?? 0) + 1;
      if (r.ms > slowest.ms) slowest = { ms: Math.round(r.ms), what: `${name} ${e.label}` };
      if (!['ok', 'findings', 'typed'].includes(r.outcome)) {
        bad.push(`${r.outcome}: ${name} ${e.label}: ${r.line.slice(0, 300)}`);
      }
    }
  }
  clearInterval(sampler);
  const maxRssMiB = Math.round(Math.max(peakRss / 2 ** 20, process.resourceUsage().maxRSS / 1024));
  process.stdout.write(
    JSON.stringify({ files: entries.length, counts, codes, bad, slowest, maxRssMiB, growth }) + '\n'
  );
  // Timed-out work may still hold the event loop (see `bad`): the answer is out, end here.
  process.exit(0);
}

void run();
