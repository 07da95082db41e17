/**
 * Throughput benchmark for the sector ciphers (not a test): prints MB/s for each mode on
 * 1 MiB buffers, single thread, plus the worker pool. Run: `npx tsx core/crypto/bench-crypto.ts`.
 */
import { availableParallelism } from 'node:os';
import { parseLuksCipher, type CipherSpec } from './cipher-spec.js';
import { createCryptoPool } from './crypto-pool.js';
import { calibratePbkdf2 } from './pbkdf2.js';
import { createLegacyAesCipher, createSectorCipher } from './sector-cipher.js';
import { randomBytes } from './random.js';
import type { SectorCrypto } from './data-cipher.js';

const MiB = 1024 * 1024;

function measure(label: string, sc: SectorCrypto, decrypt: boolean, totalMiB = 256): void {
  const buf = randomBytes(MiB);
  const op = decrypt ? sc.decrypt.bind(sc) : sc.encrypt.bind(sc);
  for (let i = 0; i < 8; i++) op(buf, i * 2048); // warm-up
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < totalMiB; i++) op(buf, i * 2048);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  // CPU-time rate is the useful figure on a busy machine; wall-clock rate is what a job sees.
  console.log(
    `${label.padEnd(40)} ${(totalMiB / s).toFixed(0).padStart(6)} MB/s wall` +
      `  ${(totalMiB / cpu).toFixed(0).padStart(6)} MB/s per CPU-second`
  );
}

const cases: [string, string, number][] = [
  ['aes', 'xts-plain64', 64],
  ['aes', 'xts-plain64', 32],
  ['aes', 'xts-essiv:sha256', 64],
  ['aes', 'cbc-essiv:sha256', 32],
  ['aes', 'cbc-plain64', 16],
];
for (const [name, mode, kb] of cases) {
  const spec: CipherSpec = parseLuksCipher(name, mode, kb);
  const sc = createSectorCipher(spec, randomBytes(kb));
  const bits = (mode.startsWith('xts') ? kb / 2 : kb) * 8;
  measure(`${name}-${bits}-${mode} encrypt`, sc, false);
  measure(`${name}-${bits}-${mode} decrypt`, sc, true);
  sc.dispose();
}
const legacy = createLegacyAesCipher(new TextEncoder().encode('abc123'));
measure('legacy aes-128-cbc decrypt', legacy, true);
legacy.dispose();

const spec = parseLuksCipher('aes', 'xts-plain64', 64);
const threads = availableParallelism();
const pool = createCryptoPool(spec, randomBytes(64), { threads });
const bufs = Array.from({ length: threads * 2 }, () => randomBytes(MiB));
let next = 0;
const total = 512;
const t0 = process.hrtime.bigint();
await Promise.all(
  bufs.map(async (b) => {
    let buf = b;
    while (next < total) {
      const i = next++;
      buf = await pool.encrypt(buf, i * 2048);
    }
  })
);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  `${`pool (${threads} threads) aes-256-xts`.padEnd(40)} ${(total / s).toFixed(0).padStart(6)} MB/s`
);
await pool.close();

for (const ms of [100, 1000]) {
  const t = process.hrtime.bigint();
  const it = calibratePbkdf2('sha256', 64, ms);
  const took = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(
    `calibratePbkdf2(sha256, 64, ${ms}) = ${it} (${(it / ms / 1000).toFixed(2)} M iter/s, took ${took.toFixed(0)} ms)`
  );
}
