import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patternBytes } from '../testing/bytes.js';
import { verifyGuestEqual } from './verify.js';
import { MemoryImage } from './test-fakes.js';

const MiB = 1024 * 1024;
const signal = new AbortController().signal;

function pair() {
  const a = new MemoryImage(8 * MiB);
  a.put(MiB, patternBytes(3 * MiB, 21));
  a.markAllocated(6 * MiB, MiB); // allocated zeros
  const b = new MemoryImage(8 * MiB);
  b.put(MiB, patternBytes(3 * MiB, 21)); // same data, the zeros left unallocated
  return { a, b };
}

test('equal images verify; zero extents in both are never read', async () => {
  const { a, b } = pair();
  const ra = a.reader();
  const rb = b.reader();
  const stats = await verifyGuestEqual(ra, rb, { signal });
  assert.equal(stats.bytesCompared, 4 * MiB);
  assert.ok(rb.stats.reads.every((r) => r.offset >= MiB && r.offset + r.length <= 4 * MiB));
  assert.ok(ra.stats.reads.every((r) => r.offset < 7 * MiB && r.offset >= MiB));
});

test('a single flipped byte is detected at its offset', async () => {
  const { a, b } = pair();
  const at = 2 * MiB + 12345;
  b.data[at] = (b.data[at] ?? 0) ^ 0x01;
  await assert.rejects(verifyGuestEqual(a.reader(), b.reader(), { signal }), {
    code: 'VERIFY_FAILED',
    message: new RegExp(`offset ${at} `),
  });
  // Non-zero data where the other image has a zero extent is a difference too.
  const { a: a2, b: b2 } = pair();
  b2.put(6 * MiB + 4096, new Uint8Array([0, 0, 7]));
  await assert.rejects(verifyGuestEqual(a2.reader(), b2.reader(), { signal }), {
    message: new RegExp(`offset ${6 * MiB + 4098} `),
  });
});

test('a larger image must be zero past the end of the smaller one', async () => {
  const { a } = pair();
  const big = new MemoryImage(9 * MiB);
  big.put(MiB, patternBytes(3 * MiB, 21));
  await verifyGuestEqual(a.reader(), big.reader(), { signal });
  big.put(8 * MiB + 10, new Uint8Array([1]));
  await assert.rejects(verifyGuestEqual(a.reader(), big.reader(), { signal }), {
    code: 'VERIFY_FAILED',
  });
});
