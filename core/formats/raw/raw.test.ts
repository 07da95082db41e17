/** Raw images: sparse create, zero skipping, reopen clearing stale bytes, map. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDevice } from '../../io/memory-device.js';
import { patternBytes } from '../../testing/bytes.js';
import { createRaw, openRaw, reopenRawWriter } from './raw.js';

describe('raw', () => {
  it('creates sparse, skips zero blocks, reopen clears stale bytes, reads back', async () => {
    const dev = new MemoryDevice();
    const w = await createRaw(dev, 300000);
    const src = new Uint8Array(300000);
    src.set(patternBytes(1000, 1), 70000);
    await w.write(src, 0);
    await w.flush();
    assert.equal(await dev.size(), 300000);
    const stale = dev.bytes();
    stale.fill(7, 200000, 210000);
    const dev2 = new MemoryDevice(stale);
    const w2 = await reopenRawWriter(dev2, 300000);
    await w2.write(src.subarray(196608), 196608);
    const r = await openRaw(dev2);
    const back = new Uint8Array(300000);
    await r.read(back, 0);
    assert.ok(Buffer.from(back).equals(Buffer.from(src)));
    assert.deepEqual(await r.map(0, 300000), [{ offset: 0, length: 300000, kind: 'data' }]);
    await assert.rejects(r.read(new Uint8Array(10), 299995), { code: 'INVALID_ARGUMENT' });
  });
});
