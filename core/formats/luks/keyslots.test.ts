import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVaultError } from '../../api/errors.js';
import { MemoryDevice } from '../../io/memory-device.js';
import { hex } from '../../testing/bytes.js';
import { headerIOForDevice } from './header-io.js';
import { inspectLuks } from './inspect.js';
import {
  addKeyslot,
  changePassphrase,
  removeKeyslots,
  testPassphrase,
  unlockLuks,
} from './keyslots.js';
import { formatLuks1, luksHeaderLength } from './luks1-format.js';

const enc = (s: string) => new TextEncoder().encode(s);
const A = enc('alpha');
const B = enc('bravo');
const C = enc('charlie');

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => isVaultError(e) && e.code === code);
}

async function fresh(
  cipher = 'aes-256-xts-plain64',
  hash = 'sha256',
  layout: 'qemu' | 'cryptsetup' = 'qemu'
) {
  const len = luksHeaderLength({ cipher, hash, layout });
  const dev = new MemoryDevice();
  const io = headerIOForDevice(dev, len);
  const u = await formatLuks1(io, A, { cipher, hash, iterations: 1000, layout });
  const mk = u.masterKey.slice();
  u.dispose();
  return { dev, io, mk, len };
}

describe('LUKS1 geometry', () => {
  it('header lengths match QEMU and cryptsetup', () => {
    assert.equal(luksHeaderLength({ layout: 'qemu' }), 2068480);
    assert.equal(luksHeaderLength({ cipher: 'aes-128-xts-plain64', layout: 'qemu' }), 1052672);
    assert.equal(luksHeaderLength({ cipher: 'aes-128-cbc-plain64', layout: 'qemu' }), 528384);
    assert.equal(luksHeaderLength({ layout: 'cryptsetup' }), 2 * 1024 * 1024);
    assert.equal(
      luksHeaderLength({ cipher: 'aes-128-cbc-essiv:sha256', layout: 'cryptsetup' }),
      1 << 20
    );
  });
});

