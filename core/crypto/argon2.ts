/**
 * Argon2i / Argon2id (and Argon2d) for LUKS2 keyslots (docs/spec/luks2.md §3 "Keyslot" kdf, §4
 * step 2.1): version 0x13, no secret or associated data, `memory` in KiB, lanes = `cpus`.
 *
 * Electron's BoringSSL has no Argon2 (docs/DESIGN.md constraint 2). Real keyslots use the reference
 * libargon2 compiled to WebAssembly with SIMD ({@link argon2Wasm}, the module shipped by the
 * `@phi-ag/argon2` package, driven by our own few lines below): about as fast as cryptsetup's
 * native libargon2 here, and it runs in Electron without a native rebuild. @noble/hashes
 * ({@link argon2Noble}, pure JS, ~4× slower) is the independent reference it is cross-tested
 * against, and the fallback where the WebAssembly heap (2 GiB at most) cannot hold the memory
 * cost. Both block their thread for the whole derivation: call them from the KDF worker
 * (core/crypto/kdf-client.ts), never from a main thread (docs/decisions.md).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { totalmem } from 'node:os';
import { argon2d, argon2i, argon2id } from '@noble/hashes/argon2.js';
import { fail } from '../api/errors.js';

export type Argon2Type = 'argon2i' | 'argon2id' | 'argon2d';

/** Cost parameters as stored in a LUKS2 keyslot `kdf` object. */
export interface Argon2Params {
  /** Passes (`time`). */
  time: number;
  /** Memory in KiB (`memory`). */
  memoryKiB: number;
  /** Lanes (`cpus`). */
  parallel: number;
}

/** cryptsetup's upper limit for Argon2 memory: 4 GiB (docs/spec/luks2.md §6). */
export const ARGON2_MAX_MEMORY_KIB = 4 * 1024 * 1024;
const MAX_TIME = 1_000_000;
const MAX_PARALLEL = 16;
/** RFC 9106 §3.1: salts of at least 8 bytes (cryptsetup writes 32); both libraries insist. */
const MIN_SALT = 8;

/**
 * Validates `p`, the salt length and `keyLength` (UNSUPPORTED_FEATURE / INVALID_ARGUMENT)
 * before any work.
 */
export function checkArgon2(p: Argon2Params, keyLength: number, saltLength = MIN_SALT): void {
  const { time, memoryKiB, parallel } = p;
  if (!Number.isSafeInteger(time) || time < 1 || time > MAX_TIME) {
    throw fail('UNSUPPORTED_FEATURE', `Argon2 time cost ${time} is out of range`);
  }
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) {
    throw fail('UNSUPPORTED_FEATURE', `Argon2 parallelism ${parallel} is out of range`);
  }
  if (
    !Number.isSafeInteger(memoryKiB) ||
    memoryKiB < 8 * parallel ||
    memoryKiB > ARGON2_MAX_MEMORY_KIB
  ) {
    throw fail('UNSUPPORTED_FEATURE', `Argon2 memory cost ${memoryKiB} KiB is out of range`);
  }
  if (memoryKiB * 1024 > totalmem()) {
    throw fail(
      'UNSUPPORTED_FEATURE',
      `Argon2 needs ${Math.ceil(memoryKiB / 1024)} MiB of memory, more than this machine has`
    );
  }
  if (!Number.isSafeInteger(keyLength) || keyLength < 4 || keyLength > 1024) {
    throw fail('INVALID_ARGUMENT', `Argon2 output length ${keyLength} is out of range`);
  }
  if (saltLength < MIN_SALT) {
    throw fail('UNSUPPORTED_FEATURE', `Argon2 salt of ${saltLength} bytes is too short`);
  }
}

/** Argon2 by @noble/hashes (pure JS): the reference implementation for the tests. */
export function argon2Noble(
  type: Argon2Type,
  password: Uint8Array,
  salt: Uint8Array,
  p: Argon2Params,
  keyLength: number
): Uint8Array {
  checkArgon2(p, keyLength, salt.length);
  const opts = {
    t: p.time,
    m: p.memoryKiB,
    p: p.parallel,
    dkLen: keyLength,
    version: 0x13,
    maxmem: p.memoryKiB * 1024 + 1024 * 1024,
  };
  const f = type === 'argon2id' ? argon2id : type === 'argon2i' ? argon2i : argon2d;
  return f(password, salt, opts);
}

