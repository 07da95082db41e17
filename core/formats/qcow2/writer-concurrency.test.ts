/** Overlapping Qcow2Writer.write calls (the copy loop keeps several in flight). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryDevice } from '../../io/memory-device.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import { checkQcow2 } from './check.js';
import { createQcow2, reopenQcow2Writer } from './create.js';
import { openQcow2 } from './reader.js';

const K = 1024;
const M = 1024 * K;

/** A toy sector cipher that yields to the event loop, so concurrent writes interleave. */
function slowXorCipher(): DataCipher {
  const apply = async (d: Uint8Array, iv: number) => {
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < d.length; i++) d[i]! ^= ((iv + Math.floor(i / 512)) * 29 + 5) & 0xff || 1;
    return d;
  };
  return { sectorSize: 512, encrypt: apply, decrypt: apply, dispose: async () => {} };
}

/** A memory device whose reads and writes finish after a random number of event-loop turns. */
class JitteryDevice extends MemoryDevice {
  private static async jitter(): Promise<void> {
    for (let n = randomBytes(1)[0]! % 4; n > 0; n--) await new Promise((r) => setImmediate(r));
  }
  override async read(buf: Uint8Array, position: number): Promise<number> {
    await JitteryDevice.jitter();
    return super.read(buf, position);
  }
  override async write(buf: Uint8Array, position: number): Promise<void> {
    await JitteryDevice.jitter();
    return super.write(buf, position);
  }
}

/** 0..n-1 in an order fixed by `seed` (printed on failure, so a failure can be replayed). */
function shuffled(n: number, seed: number): number[] {
  let x = seed || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const a = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

/** Random guest content: data, zero and partly-zero pieces in random order. */
function guest(size: number, piece: number): Uint8Array {
  const g = new Uint8Array(size);
  for (let off = 0; off < size; off += piece) {
    const kind = randomBytes(1)[0]! % 3;
    if (kind === 0) g.set(randomBytes(piece), off);
    if (kind === 1) g.set(randomBytes(piece / 2), off + piece / 4);
  }
  return g;
}

describe('qcow2 writer, concurrent writes', () => {
  for (const encrypted of [false, true]) {
    it(`${encrypted ? 'encrypted' : 'plain'}: 64 overlapping writes in random order, then overwrites after reopening, read back exactly`, async () => {
      const size = 16 * M;
      const piece = 256 * K;
      const src = guest(size, piece);
      const dev = new JitteryDevice();
      const w = await createQcow2(dev, {
        virtualSize: size,
        clusterSize: 4096, // small clusters: many L2 tables and runs
        ...(encrypted
          ? {
              encryption: {
                kind: 'luks' as const,
                initHeader: async (alloc: (length: number) => Promise<unknown>) => {
                  await alloc(4096);
                  return slowXorCipher();
                },
              },
            }
          : {}),
      });
      assert.ok((w.concurrentWrites ?? 1) > 1);
      const seed = randomBytes(4).readUInt32LE(0);
      const order = shuffled(size / piece, seed);
      // The writer may use the buffer as scratch: give each call its own copy.
      await Promise.all(
        order.map((k) => w.write(src.slice(k * piece, (k + 1) * piece), k * piece))
      );
      await w.close();
      // Reopened, the L2 tables are on disk, not cached: concurrent writes into one table
      // (overwrites and new clusters) must not lose each other's entries.
      const dev2 = new JitteryDevice(dev.bytes());
      const w2 = await reopenQcow2Writer(dev2, {
        ...(encrypted ? { cipher: slowXorCipher() } : {}),
      });
      const again = order.filter((k) => k % 2 === 0);
      for (const k of again) src.set(randomBytes(piece), k * piece);
      await Promise.all(
        again.map((k) => w2.write(src.slice(k * piece, (k + 1) * piece), k * piece))
      );
      await w2.close();
      const raw = dev2.bytes();
      const r = await openQcow2(new MemoryDevice(raw, false), {
        unlock: async () => slowXorCipher(),
      });
      const back = new Uint8Array(size);
      await r.read(back, 0);
      assert.ok(Buffer.from(back).equals(Buffer.from(src)), `guest bytes differ (seed ${seed})`);
      const ck = await checkQcow2(new MemoryDevice(raw));
      assert.equal(ck.corruptions + ck.leaks, 0, ck.messages.join('\n'));
    });
  }
});

describe('qcow2 writer, flush and close against writes in flight', () => {
  it('flush() waits for the data of a write that started before it', async () => {
    const log: string[] = [];
    class SlowDevice extends MemoryDevice {
      override async write(buf: Uint8Array, position: number): Promise<void> {
        const data = buf.length >= 256 * K;
        if (data) await new Promise((r) => setTimeout(r, 30));
        await super.write(buf, position);
        if (data) log.push('data');
      }
      override async flush(): Promise<void> {
        log.push('fsync');
      }
    }
    const dev = new SlowDevice();
    const w = await createQcow2(dev, { virtualSize: 64 * M });
    log.length = 0;
    const write = w.write(new Uint8Array(M).fill(7), 0);
    await w.flush();
    assert.deepEqual(log, ['data', 'fsync']);
    await write;
    const late = w.write(new Uint8Array(M).fill(8), M);
    await w.close(); // called while `late` waits for the lock: its data must be in
    await late;
    await assert.rejects(w.write(new Uint8Array(M).fill(9), 2 * M), { code: 'INVALID_ARGUMENT' });
    const back = new Uint8Array(3 * M);
    await (await openQcow2(new MemoryDevice(dev.bytes(), false))).read(back, 0);
    assert.ok(back.subarray(0, M).every((b) => b === 7));
    assert.ok(back.subarray(M, 2 * M).every((b) => b === 8));
    assert.ok(back.subarray(2 * M).every((b) => b === 0));
  });
});