describe('LUKS1 format and keyslots on a MemoryDevice', () => {
  it('formats with QEMU defaults and unlocks', async () => {
    const { io, mk } = await fresh();
    const info = await inspectLuks(io);
    assert.equal(info.payloadOffset, 4040 * 512);
    assert.equal(info.keyBytes, 64);
    assert.equal(info.masterKeyIters, 1000);
    assert.deepEqual(
      info.slots.map((s) => s.active),
      [true, false, false, false, false, false, false, false]
    );
    assert.equal(info.slots[0]!.iterations, 1000);
    const u = await unlockLuks(io, A);
    assert.equal(hex(u.masterKey), hex(mk));
    assert.equal(u.payloadOffset, 4040 * 512);
    u.dispose();
    await rejects(unlockLuks(io, B), 'WRONG_PASSPHRASE');
  });

  for (const [cipher, hash] of [
    ['aes-128-cbc-essiv:sha256', 'sha1'],
    ['aes-256-cbc-plain', 'sha512'],
    ['aes-128-xts-plain', 'sha256'],
    ['aes-256-cbc-plain64be', 'sha256'],
  ] as const) {
    it(`round trip ${cipher} / ${hash}`, async () => {
      const { io, mk } = await fresh(cipher, hash, 'cryptsetup');
      const u = await unlockLuks(io, A);
      assert.equal(hex(u.masterKey), hex(mk));
      assert.equal((await inspectLuks(io)).hashAlg, hash);
      u.dispose();
    });
  }

  it('add, test, change, remove round trip', async () => {
    const { io, mk } = await fresh();
    assert.equal(await addKeyslot(io, A, B, { iterations: 1000 }), 1);
    assert.equal(await testPassphrase(io, B), 1);
    assert.equal(await testPassphrase(io, A), 0);
    await rejects(addKeyslot(io, C, C, { iterations: 1000 }), 'WRONG_PASSPHRASE');
    await rejects(addKeyslot(io, A, C, { slot: 1, iterations: 1000 }), 'KEYSLOT_ACTIVE');
    assert.equal(await addKeyslot(io, B, C, { slot: 5, iterations: 1000 }), 5);

    const changed = await changePassphrase(io, C, enc('delta'), { iterations: 1000 });
    assert.deepEqual(changed, { slot: 2, removed: [5] });
    await rejects(testPassphrase(io, C), 'WRONG_PASSPHRASE');
    assert.equal(await testPassphrase(io, enc('delta')), 2);

    assert.deepEqual(await removeKeyslots(io, { slot: 0 }), [0]);
    await rejects(testPassphrase(io, A), 'WRONG_PASSPHRASE');
    await rejects(removeKeyslots(io, { slot: 0 }), 'KEYSLOT_INACTIVE');
    assert.deepEqual(await removeKeyslots(io, { passphrase: B }), [1]);
    const u = await unlockLuks(io, enc('delta'));
    assert.equal(hex(u.masterKey), hex(mk));
    u.dispose();
  });

  it('disabled slots are written as cryptsetup/QEMU do and their key area is wiped', async () => {
    const { io, dev } = await fresh();
    await addKeyslot(io, A, B, { iterations: 1000 });
    const before = dev.bytes().slice(512 * 512, 512 * 512 + 32000);
    await removeKeyslots(io, { slot: 1 });
    const bytes = dev.bytes();
    assert.equal(
      hex(bytes.subarray(208 + 48, 208 + 96)),
      '0000dead00000000' + '00'.repeat(32) + '00000200' + '00000fa0'
    );
    const after = bytes.slice(512 * 512, 512 * 512 + 32000);
    assert.notEqual(hex(after), hex(before));
    assert.ok(after.some((b) => b !== 0));
  });

  it('revoking a slot by number takes a remaining passphrase as proof (luksKillSlot)', async () => {
    const { io } = await fresh();
    await addKeyslot(io, A, B, { iterations: 1000 });
    // B opens slot 1 only: it does not prove anything about the slots that remain.
    await rejects(removeKeyslots(io, { slot: 1, passphrase: B }), 'WRONG_PASSPHRASE');
    await rejects(removeKeyslots(io, { slot: 1, passphrase: C }), 'WRONG_PASSPHRASE');
    assert.deepEqual(await removeKeyslots(io, { slot: 1, passphrase: A }), [1]);
    // The last slot: its own passphrase is the proof, and the removal still needs forceLast.
    await rejects(removeKeyslots(io, { slot: 0, passphrase: A }), 'LAST_KEYSLOT');
    assert.deepEqual(await removeKeyslots(io, { slot: 0, passphrase: A, forceLast: true }), [0]);
  });

  it('refuses to remove the last keyslot unless forced', async () => {
    const { io } = await fresh();
    await rejects(removeKeyslots(io, { slot: 0 }), 'LAST_KEYSLOT');
    await rejects(removeKeyslots(io, { passphrase: A }), 'LAST_KEYSLOT');
    await addKeyslot(io, A, A, { iterations: 1000 });
    // The passphrase opens every active slot: QEMU refuses.
    await rejects(removeKeyslots(io, { passphrase: A }), 'LAST_KEYSLOT');
    assert.deepEqual(await removeKeyslots(io, { passphrase: A, forceLast: true }), [0, 1]);
    await rejects(testPassphrase(io, A), 'WRONG_PASSPHRASE');
  });

  it('NO_FREE_KEYSLOT when all 8 are used; bad slot numbers refused', async () => {
    const { io } = await fresh('aes-128-cbc-plain64');
    for (let i = 1; i < 8; i++)
      assert.equal(await addKeyslot(io, A, enc(`p${i}`), { iterations: 1000 }), i);
    await rejects(addKeyslot(io, A, B, { iterations: 1000 }), 'NO_FREE_KEYSLOT');
    await rejects(changePassphrase(io, A, B, { iterations: 1000 }), 'NO_FREE_KEYSLOT');
    await rejects(removeKeyslots(io, { slot: 8 }), 'INVALID_ARGUMENT');
    await rejects(removeKeyslots(io, {}), 'INVALID_ARGUMENT');
    await rejects(removeKeyslots(io, { slot: 3, passphrase: C }), 'WRONG_PASSPHRASE');
    assert.equal(await testPassphrase(io, enc('p7')), 7);
  });

  it('unlock restricted to a slot', async () => {
    const { io } = await fresh();
    await addKeyslot(io, A, B, { iterations: 1000 });
    await rejects(unlockLuks(io, A, { slot: 1 }), 'WRONG_PASSPHRASE');
    await rejects(unlockLuks(io, A, { slot: 4 }), 'KEYSLOT_INACTIVE');
    const u = await unlockLuks(io, B, { slot: 1 });
    assert.equal(u.slot, 1);
    u.dispose();
  });

  it('refuses a region that is too small', async () => {
    const io = headerIOForDevice(new MemoryDevice(), 100_000);
    await rejects(formatLuks1(io, A, { iterations: 1000, layout: 'qemu' }), 'INVALID_ARGUMENT');
  });
});
