import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail, isVaultError } from '../api/errors.js';
import { scratchDir } from '../testing/peers.js';
import { FileDevice } from './file-device.js';
import { heldBytes, MODE_PERMISSIONS, testedBytes } from './image-lock.js';
import { lockedBytes, procLockId } from './lock-holders.js';
import { setLibcForTests } from './native/libc.js';
import { claimOutput } from './output-claim.js';

const inUse = (e: unknown) => isVaultError(e, 'IMAGE_IN_USE');

test('each mode holds and tests the bytes QEMU would for its permissions', () => {
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
  // qemu-img reading a qcow2: consistent read, shares consistent read + write-unchanged.
  assert.deepEqual(sorted(heldBytes(MODE_PERMISSIONS.read)), [100, 201, 203]);
  assert.deepEqual(sorted(testedBytes(MODE_PERMISSIONS.read)), [101, 103, 200]);
  // qemu-img -U: consistent read, shares everything.
  assert.deepEqual(heldBytes(MODE_PERMISSIONS['read-shared']), [100]);
  assert.deepEqual(testedBytes(MODE_PERMISSIONS['read-shared']), [200]);
  // Our writers: read + write + resize, sharing only write-unchanged.
  assert.deepEqual(sorted(heldBytes(MODE_PERMISSIONS.write)), [100, 101, 103, 200, 201, 203]);
  assert.deepEqual(sorted(testedBytes(MODE_PERMISSIONS.write)), [100, 101, 103, 200, 201, 203]);
});

test('readers share; a writer and a reader of one file refuse each other, even in one process', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'img');
    await writeFile(p, 'image bytes');
    const r1 = await FileDevice.open(p);
    const r2 = await FileDevice.open(p);
    await assert.rejects(FileDevice.open(p, { write: true, waitMs: 0 }), (e) => {
      assert.ok(inUse(e));
      assert.match((e as Error).message, /in use: image-vault \(this process\) is using it/);
      return true;
    });
    await r1.close();
    await r2.close();
    const w = await FileDevice.open(p, { write: true, waitMs: 0 });
    await assert.rejects(FileDevice.open(p, { waitMs: 0 }), (e) => {
      assert.ok(inUse(e));
      assert.match((e as Error).message, /has it open for writing/);
      // Our writer does not share consistent reads: -U would not help, so it is not offered.
      assert.doesNotMatch((e as Error).message, /force-share/);
      return true;
    });
    await assert.rejects(FileDevice.open(p, { forceShare: true, waitMs: 0 }), inUse);
    assert.deepEqual(await w.imageUse(), undefined); // its own locks are not "others"
    await w.close();
    (await FileDevice.open(p, { waitMs: 0 })).close();
  } finally {
    await cleanup();
  }
});

test('/proc/locks shows the write lock as QEMU shows its own: READ locks on 100-101, 103, 200-201, 203', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'img');
    await writeFile(p, 'x');
    const w = await FileDevice.open(p, { write: true });
    try {
      const st = await import('node:fs/promises').then((m) => m.stat(p, { bigint: true }));
      const id = procLockId(st.dev, st.ino);
      const text = await readFile('/proc/locks', 'utf8');
      const ours = text.split('\n').filter((l) => l.includes(` ${id} `));
      assert.ok(
        ours.every((l) => /OFDLCK\s+ADVISORY\s+READ\s+-1/.test(l)),
        ours.join('\n')
      );
      assert.deepEqual([...lockedBytes(text, id)].sort(), [100, 101, 103, 200, 201, 203]);
      assert.ok(
        ours.some((l) => / 1001 1001$/.test(l)),
        'our marker byte'
      );
    } finally {
      await w.close();
    }
  } finally {
    await cleanup();
  }
});

test('creating over a held file leaves it whole; a held existing file is IMAGE_IN_USE, a free one EXISTS', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'img');
    await writeFile(p, 'precious');
    const holder = await FileDevice.open(p, { write: true });
    await assert.rejects(FileDevice.open(p, { createTruncate: true, waitMs: 0 }), inUse);
    await assert.rejects(FileDevice.open(p, { createExclusive: true, waitMs: 0 }), inUse);
    assert.equal(await readFile(p, 'utf8'), 'precious');
    await holder.close();
    await assert.rejects(FileDevice.open(p, { createExclusive: true }), (e) =>
      isVaultError(e, 'EXISTS')
    );
  } finally {
    await cleanup();
  }
});

test('an open waits for one of our own operations to let go (our marker byte says who holds it)', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'img');
    await writeFile(p, 'x');
    const holder = await FileDevice.open(p, { write: true });
    // No wait for others; the marker makes it wait for ours.
    const waiting = FileDevice.open(p, { write: true, waitMs: 0, ownWaitMs: 60_000 });
    setImmediate(() => void holder.close());
    const dev = await waiting;
    await dev.close();
  } finally {
    await cleanup();
  }
});

test('without the native route no image is opened: NATIVE_UNAVAILABLE, never an unlocked open', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'img');
    await writeFile(p, 'x');
    setLibcForTests(fail('NATIVE_UNAVAILABLE', 'simulated load failure'));
    try {
      for (const opts of [{}, { forceShare: true }, { write: true }, { createTruncate: true }]) {
        await assert.rejects(FileDevice.open(p, opts), (e) =>
          isVaultError(e, 'NATIVE_UNAVAILABLE')
        );
      }
      await assert.rejects(claimOutput(join(dir, 'out.partial')), (e) =>
        isVaultError(e, 'NATIVE_UNAVAILABLE')
      );
    } finally {
      setLibcForTests(undefined);
    }
    assert.equal(await readFile(p, 'utf8'), 'x');
  } finally {
    await cleanup();
  }
});

test('an output claim is exclusive until released, and beside the image locks of the same file', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'out.partial');
    const claim = await claimOutput(p);
    assert.equal(claim.created, true);
    await assert.rejects(claimOutput(p, { waitMs: 0 }), inUse);
    const dev = await FileDevice.open(p, { createTruncate: true, waitMs: 0 }); // QEMU's bytes: free
    await dev.close();
    await claim.release();
    const again = await claimOutput(p, { waitMs: 0 });
    assert.equal(again.created, false);
    await again.release();
  } finally {
    await cleanup();
  }
});

test('lock lines parse: /proc/locks and fdinfo formats, ranges and EOF', () => {
  assert.equal(procLockId(0xfe00n, 2154733n), 'fe:00:2154733');
  assert.equal(procLockId((259n << 8n) | 3n, 12n), '103:03:12');
  const text = [
    '1: OFDLCK ADVISORY  READ -1 fe:00:2154733 100 101',
    'lock:\t2: OFDLCK ADVISORY  READ -1 fe:00:2154733 203 203',
    '3: OFDLCK ADVISORY  READ -1 fe:00:999 100 101',
    '4: POSIX  ADVISORY  WRITE 42 fe:00:2154733 260 EOF',
  ].join('\n');
  assert.deepEqual(
    [...lockedBytes(text, 'fe:00:2154733')].sort(),
    [100, 101, 203, 260, 261, 262, 263]
  );
});
