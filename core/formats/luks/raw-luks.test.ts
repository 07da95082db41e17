import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVaultError } from '../../api/errors.js';
import { MemoryDevice } from '../../io/memory-device.js';
import { patternBytes } from '../../testing/bytes.js';
import { createRawLuks, openRawLuks } from './raw-luks.js';

const PASS = new TextEncoder().encode('raw pass');

class KeptDevice extends MemoryDevice {
  override async close(): Promise<void> {}
}

describe('raw LUKS1 on a MemoryDevice', () => {
  it('writes with gaps, reads back, gaps decrypt to zeros', async () => {
    const dev = new KeptDevice();
    const size = 3 * 1024 * 1024;
    const w = await createRawLuks(dev, size, PASS, { iterations: 1000, threads: 0 });
    const a = patternBytes(65536, 7);
    const b = patternBytes(4096, 9);
    await w.write(a, 0);
    await w.write(b, 2 * 1024 * 1024 + 512);
    await assert.rejects(w.write(new Uint8Array(100), 0), (e) =>
      isVaultError(e, 'INVALID_ARGUMENT')
    );
    await w.close();
    assert.equal(await dev.size(), 2 * 1024 * 1024 + size);
    // Payload bytes are never plaintext zeros (gaps were encrypted).
    const raw = dev.bytes();
    assert.ok(raw.subarray(2 * 1024 * 1024 + 65536, 2 * 1024 * 1024 + 66048).some((x) => x !== 0));

    const img = await openRawLuks(dev, { threads: 0 });
    assert.equal(img.locked, true);
    assert.equal(img.virtualSize, size);
    await assert.rejects(img.read(new Uint8Array(512), 0), (e) =>
      isVaultError(e, 'NEEDS_PASSPHRASE')
    );
    await assert.rejects(img.unlock(new TextEncoder().encode('no')), (e) =>
      isVaultError(e, 'WRONG_PASSPHRASE')
    );
    assert.equal(await img.unlock(PASS), 0);
    const all = new Uint8Array(size);
    await img.read(all, 0);
    assert.deepEqual(all.subarray(0, 65536), a);
    assert.deepEqual(all.subarray(2 * 1024 * 1024 + 512, 2 * 1024 * 1024 + 4608), b);
    assert.ok(all.subarray(65536, 2 * 1024 * 1024 + 512).every((x) => x === 0));
    assert.ok(all.subarray(2 * 1024 * 1024 + 4608).every((x) => x === 0));
    // Unaligned read inside a sector.
    const part = new Uint8Array(10);
    await img.read(part, 100);
    assert.deepEqual(part, a.subarray(100, 110));
    assert.deepEqual(await img.map(0, size), [{ offset: 0, length: size, kind: 'data' }]);
    assert.equal(img.info.payloadOffset, 2 * 1024 * 1024);
    await img.close();
  });
});
