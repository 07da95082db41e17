import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../api/errors.js';
import { setLibcForTests } from './native/libc.js';
import { FileDevice } from './file-device.js';
import { alignedSharedBuffer, bulkBuffer, isDirectAligned, zeroFill } from './aligned-buffer.js';
import { patternBytes } from '../testing/bytes.js';
import { handleCallSizes } from '../testing/file-calls.js';
import { scratchDir } from '../testing/peers.js';

const MiB = 1024 * 1024;

test('large reads in parallel pieces are exact, including a short read at EOF', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const data = patternBytes(5 * MiB + 1234, 3);
    const p = join(dir, 'f');
    await writeFile(p, data);
    const dev = await FileDevice.open(p);
    const buf = new Uint8Array(8 * MiB);
    assert.equal(await dev.read(buf, 0), data.length);
    assert.deepEqual(buf.subarray(0, data.length), data);
    const tail = new Uint8Array(4 * MiB);
    assert.equal(await dev.read(tail, 3 * MiB), data.length - 3 * MiB);
    assert.deepEqual(tail.subarray(0, data.length - 3 * MiB), data.subarray(3 * MiB));
    await dev.close();
  } finally {
    await cleanup();
  }
});

test('direct writes from aligned, unaligned and small buffers all land exactly', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const p = join(dir, 'out');
    const dev = await FileDevice.open(p, { createTruncate: true, direct: true });
    const aligned = bulkBuffer(4 * MiB, [dir]);
    aligned.set(patternBytes(4 * MiB, 1));
    const unaligned = patternBytes(3 * MiB, 2); // plain memory: goes through a bounce buffer
    const small = patternBytes(700, 3); // not a multiple of 4096: page cache
    await dev.write(aligned, 0);
    await dev.write(unaligned, 4 * MiB);
    await dev.write(small, 7 * MiB + 100);
    await dev.flush();
    await dev.close();
    const back = new Uint8Array(await readFile(p));
    assert.deepEqual(back.subarray(0, 4 * MiB), aligned);
    assert.deepEqual(back.subarray(4 * MiB, 7 * MiB), unaligned);
    assert.deepEqual(back.subarray(7 * MiB + 100, 7 * MiB + 800), small);
  } finally {
    await cleanup();
  }
});

test('an aligned direct write is one call; an unaligned one goes in pieces', async () => {
  const { dir, cleanup } = await scratchDir();
  const dev = await FileDevice.open(join(dir, 'out'), { createTruncate: true, direct: true });
  try {
    const aligned = bulkBuffer(4 * MiB, [dir]);
    if (!isDirectAligned(aligned)) return; // no O_DIRECT here: buffered writes stay in pieces
    aligned.fill(7);
    const whole = await handleCallSizes(dir, 'write', () => dev.write(aligned, 0));
    assert.deepEqual(whole, [4 * MiB], 'one call: libuv threads stay free for reads');
    // Plain memory: bounced in pieces.
    const bounced = await handleCallSizes(dir, 'write', () =>
      dev.write(patternBytes(4 * MiB, 1), 4 * MiB)
    );
    assert.equal(bounced.length, 4);
  } finally {
    await dev.close();
    await cleanup();
  }
});

test('direct reads are exact over holes, data and the end of the file, in one call', async () => {
  const { dir, cleanup } = await scratchDir();
  const p = join(dir, 'sparse');
  const size = 6 * MiB + 1000;
  const fh = await open(p, 'w');
  await fh.truncate(size);
  await fh.write(patternBytes(MiB, 5), 0, MiB, 2 * MiB);
  await fh.write(patternBytes(5096, 6), 0, 5096, size - 5096);
  await fh.close();
  const expected = new Uint8Array(await readFile(p));
  const dev = await FileDevice.open(p);
  try {
    const direct = await dev.useDirectReads();
    const buf = bulkBuffer(4 * MiB, [dir]);
    const calls = await handleCallSizes(dir, 'read', async () => {
      assert.equal(await dev.read(buf, 0), 4 * MiB);
    });
    assert.deepEqual(buf, expected.subarray(0, 4 * MiB));
    // Aligned memory means this filesystem takes O_DIRECT: then the read is one direct call.
    if (isDirectAligned(buf)) {
      assert.equal(direct, true);
      assert.deepEqual(calls, [4 * MiB]);
    }
    // Across the end of the file: a short count, with the unaligned tail included.
    assert.equal(await dev.read(buf, 4 * MiB), size - 4 * MiB);
    assert.deepEqual(buf.subarray(0, size - 4 * MiB), expected.subarray(4 * MiB));
    // Unaligned position and plain memory: through the page cache.
    const small = new Uint8Array(5000);
    assert.equal(await dev.read(small, 3 * MiB - 100), 5000);
    assert.deepEqual(small, expected.subarray(3 * MiB - 100, 3 * MiB + 4900));
  } finally {
    await dev.close();
    await cleanup();
  }
});

