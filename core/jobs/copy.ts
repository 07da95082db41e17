/**
 * The copy loop of convert/migrate: guest bytes from a `GuestReader` to a `GuestWriter`
 * (core/formats/image.ts), sparse-aware and with a small bounded read/write pipeline.
 *
 * - zero extents are never read; units that are all zeros after reading are never written
 *   (the fresh target reads them as zeros), keeping the output sparse;
 * - reading chunk k+1 overlaps writing chunk k; at most `maxInFlight` chunk buffers exist,
 *   so peak memory is a few MiB whatever the image size;
 * - writes complete in guest order, so a checkpoint at offset X (after `dst.flush()`)
 *   means everything below X is durably in the output — the resume journal's promise.
 */
import { fail } from '../api/errors.js';
import type { GuestReader, GuestWriter } from '../formats/image.js';
import { countDataBytes, dataRanges, isAllZero, rangeBytes, readRanges } from './extents.js';
import type { ProgressReporter } from './progress.js';
import { bulkBuffers } from '../io/aligned-buffer.js';

/** What the copy loop needs from a job. */
export interface CopyContext {
  signal: AbortSignal;
  progress?: ProgressReporter;
}

export interface CopyOptions {
  /** Chunk size; rounded up to a multiple of the write unit (default 1 MiB). */
  chunkSize?: number;
  /** Chunk buffers alive at once: being read, decrypted, queued or written (default 6). */
  maxInFlight?: number;
  /** Resume: guest offset below which everything is already in `dst` (chunk aligned). */
  startOffset?: number;
  /** Checkpoint spacing in guest data bytes copied (default 256 MiB); holes do not count. */
  checkpointEvery?: number;
  /**
   * Least time between checkpoints, in ms (default 2000). Each one drains the pipeline and
   * syncs the output, and a fast disk copies 256 MiB in a quarter of a second: bytes alone
   * would cost such a copy a pause every quarter second for little work saved on resume.
   */
  checkpointInterval?: number;
  /** Called after `dst.flush()` with the offset below which all data is durable. */
  onCheckpoint?: (guestOffset: number) => Promise<void>;
}

export interface CopyStats {
  /** Guest bytes of data extents (the progress total). */
  dataBytes: number;
  /** Bytes read from the source in this run. */
  bytesRead: number;
  /** Bytes written to the target in this run. */
  bytesWritten: number;
  /** The chunk size actually used (journals record it). */
  chunkSize: number;
}

const MiB = 1024 * 1024;
/** Default chunk: big enough to split across the crypto workers and amortise I/O calls. */
const DEFAULT_CHUNK = 4 * MiB;

/** The chunk size used for `dst`: `requested` rounded up to a multiple of its granularity. */
export function copyChunkSize(dst: GuestWriter, requested = DEFAULT_CHUNK): number {
  const g = Math.max(1, dst.granularity);
  return Math.max(g, Math.ceil(requested / g) * g);
}

/**
 * Copies every guest byte of `src` that may be non-zero into `dst`, which must be at least as
 * large and freshly created (reading as zeros) or resumed at `opts.startOffset`.
 *
 * Checks `ctx.signal` between chunks and reports progress in guest data bytes.
 * @throws `INVALID_ARGUMENT` when `dst` is smaller than `src` or `startOffset` is unaligned;
 *   `CANCELLED` when aborted; whatever the reader or writer throws.
 */
