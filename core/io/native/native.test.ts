import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as KoffiModule from 'koffi';
import { scratchDir } from '../../testing/peers.js';
import { decodeFlock, encodeFlock, FLOCK_LAYOUTS, F_RDLCK, F_WRLCK } from './flock.js';
import { libc, setLibcForTests } from './libc.js';
import { ofdGetLock, ofdSetLock } from './ofd.js';
import { dataSeeker, nextData, nextHole } from './seek-data.js';
import { isVaultError } from '../../api/errors.js';

test('struct flock: our byte layout is the C layout koffi computes for this architecture', () => {
  const koffi = createRequire(import.meta.url)('koffi') as typeof KoffiModule;
  const flock = koffi.struct('flock_probe', {
    l_type: 'short',
    l_whence: 'short',
    l_start: 'int64_t',
    l_len: 'int64_t',
    l_pid: 'int',
  });
  const ours = FLOCK_LAYOUTS[process.arch];
  assert.ok(ours, `a layout for ${process.arch}`);
  assert.deepEqual(
    {
      size: koffi.sizeof(flock),
      type: koffi.offsetof(flock, 'l_type'),
      whence: koffi.offsetof(flock, 'l_whence'),
      start: koffi.offsetof(flock, 'l_start'),
      len: koffi.offsetof(flock, 'l_len'),
      pid: koffi.offsetof(flock, 'l_pid'),
    },
    ours
  );
});

test('struct flock: both supported layouts encode the fields where the kernel reads them', () => {
  for (const arch of ['x64', 'arm64']) {
    const layout = FLOCK_LAYOUTS[arch];
    assert.ok(layout);
    const buf = encodeFlock(layout, { type: F_WRLCK, start: 0x1_0000_0064, len: 2 });
    assert.equal(buf.length, 32);
    assert.deepEqual([...buf.subarray(0, 4)], [1, 0, 0, 0]); // l_type, l_whence = SEEK_SET
    assert.deepEqual([...buf.subarray(8, 16)], [0x64, 0, 0, 0, 1, 0, 0, 0]);
    assert.deepEqual([...buf.subarray(16, 24)], [2, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...buf.subarray(24, 32)], [0, 0, 0, 0, 0, 0, 0, 0]); // l_pid 0 on input
    assert.deepEqual(decodeFlock(layout, buf), {
      type: F_WRLCK,
      start: 0x1_0000_0064,
      len: 2,
      pid: 0,
    });
  }
});

test('OFD locks: two open files of one file in one process conflict; closing releases', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'img');
    await writeFile(p, 'x');
    const a = await open(p, 'r');
    const b = await open(p, 'r+');
    try {
      assert.equal(ofdSetLock(a.fd, F_RDLCK, 100, 2), 'locked');
      // The holder's own locks are never reported back to it.
      assert.equal(ofdGetLock(a.fd, F_WRLCK, 100, 1), undefined);
      const seen = ofdGetLock(b.fd, F_WRLCK, 101, 1);
      assert.deepEqual(seen, { type: F_RDLCK, start: 100, len: 2, pid: -1 });
      assert.equal(ofdGetLock(b.fd, F_WRLCK, 102, 1), undefined);
      assert.equal(ofdSetLock(b.fd, F_RDLCK, 100, 1), 'locked'); // readers share
      assert.equal(ofdSetLock(b.fd, F_WRLCK, 101, 1), 'conflict');
      await a.close();
      assert.equal(ofdGetLock(b.fd, F_WRLCK, 101, 1), undefined);
      assert.equal(ofdSetLock(b.fd, F_WRLCK, 101, 1), 'locked');
    } finally {
      await a.close().catch(() => undefined);
      await b.close();
    }
  } finally {
    await cleanup();
  }
});

test('SEEK_DATA / SEEK_HOLE find the data and holes of a sparse file', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const MiB = 1 << 20;
    const p = join(dir, 'sparse');
    const fh = await open(p, 'w+');
    try {
      await fh.write(new Uint8Array(MiB).fill(1), 0, MiB, 4 * MiB);
      await fh.truncate(16 * MiB);
      await fh.sync();
      const seeker = dataSeeker(fh.fd, 16 * MiB);
      // tmpfs, ext4, xfs, btrfs and overlayfs all report holes.
      assert.equal(seeker.holesReported, true);
      assert.equal(nextData(fh.fd, 0), 4 * MiB);
      assert.equal(nextHole(fh.fd, 4 * MiB), 5 * MiB);
      assert.equal(nextData(fh.fd, 5 * MiB), undefined); // ENXIO: only a hole follows
      assert.equal(nextHole(fh.fd, 16 * MiB), undefined); // ENXIO: at the end
      assert.equal(seeker.nextData(1234), 4 * MiB);
      assert.equal(seeker.nextHole(4 * MiB + 1), 5 * MiB);
      assert.equal(seeker.nextData(16 * MiB), undefined);
    } finally {
      await fh.close();
    }
  } finally {
    await cleanup();
  }
});

test('a file without holes gets the fallback: everything is data', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'full');
    await writeFile(p, new Uint8Array(64 * 1024).fill(7));
    const fh = await open(p, 'r');
    try {
      const seeker = dataSeeker(fh.fd, 64 * 1024);
      assert.equal(seeker.holesReported, false);
      assert.equal(seeker.nextData(100), 100);
      assert.equal(seeker.nextHole(100), 64 * 1024);
      assert.equal(seeker.nextData(64 * 1024), undefined);
    } finally {
      await fh.close();
    }
  } finally {
    await cleanup();
  }
});

test('a native route that failed to load fails every lock call with NATIVE_UNAVAILABLE; seeking falls back', async () => {
  const { dir, cleanup } = await scratchDir();
  const failed = (await import('../../api/errors.js')).fail('NATIVE_UNAVAILABLE', 'simulated');
  try {
    const p = join(dir, 'img');
    await writeFile(p, 'data');
    const fh = await open(p, 'r');
    setLibcForTests(failed);
    try {
      assert.throws(
        () => ofdSetLock(fh.fd, F_RDLCK, 100, 1),
        (e) => isVaultError(e, 'NATIVE_UNAVAILABLE')
      );
      assert.throws(
        () => ofdGetLock(fh.fd, F_WRLCK, 100, 1),
        (e) => isVaultError(e, 'NATIVE_UNAVAILABLE')
      );
      assert.throws(
        () => libc(),
        (e) => isVaultError(e, 'NATIVE_UNAVAILABLE')
      );
      const seeker = dataSeeker(fh.fd, 4);
      assert.equal(seeker.holesReported, false);
      assert.equal(seeker.nextData(1), 1);
    } finally {
      setLibcForTests(undefined);
      await fh.close();
    }
  } finally {
    await cleanup();
  }
});