/** libargon2's type numbers (argon2.h `Argon2_type`) and version 0x13. */
const TYPE_IDS: Record<Argon2Type, number> = { argon2d: 0, argon2i: 1, argon2id: 2 };
const VERSION = 0x13;
/**
 * The module's heap may grow to 2 GiB (its memory limit); leave room for its own allocations.
 * Larger memory costs (cryptsetup allows 4 GiB, its default is 1 GiB) go to noble.
 */
const WASM_MAX_MEMORY_KIB = 2 * 1024 * 1024 - 64 * 1024;

/** The parts of the WebAssembly JS API used here (the project's TS lib has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: (new (bytes: Uint8Array) => object) & { imports(m: object): unknown[] };
  Instance: new (module: object) => { exports: object };
}

interface Argon2Exports {
  memory: { readonly buffer: ArrayBuffer };
  _initialize(): void;
  malloc(n: number): number;
  free(ptr: number): void;
  argon2_hash(
    t: number,
    m: number,
    p: number,
    pwd: number,
    pwdLen: number,
    salt: number,
    saltLen: number,
    hash: number,
    hashLen: number,
    encoded: number,
    encodedLen: number,
    type: number,
    version: number
  ): number;
  argon2_error_message(code: number): number;
}

let compiled: { wasm: WasmApi; module: object } | null | undefined;

/**
 * The compiled libargon2 module, read from the installed package (a local file: no network),
 * or null where this runtime lacks WebAssembly SIMD (then noble runs). It must import nothing:
 * a module without imports is pure computation over its own memory, with no way to reach the
 * file system, the network or our process.
 */
function argon2Module(): { wasm: WasmApi; module: object } | null {
  if (compiled !== undefined) return compiled;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  const path = createRequire(import.meta.url).resolve('@phi-ag/argon2/argon2.wasm');
  const bytes = new Uint8Array(readFileSync(path));
  if (!wasm || !wasm.validate(bytes)) return (compiled = null);
  const module = new wasm.Module(bytes);
  if (wasm.Module.imports(module).length > 0) {
    throw fail('INTERNAL', 'The Argon2 WebAssembly module must not import anything');
  }
  return (compiled = { wasm, module });
}

/**
 * Argon2 by libargon2 in WebAssembly (SIMD). Each call gets a fresh instance, so no state of an
 * earlier derivation is reachable; libargon2 wipes its memory blocks itself, and we wipe the
 * copies of the inputs and output in its heap. Lanes run one after another (the module has no
 * threads): the CPU time is a parallel run's, the wall time is the CPU time.
 */
export function argon2Wasm(
  type: Argon2Type,
  password: Uint8Array,
  salt: Uint8Array,
  p: Argon2Params,
  keyLength: number
): Uint8Array {
  checkArgon2(p, keyLength, salt.length);
  const m = argon2Module();
  if (!m || p.memoryKiB > WASM_MAX_MEMORY_KIB) {
    return argon2Noble(type, password, salt, p, keyLength);
  }
  const x = new m.wasm.Instance(m.module).exports as Argon2Exports;
  x._initialize();
  const pw = x.malloc(Math.max(1, password.length));
  const sa = x.malloc(salt.length);
  const out = x.malloc(keyLength);
  if (!pw || !sa || !out) throw fail('INTERNAL', 'Argon2 could not allocate its inputs');
  const heap = () => new Uint8Array(x.memory.buffer);
  heap().set(password, pw);
  heap().set(salt, sa);
  try {
    const rc = x.argon2_hash(
      p.time,
      p.memoryKiB,
      p.parallel,
      pw,
      password.length,
      sa,
      salt.length,
      out,
      keyLength,
      0,
      0,
      TYPE_IDS[type],
      VERSION
    );
    if (rc === -22 /* ARGON2_MEMORY_ALLOCATION_ERROR */) {
      throw fail(
        'UNSUPPORTED_FEATURE',
        `Argon2 cannot get ${Math.ceil(p.memoryKiB / 1024)} MiB of memory here`
      );
    }
    if (rc !== 0) throw fail('INTERNAL', `Argon2 failed (libargon2 error ${rc})`);
    return heap().slice(out, out + keyLength);
  } finally {
    const h = heap();
    h.fill(0, pw, pw + password.length);
    h.fill(0, out, out + keyLength);
  }
}
