import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patternBytes } from '../testing/bytes.js';
import { copyGuestData } from './copy.js';
import { ProgressReporter } from './progress.js';
import { MemoryImage, newStats } from './test-fakes.js';

const MiB = 1024 * 1024;
const K64 = 65536;

/** 16 MiB source: data at 1 MiB (200 KiB), allocated zeros at 4 MiB, data at 15.5 MiB. */
function sampleSource(): MemoryImage {
  const src = new MemoryImage(16 * MiB);
  src.put(1 * MiB, patternBytes(200 * 1024, 7));
  src.markAllocated(4 * MiB, 2 * MiB); // allocated but all zero
  src.put(15 * MiB + 512 * 1024, patternBytes(K64, 9));
  return src;
}

function overlaps(a: { offset: number; length: number }, s: number, e: number) {
  return a.offset < e && a.offset + a.length > s;
}

test('sparse copy: zero extents never read, zero chunks never written, bytes identical', async () => {
  const src = sampleSource();
  const dst = new MemoryImage(16 * MiB);
  const reader = src.reader();
  const writer = dst.writer();
  const ac = new AbortController();
  const progress = new ProgressReporter();
  progress.setPhase('copying');
  const stats = await copyGuestData(reader, writer, { signal: ac.signal, progress });

  assert.deepEqual(dst.data, src.data);
  // Reads touch only allocated clusters.
  for (const r of reader.stats.reads) {
    for (let o = r.offset; o < r.offset + r.length; o += K64) {
      assert.equal(src.allocated[Math.floor(o / K64)], true, `read of a zero extent at ${o}`);
    }
  }
  assert.equal(stats.bytesRead, 256 * 1024 + 2 * MiB + K64);
  // Nothing written in the all-zero allocated range, nor where the source is unallocated.
  assert.ok(!writer.stats.writes.some((w) => overlaps(w, 4 * MiB, 6 * MiB)));
  assert.equal(stats.bytesWritten, 256 * 1024 + K64);
  assert.equal(dst.allocated.filter(Boolean).length, 5);
  // Progress counts guest data bytes.
  assert.equal(stats.dataBytes, 256 * 1024 + 2 * MiB + K64);
  assert.equal(progress.snapshot().bytesTotal, stats.dataBytes);
  assert.equal(progress.snapshot().bytesDone, stats.dataBytes);
});

test('the pipeline overlaps reads with writes and keeps at most maxInFlight buffers', async () => {
  const src = new MemoryImage(24 * MiB);
  src.put(0, patternBytes(24 * MiB, 3));
  const dst = new MemoryImage(24 * MiB);
  const shared = newStats();
  const reader = src.reader({ stats: shared, readDelayMs: 1 });
  const writer = dst.writer({ stats: shared, writeDelayMs: 2 });
  let maxOutstanding = 0;
  const origRead = reader.read.bind(reader);
  const origWrite = writer.write.bind(writer);
  let readChunks = 0;
  let writtenChunks = 0;
  reader.read = async (buf, off) => {
    readChunks++;
    maxOutstanding = Math.max(maxOutstanding, readChunks - writtenChunks);
    await origRead(buf, off);
  };
  writer.write = async (buf, off) => {
    await origWrite(buf, off);
    writtenChunks++;
  };
  await copyGuestData(
    reader,
    writer,
    { signal: new AbortController().signal },
    { maxInFlight: 3, chunkSize: MiB }
  );
  assert.deepEqual(dst.data, src.data);
  assert.equal(readChunks, 24);
  assert.ok(maxOutstanding <= 3, `outstanding chunks: ${maxOutstanding}`);
  assert.ok(shared.readBuffers.size <= 3, `buffers: ${shared.readBuffers.size}`);
  assert.equal(shared.maxActiveWrites, 1, 'writes are sequential');
  assert.ok(shared.readsDuringWrite > 0, 'reads overlap writes');
});