test('asking for direct reads twice at once opens one handle, and close closes it', async () => {
  const { dir, cleanup } = await scratchDir();
  const p = join(dir, 'src');
  await writeFile(p, patternBytes(MiB, 1));
  const openFds = async () => (await readdir('/proc/self/fd')).length;
  try {
    const before = await openFds();
    const dev = await FileDevice.open(p);
    const answers = await Promise.all([dev.useDirectReads(), dev.useDirectReads()]);
    assert.equal(answers[0], answers[1]);
    assert.equal(await openFds(), before + (answers[0] ? 2 : 1));
    await dev.close();
    assert.equal(await openFds(), before);
  } finally {
    await cleanup();
  }
});

test('direct reads stay off when the path no longer names the open file', async (t) => {
  const { dir, cleanup } = await scratchDir();
  if (!isDirectAligned(bulkBuffer(4096, [dir]))) {
    await cleanup();
    t.skip('this filesystem has no O_DIRECT, so the check is not reached');
    return;
  }
  const p = join(dir, 'src');
  await writeFile(p, patternBytes(MiB, 1));
  const dev = await FileDevice.open(p);
  try {
    await writeFile(join(dir, 'other'), patternBytes(MiB, 2));
    await rename(join(dir, 'other'), p);
    assert.equal(await dev.useDirectReads(), false);
    assert.equal(await dev.useDirectReads(), false, 'asked again: the same answer');
    const buf = bulkBuffer(MiB, [dir]);
    assert.equal(await dev.read(buf, 0), MiB);
    assert.deepEqual(buf, patternBytes(MiB, 1), 'still the file opened first');
  } finally {
    await dev.close();
    await cleanup();
  }
});

test('aligned buffers are recognised; other views are not', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const b = alignedSharedBuffer(64 * 1024, dir);
    if (!b) return; // this filesystem has no O_DIRECT: nothing to align for
    assert.equal(isDirectAligned(b), true);
    assert.equal(isDirectAligned(b.subarray(4096)), true);
    assert.equal(isDirectAligned(b.subarray(512)), false);
    assert.equal(isDirectAligned(new Uint8Array(8192)), false);
  } finally {
    await cleanup();
  }
});

test('aligned buffers come from the native route without touching the disk, else a probe', async () => {
  const { dir, cleanup } = await scratchDir();
  const direct = async (buf: Uint8Array) => {
    const fh = await open(
      join(dir, 'direct'),
      constants.O_RDWR | constants.O_CREAT | constants.O_DIRECT
    );
    try {
      await fh.write(buf, 0, 4096, 0);
    } finally {
      await fh.close();
    }
  };
  try {
    // A directory that does not exist: the probe could not run there.
    const b = alignedSharedBuffer(8192, join(dir, 'missing'));
    assert.ok(b, 'the native route knows the address');
    assert.equal(isDirectAligned(b), true);
    if (!isDirectAligned(bulkBuffer(4096, [dir]))) return; // no O_DIRECT here to check with
    await direct(b); // EINVAL if the address were not aligned
    setLibcForTests(fail('NATIVE_UNAVAILABLE', 'simulated: no koffi'));
    try {
      assert.equal(alignedSharedBuffer(8192, join(dir, 'missing')), undefined);
      const probed = alignedSharedBuffer(8192, dir);
      assert.ok(probed && isDirectAligned(probed));
      await direct(probed);
    } finally {
      setLibcForTests(undefined);
    }
  } finally {
    await cleanup();
  }
});

test('zeroFill clears exactly its range of shared memory', () => {
  const buf = new Uint8Array(new SharedArrayBuffer(MiB)).fill(7);
  zeroFill(buf, 100, 900_000);
  assert.equal(buf[99], 7);
  assert.ok(buf.subarray(100, 900_000).every((b) => b === 0));
  assert.equal(buf[900_000], 7);
  zeroFill(buf.subarray(0, 10)); // short: the plain fill
  assert.ok(buf.subarray(0, 10).every((b) => b === 0));
  assert.equal(buf[10], 7);
});
