// `npm run bench`: our speed against qemu-img / cryptsetup, measured in the same run on the
// same data, printed as ratios (> 1 means we are faster). Not a test: no pass/fail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { pbkdf2Sync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, ensureDependencies, ensurePeers, root } from './lib/setup.mjs';
import { benchArgon2Open, benchEventLoopLag, kdfPassphraseFile } from './lib/bench-kdf.mjs';
import { convertRows, makeRandomRaw, printTargets } from './lib/bench-convert.mjs';
import { benchRekey } from './lib/bench-rekey.mjs';
import { ioPressure, runCase, startBusyWriter, timed } from './lib/bench-runs.mjs';

ensureDependencies();
ensurePeers(['qemu-img', 'qemu-io', 'cryptsetup']);
if (!process.argv.includes('--no-build')) build();

const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'iv-bench-'));
const cli = join(root, 'bin', 'image-vault.js');
const pw = join(dir, 'pw');
const pw2 = join(dir, 'pw2');
writeFileSync(pw, 'abc123');
writeFileSync(pw2, 'new passphrase');
const ITER = 'iter-time=10';

const ours = (...args) => timed(process.execPath, [cli, ...args]);
const qemu = (...args) => timed('qemu-img', args);
const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 5));

/** The key-derivation rows (scripts/lib/bench-kdf.mjs); `--kdf-only` runs just these. */
async function kdfRows() {
  await benchEventLoopLag(root, dir);
  if (!process.argv.includes('--no-argon2'))
    benchArgon2Open({ timed, cli, dir, pw: kdfPassphraseFile(dir), rounds: Math.max(3, ROUNDS) });
}
if (process.argv.includes('--kdf-only')) {
  try {
    await kdfRows();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

/** The master-key rotation row (scripts/lib/bench-rekey.mjs) on a fresh 1 GiB random raw. */
function rekeyRow() {
  const source = join(dir, 'rekey-src.raw');
  makeRandomRaw(source, 1 << 30);
  benchRekey({ ours, dir, pw, source, rounds: ROUNDS });
  rmSync(source, { force: true });
}
if (process.argv.includes('--rekey-only')) {
  try {
    rekeyRow();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const secret = (id, file) => ['--object', `secret,id=${id},file=${file}`];
const only = (process.argv.find((a) => a.startsWith('--rows=')) ?? '--rows=')
  .slice('--rows='.length)
  .split(',')
  .filter(Boolean);
const busy = process.argv.includes('--busy');

try {
  const stopBusy = busy ? startBusyWriter(dir) : undefined;
  let results;
  try {
    console.log(
      `Image Vault bench (${dir}); qemu-img with -m 8 -W -t none; ${ROUNDS} rounds per case, ` +
        `alternating, cold and warm cache; times min/median/max s; ratio = qemu-img / ours ` +
        `(> 1: we are faster); "ours" without verify, "ours+verify" with the default verify` +
        `${busy ? '; --busy: a background writer loads the disk' : ''}`
    );
    if (busy) await new Promise((r) => setTimeout(r, 3000)); // let the writer fill the queue
    console.log(`I/O pressure at start: ${ioPressure()}\n`);
    results = convertRows({ dir, cli, pw, pw2, rounds: ROUNDS, only });
    console.log(`I/O pressure at end: ${ioPressure()}`);
  } finally {
    stopBusy?.();
  }
  printTargets(results);
  if (only.length > 0 || busy) {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0); // `--rows=` / `--busy`: the conversion rows only
  }
  rekeyRow();

  // create with iter-time=10
  const ql = join(dir, 'q.qcow2'),
    ol = join(dir, 'o.qcow2');
  const luksQ = ['-o', `encrypt.format=luks,encrypt.key-secret=s,encrypt.${ITER}`];
  runCase('create 10G qcow2+LUKS, iter-time=10', {
    inputs: [],
    rounds: ROUNDS,
    sides: {
      ours: {
        out: ol,
        args: () => [
          process.execPath,
          [
            cli,
            'create',
            '-f',
            'qcow2',
            '--encrypt',
            '-o',
            ITER,
            '--passphrase-file',
            pw,
            ol,
            '10G',
          ],
        ],
      },
      qemu: {
        out: ql,
        args: () => [
          'qemu-img',
          ['create', '-f', 'qcow2', ...secret('s', pw), ...luksQ, ql, '10G'],
        ],
      },
    },
  });

  // PBKDF2 strength at the real default (2000 ms): the keyslot iterations each tool writes
  // for the same volume (LUKS1, aes-xts-plain64, 512-bit key, sha256).
  const csImg = join(dir, 'cs.img');
  const ourImg = join(dir, 'ours.luks');
  spawnSync('truncate', ['-s', '4M', csImg]);
  const fmt = spawnSync(
    'cryptsetup',
    [
      'luksFormat',
      '--batch-mode',
      '--type',
      'luks1',
      '--key-file',
      pw,
      '--iter-time',
      '2000',
      csImg,
    ],
    { encoding: 'utf8' }
  );
  if (fmt.status !== 0) throw new Error(`cryptsetup luksFormat failed: ${fmt.stderr}`);
  const dump = spawnSync('cryptsetup', ['luksDump', csImg], { encoding: 'utf8' }).stdout;
  const theirs = Number(/Key Slot 0: ENABLED\s+Iterations:\s+(\d+)/.exec(dump)?.[1]);
  ours('create', '-f', 'luks', '-o', 'iter-time=2000', '--passphrase-file', pw, ourImg, '4M');
  const info = JSON.parse(
    spawnSync(process.execPath, [cli, 'info', '--json', ourImg], { encoding: 'utf8' }).stdout
  );
  const mine = info['format-specific'].data.slots[0].iters;
  // Against `cryptsetup benchmark` too (its rate is for a 256-bit key: one sha256 block,
  // so compare with a keyslot of a 256-bit volume key, aes-128-xts).
  // Best of three: each run is ~1 s of CPU and this machine is noisy.
  const rate = Math.max(
    ...[1, 2, 3].map(() => {
      const out = spawnSync('cryptsetup', ['benchmark', '--pbkdf', 'pbkdf2', '--hash', 'sha256'], {
        encoding: 'utf8',
      }).stdout;
      return Number(/PBKDF2-sha256\s+(\d+)\s+iterations per second/.exec(out)?.[1] ?? 0);
    })
  );
  // Node's own PBKDF2-SHA256 speed for one block, measured the same way (CPU time, best of
  // three): the two libcryptos differ in speed, and each tool calibrates against its own.
  const nodeRate = Math.max(
    ...[1, 2, 3].map(() => {
      const n = 2_000_000;
      const c0 = process.cpuUsage();
      pbkdf2Sync('foo', 'bar', n, 32, 'sha256');
      const c = process.cpuUsage(c0);
      return Math.round(n / ((c.user + c.system) / 1e6));
    })
  );
  const img256 = join(dir, 'ours256.luks');
  ours(
    'create',
    '-f',
    'luks',
    '-o',
    'cipher=aes-128-xts-plain64,iter-time=2000',
    '--passphrase-file',
    pw,
    img256,
    '4M'
  );
  const info256 = JSON.parse(
    spawnSync(process.execPath, [cli, 'info', '--json', img256], { encoding: 'utf8' }).stdout
  );
  const mine256 = info256['format-specific'].data.slots[0].iters;
  // What each 512-bit slot costs to open (CPU seconds, with the digest check and start-up).
  // And what qemu-img writes for the same volume (its PBKDF2 is nettle's, through GnuTLS).
  const qemuLuks = join(dir, 'qemu.luks');
  qemu(
    'create',
    '-q',
    '-f',
    'luks',
    ...secret('s', pw),
    '-o',
    'key-secret=s,iter-time=2000',
    qemuLuks,
    '4M'
  );
  const qemuInfo = JSON.parse(
    spawnSync('qemu-img', ['info', '--output=json', qemuLuks], { encoding: 'utf8' }).stdout
  );
  const qemuIters = qemuInfo['format-specific'].data.slots[0].iters;
  const openCs = timed('cryptsetup', ['open', '--test-passphrase', '--key-file', pw, csImg]);
  const openOurs = ours('keyslot', 'test', ourImg, '--passphrase-file', pw);
  const csOpensOurs = timed('cryptsetup', ['open', '--test-passphrase', '--key-file', pw, ourImg]);
  const M = (n) => `${(n / 1e6).toFixed(2)} M`;
  console.log(
    [
      '\nPBKDF2-sha256 at iter-time 2000 ms:',
      `  speed (CPU time, best of 3): Node's crypto ${M(nodeRate)} it/s, cryptsetup benchmark ` +
        `${M(rate)} it/s; Node/cryptsetup ${(nodeRate / rate).toFixed(2)}`,
      `  256-bit key: ours ${mine256}, cryptsetup benchmark × 2 s ${2 * rate}; ours/theirs ` +
        `${(mine256 / (2 * rate)).toFixed(2)}; ours / (Node's speed × 2 s) ` +
        `${(mine256 / (2 * nodeRate)).toFixed(2)}`,
      `  LUKS1 slot, aes-xts-plain64 512-bit: ours ${mine}, cryptsetup luksFormat ${theirs}; ` +
        `ours/theirs ${(mine / theirs).toFixed(2)}; qemu-img ${qemuIters}, ours/qemu-img ` +
        `${(mine / qemuIters).toFixed(2)}`,
      `  opening that slot (CPU s): cryptsetup its own ${openCs.cpu.toFixed(2)}, ours its own ` +
        `${openOurs.cpu.toFixed(2)}, cryptsetup ours ${csOpensOurs.cpu.toFixed(2)}`,
    ].join('\n')
  );
  const peak = Math.max(...results.flatMap((r) => [r.cold.ours.rss, r.warm.ours.rss]));
  console.log(`Peak memory of our runs: max ${peak.toFixed(0)} MiB`);
  await kdfRows();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