test('checkpoints flush the writer first and report chunk-aligned offsets', async () => {
  const src = new MemoryImage(10 * MiB);
  src.put(0, patternBytes(10 * MiB, 5));
  const dst = new MemoryImage(10 * MiB);
  const writer = dst.writer();
  const checkpoints: Array<{ at: number; flushes: number; written: number }> = [];
  await copyGuestData(
    src.reader(),
    writer,
    { signal: new AbortController().signal },
    {
      chunkSize: MiB,
      checkpointEvery: 3 * MiB,
      checkpointInterval: 0,
      onCheckpoint: async (at) => {
        const written = writer.stats.writes.reduce((n, w) => n + w.length, 0);
        checkpoints.push({ at, flushes: writer.stats.flushes, written });
      },
    }
  );
  assert.deepEqual(
    checkpoints.map((c) => c.at),
    [3 * MiB, 6 * MiB, 9 * MiB]
  );
  for (const [i, c] of checkpoints.entries()) {
    assert.equal(c.flushes, i + 1);
    assert.equal(c.written, c.at, 'everything below the checkpoint is written');
  }
});

test('checkpoints wait for their interval as well as their byte spacing', async () => {
  const src = new MemoryImage(10 * MiB);
  src.put(0, patternBytes(10 * MiB, 6));
  const at: number[] = [];
  const copy = (checkpointInterval: number) =>
    copyGuestData(
      src.reader(),
      new MemoryImage(10 * MiB).writer(),
      { signal: new AbortController().signal },
      {
        chunkSize: MiB,
        checkpointEvery: MiB,
        checkpointInterval,
        onCheckpoint: async (offset) => void at.push(offset),
      }
    );
  await copy(60_000); // far longer than this copy takes
  assert.deepEqual(at, [], 'no checkpoint before the interval has passed');
  await copy(0);
  assert.equal(at.length, 9, 'every MiB but the last once the interval is 0');
});

test('resume from an offset copies only the rest; cancel stops between chunks', async () => {
  const src = new MemoryImage(8 * MiB);
  src.put(0, patternBytes(8 * MiB, 11));
  const dst = new MemoryImage(8 * MiB);
  const reader = src.reader();
  await copyGuestData(
    reader,
    dst.writer(),
    { signal: new AbortController().signal },
    {
      chunkSize: MiB,
      startOffset: 5 * MiB,
    }
  );
  assert.ok(reader.stats.reads.every((r) => r.offset >= 5 * MiB));
  assert.deepEqual(dst.data.subarray(5 * MiB), src.data.subarray(5 * MiB));
  assert.ok(dst.data.subarray(0, 5 * MiB).every((b) => b === 0));

  const ac = new AbortController();
  const r2 = src.reader();
  const origRead = r2.read.bind(r2);
  r2.read = async (buf, off) => {
    if (off >= 2 * MiB) ac.abort();
    await origRead(buf, off);
  };
  const w2 = new MemoryImage(8 * MiB).writer();
  await assert.rejects(copyGuestData(r2, w2, { signal: ac.signal }), { code: 'CANCELLED' });
  assert.ok(r2.stats.reads.length <= 3);
  await assert.rejects(
    copyGuestData(src.reader(), new MemoryImage(4 * MiB).writer(), { signal: ac.signal }),
    { code: 'INVALID_ARGUMENT' }
  );
});

test('a failing write surfaces its error without unhandled rejections', async () => {
  const src = new MemoryImage(8 * MiB);
  src.put(0, patternBytes(8 * MiB, 12));
  const writer = new MemoryImage(8 * MiB).writer({ failAfterWrites: 2, writeDelayMs: 1 });
  await assert.rejects(
    copyGuestData(
      src.reader(),
      writer,
      { signal: new AbortController().signal },
      { chunkSize: MiB }
    ),
    { code: 'IO', message: 'simulated kill' }
  );
  assert.equal(writer.stats.writes.length, 2);
  assert.equal(writer.stats.activeWrites, 0);
});

test('a failing write: no read of the source is still running when the copy rejects', async () => {
  const src = new MemoryImage(16 * MiB);
  src.put(0, patternBytes(16 * MiB, 13));
  const dst = new MemoryImage(16 * MiB);
  const reader = src.reader({ readDelayMs: 5 });
  const writer = dst.writer();
  let activeReads = 0;
  const origRead = reader.read.bind(reader);
  reader.read = async (buf, off) => {
    activeReads++;
    try {
      await origRead(buf, off);
    } finally {
      activeReads--;
    }
  };
  writer.write = async () => {
    throw new Error('disk full');
  };
  const overlapping = { ...writer, concurrentWrites: 3 };
  await assert.rejects(
    copyGuestData(
      reader,
      overlapping,
      { signal: new AbortController().signal },
      { chunkSize: MiB }
    ),
    /disk full/
  );
  assert.equal(activeReads, 0, 'reads still running after the copy returned');
});