export async function copyGuestData(
  src: GuestReader,
  dst: GuestWriter,
  ctx: CopyContext,
  opts: CopyOptions = {}
): Promise<CopyStats> {
  if (dst.virtualSize < src.virtualSize) {
    throw fail(
      'INVALID_ARGUMENT',
      `The target (${dst.virtualSize} bytes) is smaller than the source (${src.virtualSize} bytes)`
    );
  }
  const chunkSize = copyChunkSize(dst, opts.chunkSize);
  const start = opts.startOffset ?? 0;
  if (start % chunkSize !== 0 || start < 0) {
    throw fail('INVALID_ARGUMENT', `Resume offset ${start} is not a multiple of ${chunkSize}`);
  }
  const unit = writeUnit(dst, chunkSize);
  const maxInFlight = Math.max(2, opts.maxInFlight ?? 6);
  const checkpointEvery = Math.max(chunkSize, opts.checkpointEvery ?? 256 * MiB);
  const size = src.virtualSize;
  const stats: CopyStats = { dataBytes: 0, bytesRead: 0, bytesWritten: 0, chunkSize };

  const checkCancel = () => {
    if (ctx.signal.aborted) throw fail('CANCELLED', 'Cancelled');
  };
  checkCancel();
  const total = await countDataBytes(src);
  stats.dataBytes = total;
  const doneBefore = start > 0 ? total - (await countDataBytes(src, start)) : 0;
  if (ctx.progress?.snapshot().phase === 'counting') ctx.progress.setPhase('copying', total);
  else ctx.progress?.setTotal(total);
  ctx.progress?.skipTo(doneBefore);

  // Shared, aligned memory: crypto workers work on it in place and O_DIRECT writes go out
  // from it without copies. Allocated at first data, so an empty image costs nothing.
  let free: Uint8Array[] | undefined;
  const inFlight: Promise<void>[] = [];
  /** The last `concurrency` writes; a new write starts once the oldest of them is done. */
  const concurrency = Math.max(1, Math.min(dst.concurrentWrites ?? 1, maxInFlight - 1));
  const recentWrites: Promise<void>[] = [];
  /** Guest data bytes copied since the last checkpoint (holes cost no work to redo). */
  let sinceCheckpoint = 0;
  const checkpointInterval = opts.checkpointInterval ?? 2000;
  let lastCheckpoint = performance.now();

  const writeChunk = async (buf: Uint8Array, offset: number, len: number, data: number) => {
    for (let u = 0; u < len;) {
      // Find the next run of non-zero units and write it in one call.
      while (u < len && isAllZero(buf.subarray(u, Math.min(u + unit, len)))) u += unit;
      let e = u;
      while (e < len && !isAllZero(buf.subarray(e, Math.min(e + unit, len)))) e += unit;
      e = Math.min(e, len);
      if (e > u) {
        await dst.write(buf.subarray(u, e), offset + u);
        stats.bytesWritten += e - u;
      }
      u = e;
    }
    ctx.progress?.advance(data);
  };

  try {
    for (let off = start; off < size; off += chunkSize) {
      checkCancel();
      const len = Math.min(chunkSize, size - off);
      const ranges = await dataRanges(src, off, len);
      if (ranges.length === 0) continue; // all zero extents: nothing to read or write
      while (inFlight.length >= maxInFlight - 1) await inFlight.shift();
      free ??= bulkBuffers(maxInFlight, chunkSize);
      const chunk = free.pop();
      if (!chunk) throw fail('INTERNAL', 'Copy buffers exhausted');
      const pool = free;
      // Reads of several chunks run at once (decryption keeps every worker busy); writes
      // stay in order, each after its own read.
      const read = readRanges(src, chunk, off, len, ranges).then((data) => {
        stats.bytesRead += data;
        return data;
      });
      const gate = recentWrites.length >= concurrency ? recentWrites.shift() : undefined;
      // allSettled: even when an earlier write failed, this chunk's read finishes before the
      // error surfaces (the caller may close the source next).
      const w = Promise.allSettled([read, gate]).then(([r, g]) => {
        if (r.status === 'rejected') throw r.reason;
        if (g.status === 'rejected') throw g.reason;
        checkCancel();
        return writeChunk(chunk, off, len, r.value);
      });
      w.then(
        () => pool.push(chunk),
        () => undefined
      );
      recentWrites.push(w);
      inFlight.push(w);

      const end = off + len;
      sinceCheckpoint += rangeBytes(ranges);
      if (
        opts.onCheckpoint &&
        sinceCheckpoint >= checkpointEvery &&
        end < size &&
        performance.now() - lastCheckpoint >= checkpointInterval
      ) {
        await drain(inFlight);
        await dst.flush();
        await opts.onCheckpoint(end);
        sinceCheckpoint = 0;
        lastCheckpoint = performance.now();
      }
    }
    await drain(inFlight);
  } catch (e) {
    // Never return while writes still run: the caller may delete the output next.
    await Promise.allSettled(inFlight);
    throw e;
  }
  ctx.progress?.set(total);
  return stats;
}

async function drain(inFlight: Promise<void>[]): Promise<void> {
  while (inFlight.length > 0) await inFlight.shift();
}

/** Zero-skipping unit: the writer's granularity, at least 64 KiB, dividing the chunk size. */
function writeUnit(dst: GuestWriter, chunkSize: number): number {
  const g = Math.max(1, dst.granularity);
  let unit = g;
  while (unit < 64 * 1024 && chunkSize % (unit * 2) === 0) unit *= 2;
  return unit;
}
