import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MemoryDevice } from '../../io/memory-device.js';
import { patternBytes } from '../../testing/bytes.js';
import { createRawLuks, openRawLuks } from './raw-luks.js';
class Kept extends MemoryDevice {
  override async close() {}
}
it('raw LUKS write and read through the worker pool (2 threads)', async () => {
  const dev = new Kept();
  const p = new TextEncoder().encode('x');
  const w = await createRawLuks(dev, 4 << 20, p, { iterations: 1000, threads: 2 });
  const d = patternBytes(3 << 20, 5);
  await w.write(d, 65536);
  await w.close();
  const img = await openRawLuks(dev, { passphrase: p, threads: 2 });
  const out = new Uint8Array(4 << 20);
  await img.read(out, 0);
  await img.close();
  assert.deepEqual(out.subarray(65536, 65536 + d.length), d);
  assert.ok(out.subarray(0, 65536).every((b) => b === 0));
});
