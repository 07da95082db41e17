/**
 * WebAssembly SIMD versions of the XOR passes around whole-buffer AES-ECB (docs/DESIGN.md
 * constraint 3): the XTS tweak chain (IEEE 1619 §5.2, docs/spec/luks1.md §4) and the CBC
 * decryption chaining step (docs/spec/luks1.md §4, docs/spec/legacy-aes.md §1). Same results as the
 * pure-JS passes in xts.ts and cbc.ts, which stay the fallback where WebAssembly or its SIMD
 * extension is missing.
 *
 * Each kernel owns one linear memory with three regions of `capacity` bytes: A (data), B (the
 * ECB output) and T (tweaks or IVs). A call costs three memcpys (in, ECB output in, out) and
 * the SIMD passes; OpenSSL reads its input straight from region A.
 */
import type { AesBlockCipher } from '../provider.js';
import { XOR_WASM_BASE64 } from './xor-wasm.js';

/** The parts of the WebAssembly JS API used here (the project's TS lib has no DOM types). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: object };
}

interface XorExports {
  mem: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  xts_xor(dst: number, src: number, tweaks: number, units: number, unitBytes: number): void;
  cbc_xor(dst: number, prev: number, ivs: number, units: number, unitBytes: number): void;
}

const PAGE = 65536;
/** Largest region size a kernel accepts (3 regions must fit comfortably in 32-bit memory). */
const MAX_CAPACITY = 64 * 1024 * 1024;

/**
 * Compiles the kernels with `wasm` (normally the global `WebAssembly`), or returns undefined
 * when it is missing or rejects the module (no SIMD support). Exported for tests.
 */
export function compileXorModule(wasm: WasmApi | undefined): object | undefined {
  try {
    if (!wasm || typeof wasm.validate !== 'function') return undefined;
    const bytes = Uint8Array.from(Buffer.from(XOR_WASM_BASE64, 'base64'));
    if (!wasm.validate(bytes)) return undefined;
    return new wasm.Module(bytes);
  } catch {
    return undefined;
  }
}

let cached: { module: object; wasm: WasmApi } | null | undefined;

function loaded(): { module: object; wasm: WasmApi } | null {
  if (cached === undefined) {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    const module = compileXorModule(wasm);
    cached = wasm && module ? { module, wasm } : null;
  }
  return cached;
}

/** True when this runtime can run the SIMD kernels (checked once). */
export function wasmXorAvailable(): boolean {
  return loaded() !== null;
}

/** SIMD XOR kernels with scratch memory for chunks of up to `capacity` bytes. */
export class XorKernel {
  private readonly ex: XorExports;
  private readonly mem: Uint8Array;
  private readonly cap: number;
  private used = 0;

  private constructor(module: object, wasm: WasmApi, capacity: number) {
    const inst = new wasm.Instance(module, {});
    this.ex = inst.exports as XorExports;
    const have = this.ex.mem.buffer.byteLength / PAGE;
    const need = Math.ceil((3 * capacity) / PAGE);
    if (need > have) this.ex.mem.grow(need - have);
    this.mem = new Uint8Array(this.ex.mem.buffer);
    this.cap = capacity;
  }

  /**
   * A kernel for chunks of up to `capacity` bytes (a multiple of 16), or undefined when
   * WebAssembly SIMD is unavailable.
   */
  static create(capacity: number): XorKernel | undefined {
    if (!Number.isSafeInteger(capacity) || capacity < 16 || capacity > MAX_CAPACITY) {
      throw new RangeError(`XOR kernel capacity ${capacity} is out of range`);
    }
    const l = loaded();
    return l ? new XorKernel(l.module, l.wasm, capacity - (capacity % 16)) : undefined;
  }

  private check(data: Uint8Array, unitSize: number): number {
    const n = data.length;
    if (n > this.cap || unitSize < 16 || unitSize % 16 !== 0 || n % unitSize !== 0) {
      throw new RangeError('XOR kernel: chunk does not fit');
    }
    this.used = Math.max(this.used, n);
    return n / unitSize;
  }

  /**
   * XTS-encrypts (or decrypts) `data` in place, like `xtsProcess` in xts.ts (any alignment):
   * unit k's tweak input is the 16-byte IV at `ivs[16k]`.
   */
  xts(
    dataCipher: AesBlockCipher,
    tweakCipher: AesBlockCipher,
    data: Uint8Array,
    unitSize: number,
    ivs: Uint8Array,
    decrypt: boolean
  ): void {
    const units = this.check(data, unitSize);
    const n = data.length;
    const { mem, cap, ex } = this;
    const b = cap;
    const t = 2 * cap;
    mem.set(tweakCipher.encryptBlocks(ivs.subarray(0, units * 16)), t);
    mem.set(data);
    ex.xts_xor(0, 0, t, units, unitSize);
    const a = mem.subarray(0, n);
    mem.set(decrypt ? dataCipher.decryptBlocks(a) : dataCipher.encryptBlocks(a), b);
    // In place: a separate destination 64 KiB away from the source measured 2x slower
    // (4K aliasing between the loads and the stores).
    ex.xts_xor(b, b, t, units, unitSize);
    data.set(mem.subarray(b, b + n));
  }

  /** CBC-decrypts `data` in place, like `cbcDecrypt` in cbc.ts (any alignment). */
  cbcDecrypt(cipher: AesBlockCipher, data: Uint8Array, unitSize: number, ivs: Uint8Array): void {
    const units = this.check(data, unitSize);
    const n = data.length;
    const { mem, cap, ex } = this;
    const b = cap;
    const t = 2 * cap;
    mem.set(data);
    mem.set(cipher.decryptBlocks(mem.subarray(0, n)), b);
    mem.set(ivs.subarray(0, units * 16), t);
    ex.cbc_xor(b, 0, t, units, unitSize);
    data.set(mem.subarray(b, b + n));
  }

  /** Zero-fills the scratch regions used since the last wipe. */
  wipe(): void {
    if (this.used === 0) return;
    const u = this.used;
    const { mem, cap } = this;
    mem.fill(0, 0, u);
    mem.fill(0, cap, cap + u);
    mem.fill(0, 2 * cap, 2 * cap + u);
    this.used = 0;
  }
}
