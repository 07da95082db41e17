/**
 * Streaming guest-data comparison of two images (what `qemu-img compare` does): every byte
 * that is data in either image is compared; ranges that are zero extents in both are skipped
 * without reading; bytes past the shorter image's end must be zero.
 */
import { fail } from '../api/errors.js';
import type { GuestReader } from '../formats/image.js';
import { dataRanges, MAP_WINDOW, rangeBytes, readRanges, unionRanges } from './extents.js';
import type { CopyContext } from './copy.js';
import { bulkBuffers } from '../io/aligned-buffer.js';

/** Chunks read ahead of the comparison (each a pair of buffers). */
const DEPTH = 4;

export interface VerifyOptions {
  /** Comparison window (default 4 MiB): 2 × DEPTH buffers of this size are the memory used. */
  chunkSize?: number;
}

export interface VerifyStats {
  /** Bytes that were data in either image and were compared. */
  bytesCompared: number;
}

/**
 * Resolves when `a` and `b` hold the same guest bytes.
 * @throws `VERIFY_FAILED` naming the first differing guest offset; `CANCELLED` when aborted.
 */
export async function verifyGuestEqual(
  a: GuestReader,
  b: GuestReader,
  ctx: CopyContext,
  opts: VerifyOptions = {}
): Promise<VerifyStats> {
  const chunk = Math.max(4096, opts.chunkSize ?? 4 * 1024 * 1024);
  const size = Math.max(a.virtualSize, b.virtualSize);
  const checkCancel = () => {
    if (ctx.signal.aborted) throw fail('CANCELLED', 'Cancelled');
  };

  let total = 0;
  for (let off = 0; off < size; off += MAP_WINDOW) {
    checkCancel();
    total += rangeBytes(await unionData(a, b, off, Math.min(MAP_WINDOW, size - off)));
  }
  ctx.progress?.setTotal(total);

  // DEPTH buffer pairs: the next chunks are read (and decrypted, in place in shared memory)
  // while the current one is compared; a result written with O_DIRECT is read back from the
  // disk, which serves a few reads in flight faster than one at a time.
  const bufs = bulkBuffers(2 * DEPTH, chunk);
  const pairs = Array.from({ length: DEPTH }, (_, i) => ({
    a: bufs[2 * i] as Uint8Array,
    b: bufs[2 * i + 1] as Uint8Array,
  }));
  let compared = 0;
  const load = async (off: number, slot: (typeof pairs)[number]) => {
    const len = Math.min(chunk, size - off);
    const [ra, rb] = await Promise.all([dataRanges(a, off, len), dataRanges(b, off, len)]);
    const union = unionRanges(ra, rb);
    if (union.length > 0)
      await Promise.all([readRanges(a, slot.a, off, len, ra), readRanges(b, slot.b, off, len, rb)]);
    return { off, union, slot };
  };
  const compare = ({ off, union, slot }: Awaited<ReturnType<typeof load>>) => {
    for (const r of union) {
      const s = r.start - off;
      const e = r.end - off;
      const at = firstDifference(slot.a.subarray(s, e), slot.b.subarray(s, e));
      if (at >= 0) {
        const where = r.start + at;
        throw fail(
          'VERIFY_FAILED',
          `Verification failed: guest data differs at offset ${where} (0x${where.toString(16)})`
        );
      }
      compared += e - s;
    }
    if (union.length > 0) ctx.progress?.advance(rangeBytes(union));
  };
  // Loads in flight, oldest first; a slot is reused only after its chunk was compared.
  const pending: ReturnType<typeof load>[] = [];
  let i = 0;
  try {
    for await (const off of dataChunks(a, b, size, chunk)) {
      checkCancel();
      if (pending.length === DEPTH) compare(await (pending.shift() as ReturnType<typeof load>));
      pending.push(load(off, pairs[i++ % DEPTH] as (typeof pairs)[number]));
    }
    while (pending.length > 0) compare(await (pending.shift() as ReturnType<typeof load>));
  } finally {
    // Never leave a read running into a buffer after returning.
    await Promise.all(pending.map((p) => p.catch(() => undefined)));
  }
  return { bytesCompared: compared };
}

/**
 * The offsets (multiples of `chunk`) of the chunks holding data in `a` or `b`, in order:
 * chunks where both map only zero extents are never visited, so a mostly empty disk costs
 * a map walk per window, not a step per chunk.
 */
async function* dataChunks(a: GuestReader, b: GuestReader, size: number, chunk: number) {
  let next = 0; // the first chunk offset not yet yielded
  for (let w = 0; w < size; w += MAP_WINDOW) {
    for (const r of await unionData(a, b, w, Math.min(MAP_WINDOW, size - w))) {
      for (let off = Math.max(next, r.start - (r.start % chunk)); off < r.end; off += chunk) {
        yield off;
        next = off + chunk;
      }
    }
  }
}

async function unionData(a: GuestReader, b: GuestReader, off: number, len: number) {
  const [ra, rb] = await Promise.all([dataRanges(a, off, len), dataRanges(b, off, len)]);
  return unionRanges(ra, rb);
}

/** Index of the first differing byte, or -1. Compares 64 KiB at a time with memcmp first. */
function firstDifference(x: Uint8Array, y: Uint8Array): number {
  const bx = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  const by = Buffer.from(y.buffer, y.byteOffset, y.byteLength);
  const step = 64 * 1024;
  for (let o = 0; o < bx.length; o += step) {
    const n = Math.min(step, bx.length - o);
    if (bx.compare(by, o, o + n, o, o + n) === 0) continue;
    for (let i = o; i < o + n; i++) if (bx[i] !== by[i]) return i;
  }
  return -1;
}
