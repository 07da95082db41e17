/**
 * QEMU-compatible image locks (docs/DESIGN.md "Data safety"; README "Image locks").
 *
 * QEMU's `file-posix` driver (block/file-posix.c: raw_apply_lock_bytes, raw_check_lock_bytes,
 * raw_handle_perm_lock) expresses the block-layer permissions of include/block/block-common.h
 * as shared OFD locks on single bytes of the image file:
 * - byte 100 + i is held while the open file *uses* permission bit i;
 * - byte 200 + i is held while it does *not share* permission bit i with anyone else.
 * An opener first takes its bytes (all of them read locks, so holders never block each
 * other's locking), then tests with a write-lock probe: byte 200 + i for each permission it
 * wants (someone refuses to share it) and byte 100 + i for each one it does not share
 * (someone uses it). Any hit is a conflict: it drops its bytes and fails.
 *
 * We take the same bytes with the same meaning, on the image's own open file, so QEMU and
 * we see each other, and two of our own opens see each other too.
 */
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { inUseError } from './image-use.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, ofdGetLock, ofdSetLock } from './native/ofd.js';

/** Block-layer permission bits (include/block/block-common.h, QEMU 7.2). */
export const BLK_PERM_CONSISTENT_READ = 0x01;
export const BLK_PERM_WRITE = 0x02;
export const BLK_PERM_WRITE_UNCHANGED = 0x04;
export const BLK_PERM_RESIZE = 0x08;
export const BLK_PERM_ALL = 0x0f;

/** First byte of the "uses permission i" locks (RAW_LOCK_PERM_BASE). */
export const LOCK_PERM_BASE = 100;
/** First byte of the "does not share permission i" locks (RAW_LOCK_SHARED_BASE). */
export const LOCK_SHARED_BASE = 200;
/** Bits QEMU has used (0x10 was BLK_PERM_GRAPH_MOD up to 6.1): released together on unlock. */
export const PERM_BITS_SPAN = 5;

/**
 * How an open uses the image:
 * - `read` (info, check, keyslot list/test, conversion sources, backing files): reads it and
 *   shares reading only, like qemu-img reading a qcow2: refused while anyone writes it;
 * - `read-shared` (`-U`/`--force-share`): reads it and shares everything, like `qemu-img -U`;
 * - `write` (keyslot changes, create, conversion outputs, a file about to be replaced): uses
 *   read, write and resize and shares none of them (a header or an output being written is
 *   not consistent for readers), so QEMU, even `-U`, and our own reads keep off.
 */
export type LockMode = 'read' | 'read-shared' | 'write';

export interface Permissions {
  /** Permission bits used. */
  perm: number;
  /** Permission bits others may use meanwhile. */
  shared: number;
}

export const MODE_PERMISSIONS: Readonly<Record<LockMode, Permissions>> = {
  read: {
    perm: BLK_PERM_CONSISTENT_READ,
    shared: BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED,
  },
  'read-shared': { perm: BLK_PERM_CONSISTENT_READ, shared: BLK_PERM_ALL },
  write: {
    perm: BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE | BLK_PERM_RESIZE,
    shared: BLK_PERM_WRITE_UNCHANGED,
  },
};

function bits(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; 1 << i <= BLK_PERM_ALL; i++) if (mask & (1 << i)) out.push(i);
  return out;
}

/** The bytes an open with `p` holds (raw_apply_lock_bytes). */
export function heldBytes(p: Permissions): number[] {
  return [
    ...bits(p.perm).map((i) => LOCK_PERM_BASE + i),
    ...bits(~p.shared & BLK_PERM_ALL).map((i) => LOCK_SHARED_BASE + i),
  ];
}

/** The bytes nobody else may hold for an open with `p` to go ahead (raw_check_lock_bytes). */
export function testedBytes(p: Permissions): number[] {
  return [
    ...bits(p.perm).map((i) => LOCK_SHARED_BASE + i),
    ...bits(~p.shared & BLK_PERM_ALL).map((i) => LOCK_PERM_BASE + i),
  ];
}

