/**
 * Who keeps an image busy: which of QEMU's lock bytes other open files hold on it, and which
 * process holds them where the system tells (README "Image locks"). For `IMAGE_IN_USE`
 * messages and `ImageInfo.inUse`.
 */
import type { FileHandle } from 'node:fs/promises';
import { fail } from '../api/errors.js';
import { findLockHolders, type LockHolder } from './lock-holders.js';
import { F_WRLCK, ofdGetLock } from './native/ofd.js';
import type { LockMode } from './image-lock.js';

/** Byte held while an open file uses the write permission (100 + log2 BLK_PERM_WRITE). */
const WRITE_BYTE = 101;
/** Byte held while an open file does not share consistent reads (200 + 0). */
const NO_READERS_BYTE = 200;
/** The bytes looked at: permissions 0..3 held (100..103) and not shared (200..203). */
const USE_BYTES = [100, 101, 102, 103, 200, 201, 202, 203];

/** Who keeps an image busy, as far as the system tells. */
export interface ImageUse {
  /** The holder uses the write permission: a VM, qemu-io, or one of our writing operations. */
  writer: boolean;
  /** Nobody may read it consistently now, not even with `-U` (it is being rewritten). */
  unreadable: boolean;
  pid?: number;
  /** The holder's program name (`qemu-io`, `qemu-system-x86`, `image-vault`). */
  holder?: string;
}

export interface ImageUseOptions {
  /**
   * Leave out read locks this process holds itself (another inspection of the same image
   * running meanwhile): they end by themselves and keep nothing from being done.
   */
  ignoreOwnReaders?: boolean;
}

/**
 * What other open files hold on the image open as `fh`, or undefined when nobody holds any
 * of QEMU's lock bytes. Takes no lock itself. @throws `NATIVE_UNAVAILABLE`
 */
export async function imageUse(
  fh: FileHandle,
  opts: ImageUseOptions = {}
): Promise<ImageUse | undefined> {
  const held = new Set(USE_BYTES.filter((b) => ofdGetLock(fh.fd, F_WRLCK, b, 1)));
  if (held.size === 0) return undefined;
  const holders = await lockHolders(fh);
  if (opts.ignoreOwnReaders) {
    const own = holders.filter((h) => h.pid === process.pid && !h.bytes.has(WRITE_BYTE));
    const others = holders.filter((h) => !own.includes(h));
    const explained = [...held].every((b) => own.some((h) => h.bytes.has(b)));
    if (own.length > 0 && others.length === 0 && explained) return undefined;
  }
  const use: ImageUse = { writer: held.has(WRITE_BYTE), unreadable: held.has(NO_READERS_BYTE) };
  // A writer names the situation best; then anyone who keeps others from writing.
  const holder =
    holders.find((h) => h.bytes.has(WRITE_BYTE)) ??
    holders.find((h) => h.bytes.has(NO_READERS_BYTE + 1)) ??
    holders[0];
  if (holder) {
    use.pid = holder.pid;
    use.holder = holder.pid === process.pid ? 'image-vault (this process)' : holder.name;
  }
  return use;
}

async function lockHolders(fh: FileHandle): Promise<LockHolder[]> {
  const st = await fh.stat({ bigint: true });
  return findLockHolders(st.dev, st.ino, { pid: process.pid, fd: fh.fd });
}

/** The `IMAGE_IN_USE` error for an open of `path` in `mode` that met a conflict. */
export async function inUseError(fh: FileHandle, path: string, mode: LockMode) {
  const use = (await imageUse(fh).catch(() => undefined)) ?? { writer: false, unreadable: false };
  return fail('IMAGE_IN_USE', inUseMessage(path, mode, use));
}

/** One line saying who holds `path` and what would help. */
export function inUseMessage(path: string, mode: LockMode, use: ImageUse): string {
  const own = use.pid === process.pid;
  const who = use.holder
    ? own
      ? use.holder
      : `${use.holder} (PID ${use.pid})`
    : 'another process';
  const doing = use.writer ? 'has it open for writing' : 'is using it';
  const hint =
    mode === 'read' && !use.unreadable
      ? ' (-U / --force-share reads it anyway)'
      : mode === 'write' && use.writer && !own
        ? ' (stop the VM or close the program first)'
        : '';
  return `${path} is in use: ${who} ${doing}${hint}`;
}
