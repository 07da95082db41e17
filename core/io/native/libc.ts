/**
 * The one native route (docs/DESIGN.md constraint 3): `fcntl` and `lseek` from the C library,
 * called through koffi, an FFI whose npm package brings prebuilt binaries for each platform
 * (no compiler, no install script; N-API, so the same binary loads in Node and in Electron's
 * main process). Used by the image locks (`F_OFD_SETLK`/`F_OFD_GETLK`), the sparse reader
 * (`SEEK_DATA`/`SEEK_HOLE`) and the alignment of `O_DIRECT` buffers (their address); see
 * README "Image locks" and docs/decisions.md.
 *
 * koffi is loaded on first use, synchronously, and a failure is kept: every caller then gets
 * the same typed `NATIVE_UNAVAILABLE` error. Lock callers let it surface (an image is never
 * opened unlocked); the sparse reader falls back to reading everything.
 */
import { createRequire } from 'node:module';
import type * as KoffiModule from 'koffi';
import { fail, type VaultError } from '../../api/errors.js';
import { FLOCK_LAYOUTS, type FlockLayout } from './flock.js';

/** What we call in the C library. Each returns -1 and leaves `errno()` set on failure. */
export interface Libc {
  /** `fcntl(fd, cmd, struct flock *)`. */
  fcntlLock(fd: number, cmd: number, flock: Uint8Array): number;
  /** `lseek(fd, offset, whence)` (64-bit `off_t`). */
  lseek(fd: number, offset: number, whence: number): number;
  /**
   * `memset(view, value, n)`, returning the address of `view`'s first byte (koffi passes
   * typed arrays by address, without a copy): the address for `O_DIRECT` buffer alignment
   * (n = 0), and zero-filling shared memory, which V8 fills a byte at a time (measured
   * 20× slower than memset for 4 MiB).
   */
  memset(view: Uint8Array, value: number, n: number): number;
  /** The calling thread's `errno` after the last failed call. */
  errno(): number;
  /** `struct flock` on this architecture. */
  flockLayout: FlockLayout;
}

type NativeFunction = ReturnType<KoffiModule.LibraryHandle['func']>;

let cached: Libc | VaultError | undefined;

function load(): Libc {
  if (process.platform !== 'linux') {
    throw fail(
      'NATIVE_UNAVAILABLE',
      `Image locks are implemented for Linux only, not ${process.platform}`
    );
  }
  const flockLayout = FLOCK_LAYOUTS[process.arch];
  if (!flockLayout) {
    throw fail('NATIVE_UNAVAILABLE', `Image locks do not know struct flock on ${process.arch}`);
  }
  let fcntl: NativeFunction;
  let lseek: NativeFunction;
  let memset: NativeFunction;
  let koffi: typeof KoffiModule;
  try {
    // A plain require: the bundler leaves it alone (koffi is external) and a failure is ours.
    koffi = createRequire(import.meta.url)('koffi') as typeof KoffiModule;
    const lib = openLibc(koffi);
    fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
    lseek = lib.func('int64_t lseek(int fd, int64_t offset, int whence)');
    memset = lib.func('uintptr_t memset(void *s, int c, size_t n)');
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw fail('NATIVE_UNAVAILABLE', `The native helper (koffi) did not load: ${why}`, e);
  }
  return {
    fcntlLock: (fd, cmd, flock) => fcntl(fd, cmd, 'void *', flock) as number,
    lseek: (fd, offset, whence) => Number(lseek(fd, offset, whence)),
    memset: (view, value, n) => {
      if (n > view.byteLength) throw fail('INTERNAL', 'memset past the end of its buffer');
      return Number(memset(view, value, n));
    },
    errno: () => koffi.errno(),
    flockLayout,
  };
}

/** glibc by name; elsewhere (musl) the symbols the process already has. */
function openLibc(koffi: typeof KoffiModule): KoffiModule.LibraryHandle {
  try {
    return koffi.load('libc.so.6');
  } catch {
    return koffi.load(null);
  }
}

/** The C library calls, loading koffi on first use. @throws `NATIVE_UNAVAILABLE` */
export function libc(): Libc {
  if (cached === undefined) {
    try {
      cached = load();
    } catch (e) {
      cached = e as VaultError;
    }
  }
  if (cached instanceof Error) throw cached;
  return cached;
}

/** Whether the native route loaded (for the sparse reader's fallback and for diagnostics). */
export function nativeAvailable(): boolean {
  try {
    libc();
    return true;
  } catch {
    return false;
  }
}

/**
 * Tests only: replaces the C library (an `Error` makes every call fail as a failed load
 * would); `undefined` goes back to loading the real one.
 */
export function setLibcForTests(replacement: Libc | VaultError | undefined): void {
  cached = replacement;
}

/** errno values we branch on (asm-generic/errno-base.h, the same on x86_64 and aarch64). */
export const ENXIO = 6;
export const EBADF = 9;
export const EAGAIN = 11;
export const EACCES = 13;
export const EINVAL = 22;
export const EOPNOTSUPP = 95;