/**
 * A read lock every open of ours takes beside QEMU's bytes, which QEMU ignores: it tells a
 * waiting open of ours that the holder is (also) one of our own operations, which end by
 * themselves, so it is worth waiting longer (`OWN_WAIT_MS`). Clear of libvirt's byte 0 and
 * of QEMU's bytes for up to 64 permission bits.
 */
export const OWN_MARKER_BYTE = 1001;

/** Releases every lock byte QEMU's scheme uses on `fd`, and our marker. */
export function releaseImageLock(fd: number): void {
  ofdSetLock(fd, F_UNLCK, LOCK_PERM_BASE, PERM_BITS_SPAN);
  ofdSetLock(fd, F_UNLCK, LOCK_SHARED_BASE, PERM_BITS_SPAN);
  ofdSetLock(fd, F_UNLCK, OWN_MARKER_BYTE, 1);
}

/**
 * One attempt: takes the bytes of `mode` on `fd`, then tests for conflicts. Returns the first
 * conflicting byte (after releasing what it took) or undefined when the lock is held.
 */
export function tryImageLock(fd: number, mode: LockMode): number | undefined {
  const p = MODE_PERMISSIONS[mode];
  for (const b of [OWN_MARKER_BYTE, ...heldBytes(p)]) {
    if (ofdSetLock(fd, F_RDLCK, b, 1) === 'conflict') {
      releaseImageLock(fd);
      return b;
    }
  }
  for (const b of testedBytes(p)) {
    if (ofdGetLock(fd, F_WRLCK, b, 1)) {
      releaseImageLock(fd);
      return b;
    }
  }
  return undefined;
}

/**
 * How long an open waits for a conflicting holder to let go before it fails with
 * `IMAGE_IN_USE`: long enough for a `qemu-img info` to finish (and for two of our opens that
 * collided to sort themselves out), short enough that a VM's image is refused promptly.
 */
export const LOCK_WAIT_MS = 1000;
/**
 * How long it waits when the holder is one of our own operations (`OWN_MARKER_BYTE`): a
 * keyslot change at the default 2 s unlock time holds its image for about 5 s, and a second
 * one should run after it rather than fail. README "Image locks".
 */
export const OWN_WAIT_MS = 10_000;

export interface LockOptions {
  /** Milliseconds to keep retrying a conflict (default `LOCK_WAIT_MS`; 0: one attempt). */
  waitMs?: number;
  /** The same when one of our own operations holds it (default `OWN_WAIT_MS`, or `waitMs`). */
  ownWaitMs?: number;
}

/** Whether another open file holds our marker: one of our operations has the image open. */
function heldByOurs(fd: number): boolean {
  return ofdGetLock(fd, F_WRLCK, OWN_MARKER_BYTE, 1) !== undefined;
}

/**
 * Locks the image open as `fh` (the lock lives as long as `fh`), waiting briefly for a
 * conflicting holder (longer for one of our own operations). @throws `IMAGE_IN_USE` naming
 * the holder where the system tells it; `NATIVE_UNAVAILABLE` when the native route did not
 * load (an image is never opened unlocked).
 */
export async function lockImage(
  fh: FileHandle,
  path: string,
  mode: LockMode,
  opts: LockOptions = {}
): Promise<void> {
  const start = Date.now();
  const waitMs = opts.waitMs ?? LOCK_WAIT_MS;
  const ownWaitMs = opts.ownWaitMs ?? (opts.waitMs === undefined ? OWN_WAIT_MS : waitMs);
  for (;;) {
    const conflict = tryImageLock(fh.fd, mode);
    if (conflict === undefined) return;
    const limit = heldByOurs(fh.fd) ? Math.max(waitMs, ownWaitMs) : waitMs;
    if (Date.now() - start >= limit) throw await inUseError(fh, path, mode);
    // Random back-off: two openers that collided (each saw the other's bytes) retry apart.
    await sleep(10 + Math.floor(Math.random() * 40));
  }
}
