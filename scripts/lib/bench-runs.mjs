// Timed runs for `npm run bench` (issue #15 "Steady on a busy disk"): each case runs ROUNDS
// times alternating with qemu-img (who goes first alternates too), once with a cold page cache
// and once warm per round, and prints min/median/max for each side with the ratios of the
// medians and of the worst runs (> 1: we are faster). `--busy` adds a background writer.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command under /usr/bin/time; returns seconds, CPU seconds (user + system) and peak RSS in MiB. */
export function timed(cmd, args) {
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    // qemu-img's PBKDF2 benchmark sometimes fails at tiny iter-times (docs/spec/README.md), at
    // times several runs in a row (seen: six): retry, and only the run that works is timed.
    if (r.status !== 0 && /accurate CPU usage/.test(r.stderr) && attempt < 30) continue;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
    const last = r.stderr.trim().split('\n').pop().split(' ');
    return {
      s: Number(last[0]),
      rssMiB: Number(last[1]) / 1024,
      cpu: Number(last[2]) + Number(last[3]),
    };
  }
}

let dropWarned = false;
/**
 * Empties the page cache of `files` (and writes back dirty pages first): globally through
 * /proc/sys/vm/drop_caches when root, else per file with `dd iflag=nocache count=0`
 * (posix_fadvise DONTNEED over the whole file).
 */
export function dropCaches(files) {
  spawnSync('sync');
  if (process.getuid?.() === 0) {
    const r = spawnSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches']);
    if (r.status === 0) return;
  }
  for (const f of files.filter((x) => existsSync(x))) {
    const r = spawnSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
    if (r.status !== 0 && !dropWarned) {
      dropWarned = true;
      console.log(`  (could not drop the page cache of ${f}: cold runs are not cold)`);
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const summary = (runs) => {
  const s = runs.map((r) => r.s);
  return {
    min: Math.min(...s),
    med: median(s),
    max: Math.max(...s),
    cpu: median(runs.map((r) => r.cpu)),
    rss: Math.max(...runs.map((r) => r.rssMiB)),
  };
};
const f2 = (n) => n.toFixed(2);
const span = (x) => `${f2(x.min)}/${f2(x.med)}/${f2(x.max)}`;

/**
 * A bench case: `sides` maps a label to `{ args: () => [cmd, args], out }`; the first side is
 * ours, the one labelled `qemu` is the reference. Each round runs every side cold, then every
 * side warm, in an order that rotates each round; each side's output is removed before its
 * run. `inputs` are the files whose cache a cold run drops. Returns the summaries.
 */
export function runCase(name, { sides, inputs, rounds }) {
  const labels = Object.keys(sides);
  const runs = { cold: {}, warm: {} };
  for (const t of ['cold', 'warm']) for (const l of labels) runs[t][l] = [];
  for (let i = 0; i < rounds; i++) {
    const order = labels.map((_, k) => labels[(k + i) % labels.length]);
    for (const temp of ['cold', 'warm']) {
      for (const l of order) {
        const side = sides[l];
        rmSync(side.out, { force: true });
        // Warm runs follow the round's cold ones, which left the inputs' data in the cache.
        if (temp === 'cold') dropCaches(inputs);
        const [cmd, args] = side.args();
        runs[temp][l].push(timed(cmd, args));
      }
    }
  }
  const out = {};
  for (const temp of ['cold', 'warm']) {
    out[temp] = Object.fromEntries(labels.map((l) => [l, summary(runs[temp][l])]));
    const q = out[temp].qemu;
    const parts = labels.map((l) => {
      const x = out[temp][l];
      const ratio =
        l === 'qemu' ? '' : ` (median ${f2(q.med / x.med)}x, worst ${f2(q.max / x.max)}x)`;
      return `${l} ${span(x)} s cpu ${f2(x.cpu)}${ratio}`;
    });
    console.log(`${`${name} [${temp}]`.padEnd(46)} ${parts.join('  ')}`);
  }
  for (const l of labels) rmSync(sides[l].out, { force: true });
  return out;
}

/** Linux pressure-stall `io` line ("some avg10=…"), for the record. */
export function ioPressure() {
  try {
    return readFileSync('/proc/pressure/io', 'utf8').split('\n')[0];
  } catch {
    return 'no /proc/pressure/io';
  }
}

/**
 * `--busy`: a background writer loading the disk while the bench runs: 1 GiB written and
 * flushed (fdatasync), over and over, into a file in `dir`. Returns a stop function.
 */
export function startBusyWriter(dir) {
  const file = join(dir, 'busy.load');
  const child = spawn(
    'sh',
    [
      '-c',
      `while :; do dd if=/dev/zero of=${file} bs=1M count=1024 conv=fdatasync status=none; done`,
    ],
    { stdio: 'ignore', detached: true }
  );
  return () => {
    try {
      process.kill(-child.pid, 'SIGTERM'); // the loop and its dd (their own process group)
    } catch {
      // already gone
    }
    rmSync(file, { force: true });
  };
}
