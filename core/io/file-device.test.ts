import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileDevice } from './file-device.js';
import { alignedSharedBuffer, bulkBuffer, isDirectAligned } from './aligned-buffer.js';
import { patternBytes } from '../testing/bytes.js';
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
  const probe = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
  await probe.close();
  const original = proto.write;
  const sizes: number[] = [];
  proto.write = function (this: unknown, ...a: unknown[]) {
    sizes.push(a[2] as number);
    return original.apply(this, a);
  };
  const dev = await FileDevice.open(join(dir, 'out'), { createTruncate: true, direct: true });
  try {
    const aligned = bulkBuffer(4 * MiB, [dir]);
    if (!isDirectAligned(aligned)) return; // no O_DIRECT here: buffered writes stay in pieces
    aligned.fill(7);
    sizes.length = 0;
    await dev.write(aligned, 0);
    assert.deepEqual(sizes, [4 * MiB], 'one call: libuv threads stay free for reads');
    sizes.length = 0;
    await dev.write(patternBytes(4 * MiB, 1), 4 * MiB); // plain memory: bounced in pieces
    assert.equal(sizes.length, 4);
  } finally {
    proto.write = original;
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
