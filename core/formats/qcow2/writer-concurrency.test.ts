/** Overlapping Qcow2Writer.write calls (the copy loop keeps several in flight). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryDevice } from '../../io/memory-device.js';
import type { DataCipher } from '../encryption.js';
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
      const order = [...Array(size / piece).keys()].sort(() => Math.random() - 0.5);
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
      assert.ok(Buffer.from(back).equals(Buffer.from(src)), 'guest bytes differ');
      const ck = await checkQcow2(new MemoryDevice(raw));
      assert.equal(ck.corruptions + ck.leaks, 0, ck.messages.join('\n'));
    });
  }
});
