/**
 * Memory-aligned shared buffers for `O_DIRECT` I/O (docs/DESIGN.md constraint 3: "Node has the
 * flag but no aligned allocation: over-allocate and align by offset").
 *
 * JavaScript cannot see a buffer's address: the native route (core/io/native/libc.ts) tells
 * it. Without the native route, the alignment offset is found by probing: a 4096-byte
 * `O_DIRECT` write to a scratch file succeeds only from a suitably aligned address. Probing
 * needs a filesystem that supports `O_DIRECT` (tmpfs does not); callers give the directory
 * of the file they will write. It is a last resort: each probe is a synchronous disk write on
 * the calling thread, and up to 255 refused ones (on a busy disk, the one that succeeds
 * waited tens of milliseconds behind other writers, stalling the event loop: issue #15).
 */
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libc, nativeAvailable } from './native/libc.js';

/** Memory, offset and length alignment used for direct I/O. */
export const DIRECT_ALIGN = 4096;
/** Candidate offsets are tried in steps of 16 bytes (allocators return 16-byte-aligned blocks). */
const PROBE_STEP = 16;

/** Offset of the aligned start within each shared buffer we handed out. */
const alignedStarts = new WeakMap<ArrayBufferLike, number>();
/** Probe files made by this process (their names only need to be unique per process). */
let probes = 0;

/**
 * Returns `size` bytes of shared memory whose address is 4096-aligned, or `undefined` when
 * that cannot be known: no native route, and `dir` cannot do direct I/O to probe it (then
 * the caller should not use `O_DIRECT` at all).
 */
export function alignedSharedBuffer(size: number, dir: string): Uint8Array | undefined {
  if (nativeAvailable()) {
    const sab = new SharedArrayBuffer(size + DIRECT_ALIGN);
    const address = libc().memset(new Uint8Array(sab, 0, 1), 0, 0);
    const k = (DIRECT_ALIGN - (address % DIRECT_ALIGN)) % DIRECT_ALIGN;
    alignedStarts.set(sab, k);
    return new Uint8Array(sab, k, size);
  }
  return probedSharedBuffer(size, dir);
}

/** `alignedSharedBuffer` by probing with `O_DIRECT` writes in `dir` (no native route). */
function probedSharedBuffer(size: number, dir: string): Uint8Array | undefined {
  const path = join(dir, `.image-vault-probe-${process.pid}-${++probes}`);
  let fd: number;
  try {
    fd = openSync(
      path,
      constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT,
      0o600
    );
  } catch {
    return undefined;
  }
  try {
    const sab = new SharedArrayBuffer(size + DIRECT_ALIGN);
    for (let k = 0; k < DIRECT_ALIGN; k += PROBE_STEP) {
      try {
        writeSync(fd, new Uint8Array(sab, k, DIRECT_ALIGN), 0, DIRECT_ALIGN, 0);
      } catch {
        continue;
      }
      alignedStarts.set(sab, k);
      return new Uint8Array(sab, k, size);
    }
    return undefined;
  } finally {
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

/** True when `view` starts on a 4096-byte boundary of a buffer from `alignedSharedBuffer`. */
export function isDirectAligned(view: Uint8Array): boolean {
  const start = alignedStarts.get(view.buffer);
  return start !== undefined && (view.byteOffset - start) % DIRECT_ALIGN === 0;
}

/**
 * Shared memory for bulk data: 4096-aligned when any of `dirs` can probe it (so an
 * `O_DIRECT` output can be written from it without a bounce copy), plain shared otherwise.
 */
export function bulkBuffer(size: number, dirs?: string[]): Uint8Array {
  return bulkBuffers(1, size, dirs)[0] as Uint8Array;
}

/**
 * `count` bulk buffers of `size` bytes carved from one shared allocation, so the alignment
 * probe (a synchronous disk write) runs once, not once per buffer. Each starts 4096-aligned
 * when the probe succeeds.
 */
export function bulkBuffers(
  count: number,
  size: number,
  dirs: string[] = [tmpdir(), process.cwd()]
): Uint8Array[] {
  const stride = Math.ceil(size / DIRECT_ALIGN) * DIRECT_ALIGN;
  let arena: Uint8Array | undefined;
  for (const dir of dirs) {
    arena = alignedSharedBuffer(stride * count, dir);
    if (arena) break;
  }
  arena ??= new Uint8Array(new SharedArrayBuffer(stride * count));
  const whole = arena;
  return Array.from({ length: count }, (_, i) => whole.subarray(i * stride, i * stride + size));
}

/**
 * Zeroes `buf[start, end)`: through the C library's `memset` when the native route is there
 * (shared memory, which the copy and verify buffers are, is filled a byte at a time by V8).
 */
export function zeroFill(buf: Uint8Array, start = 0, end = buf.length): void {
  if (end - start >= 64 * 1024 && nativeAvailable()) {
    libc().memset(buf.subarray(start, end), 0, end - start);
  } else buf.fill(0, start, end);
}
