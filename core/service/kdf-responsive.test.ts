/**
 * The service's event loop stays responsive while a keyslot derives its key (issue #12: key
 * derivation never runs on the Electron main thread or the `serve` event loop): other requests
 * are answered and timers fire throughout a second-long PBKDF2.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { calibratePbkdf2Iterations } from '../crypto/kdf-client.js';
import { scratchDir } from '../testing/peers.js';
import { createVaultService } from './vault-service.js';

const te = (s: string) => new TextEncoder().encode(s);

test('inspect answers and timers fire while a keyslot add derives its key', async (t) => {
  const { dir, cleanup } = await scratchDir();
  t.after(cleanup);
  const svc = createVaultService();
  const image = join(dir, 'a.luks');
  const other = join(dir, 'b.luks');
  for (const path of [image, other]) {
    await svc.create({
      path,
      format: 'luks',
      virtualSize: 1 << 20,
      passphrase: te('first'),
      encryption: { iterations: 1000 },
    });
  }
  // A slot whose PBKDF2 takes about 1.5 s of this machine's CPU: blocking the loop for that
  // long would make one timer gap take most of the add.
  const iterations = await calibratePbkdf2Iterations('sha256', 64, 1500);

  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 5);
  const t0 = performance.now();
  let done = false;
  const add = svc
    .keyslotAdd({ path: image, passphrase: te('first'), newPassphrase: te('second'), iterations })
    .finally(() => (done = true));
  let inspected = 0;
  try {
    while (!done) {
      const info = await svc.inspect(other);
      assert.equal(info.format, 'luks');
      inspected++;
    }
    assert.deepEqual(await add, { slot: 1 });
  } finally {
    clearInterval(timer);
  }
  const took = performance.now() - t0;
  assert.ok(inspected >= 3, `only ${inspected} inspect calls completed during the add`);
  assert.ok(
    maxGap < took / 2,
    `the event loop stalled for ${maxGap.toFixed(0)} ms of a ${took.toFixed(0)} ms keyslot add`
  );
  assert.equal((await svc.keyslotTest(image, te('second'))).slot, 1);
});
