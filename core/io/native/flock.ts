/**
 * `struct flock` as the Linux kernel reads it for `fcntl(F_OFD_SETLK/F_OFD_GETLK)`, laid out
 * by hand in a byte buffer (docs/DESIGN.md constraint 3: the native route stays small, so no
 * struct marshalling beyond these five fields).
 *
 * On x86_64 and aarch64 Linux the struct is the generic one (asm-generic/fcntl.h):
 * `short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid;`, with `off_t`
 * 64-bit and aligned to 8, so 4 bytes of padding follow `l_whence` and 4 follow `l_pid`.
 * Other architectures are refused rather than guessed.
 */

/** Byte offsets of the fields and the size of the struct. */
export interface FlockLayout {
  size: number;
  type: number;
  whence: number;
  start: number;
  len: number;
  pid: number;
}

/** The layout on the 64-bit architectures we support (both use the generic struct). */
const GENERIC_64: FlockLayout = { size: 32, type: 0, whence: 2, start: 8, len: 16, pid: 24 };

/** Layouts by `process.arch`. */
export const FLOCK_LAYOUTS: Readonly<Record<string, FlockLayout>> = {
  x64: GENERIC_64,
  arm64: GENERIC_64,
};

/** `l_type` values (asm-generic/fcntl.h; the same on x86_64 and aarch64). */
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
/** `l_whence`: offsets are from the start of the file. */
export const SEEK_SET = 0;

/** The fields we use. `len` 0 would mean "to the end of the file"; we always give a length. */
export interface Flock {
  type: number;
  start: number;
  len: number;
  /** Filled in by F_OFD_GETLK: -1 for an OFD lock (no owning process), else the owner's PID. */
  pid: number;
}

/** A zeroed `struct flock` holding `lock` (l_whence = SEEK_SET). */
export function encodeFlock(layout: FlockLayout, lock: Omit<Flock, 'pid'>): Uint8Array {
  const buf = new Uint8Array(layout.size); // OFD commands need l_pid == 0 on input
  const view = new DataView(buf.buffer);
  view.setInt16(layout.type, lock.type, true);
  view.setInt16(layout.whence, SEEK_SET, true);
  view.setBigInt64(layout.start, BigInt(lock.start), true);
  view.setBigInt64(layout.len, BigInt(lock.len), true);
  return buf;
}

/** Reads the fields back (after F_OFD_GETLK filled them in). */
export function decodeFlock(layout: FlockLayout, buf: Uint8Array): Flock {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    type: view.getInt16(layout.type, true),
    start: Number(view.getBigInt64(layout.start, true)),
    len: Number(view.getBigInt64(layout.len, true)),
    pid: view.getInt32(layout.pid, true),
  };
}
