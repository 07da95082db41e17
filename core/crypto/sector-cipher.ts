/**
 * Sector-wise data encryption (`SectorCrypto`, core/formats/encryption.ts) for every supported
 * LUKS cipher spec (docs/spec/luks1.md §4, docs/spec/luks2.md §4) and legacy qcow AES
 * (docs/spec/legacy-aes.md §1).
 */
import { fail } from '../api/errors.js';
import type { SectorCrypto } from './data-cipher.js';
import { cbcDecrypt, cbcEncrypt } from './cbc.js';
import type { CipherSpec } from './cipher-spec.js';
import { createIvGenerator, LITTLE_ENDIAN, type IvGenerator } from './ivgen.js';
import type { AesBlockCipher, AesProvider } from './provider.js';
import { nodeProvider } from './provider-node.js';
import { wipe } from './secret.js';
import { xtsProcess } from './xts.js';
import { XorKernel } from './wasm/xor-kernel.js';

/**
 * Work is done in chunks of this many bytes: bounds scratch memory, keeps the working set in
 * L2, and keeps OpenSSL output buffers below malloc's mmap threshold (larger chunks measured
 * 20-35% slower here from page faults on fresh output buffers).
 */
const CHUNK = 64 * 1024;

/** Sector sizes a LUKS segment may use (docs/spec/luks2.md §3 "Segment"). */
export const SECTOR_SIZES = [512, 1024, 2048, 4096];

/** Tuning knobs of a sector cipher; the defaults are right outside tests and benchmarks. */
export interface SectorCipherOptions {
  /**
   * Run the XTS and CBC-decrypt XOR passes in WebAssembly SIMD (wasm/xor-kernel.ts) where
   * the runtime supports it; default true. False forces the pure-JS passes.
   */
  wasm?: boolean;
}

/**
 * Creates a cipher for `spec` with `key` (`spec.keyBytes` long; copied, so the caller may
 * wipe its own buffer right away). Unit k of a buffer is encrypted with IV sector
 * `ivSector + k * sectorSize / 512` — IVs always count 512-byte units (docs/spec/luks2.md §4).
 * `dispose()` wipes the keys.
 */
export function createSectorCipher(
  spec: CipherSpec,
  key: Uint8Array,
  sectorSize = 512,
  provider: AesProvider = nodeProvider,
  opts: SectorCipherOptions = {}
): SectorCrypto {
  if (!SECTOR_SIZES.includes(sectorSize)) {
    throw fail('UNSUPPORTED_FEATURE', `Sector size ${sectorSize} is not supported`);
  }
  return createUnitCipher(spec, key, sectorSize, provider, opts);
}

/**
 * Like {@link createSectorCipher} with any unit size that is a multiple of 16 below 512 or a
 * multiple of 512 (short units serve IEEE 1619 test vectors). The IV advances by
 * `max(1, unitSize / 512)` per unit.
 */
export function createUnitCipher(
  spec: CipherSpec,
  key: Uint8Array,
  unitSize: number,
  provider: AesProvider = nodeProvider,
  opts: SectorCipherOptions = {}
): SectorCrypto {
  if (!LITTLE_ENDIAN) throw fail('UNSUPPORTED_FEATURE', 'Big-endian machines are not supported');
  if (
    !Number.isSafeInteger(unitSize) ||
    unitSize < 16 ||
    unitSize % 16 !== 0 ||
    (unitSize > 512 && unitSize % 512 !== 0)
  ) {
    throw fail('INVALID_ARGUMENT', `Encryption unit size ${unitSize} is not supported`);
  }
  if (key.length !== spec.keyBytes) {
    throw fail('INVALID_ARGUMENT', `Key is ${key.length} bytes, cipher needs ${spec.keyBytes}`);
  }
  const half = spec.blockMode === 'xts' ? spec.keyBytes / 2 : spec.keyBytes;
  const created: { dispose(): void }[] = [];
  let data: AesBlockCipher;
  let tweak: AesBlockCipher | undefined;
  let ivgen: IvGenerator;
  try {
    data = provider.create(key.subarray(0, half));
    created.push(data);
    if (spec.blockMode === 'xts') {
      tweak = provider.create(key.subarray(half));
      created.push(tweak);
    }
    ivgen = createIvGenerator(spec, key, provider);
    created.push(ivgen);
  } catch (e) {
    for (const c of created) c.dispose();
    throw e;
  }

  const chunk = Math.max(unitSize, CHUNK - (CHUNK % unitSize));
  const step = Math.max(1, unitSize / 512);
  let ivs: Uint8Array | undefined = new Uint8Array((chunk / unitSize) * 16);
  let aligned: Uint8Array | undefined;
  let disposed = false;
  // The SIMD kernel (and its scratch memory) is made on first use of a mode that needs it.
  const wantKernel = opts.wasm !== false && (spec.blockMode === 'xts' || spec.blockMode === 'cbc');
  let kernel: XorKernel | undefined;
  let kernelTried = false;

  function getKernel(): XorKernel | undefined {
    if (!kernelTried && wantKernel) {
      kernelTried = true;
      kernel = XorKernel.create(chunk);
    }
    return kernel;
  }

  /** Handles one chunk with the SIMD kernel; false when the JS path must do it. */
  function kernelChunk(buf: Uint8Array, first: number, decrypt: boolean): boolean {
    if (spec.blockMode === 'cbc' && decrypt && data.decryptCbcUnits) {
      // Native parallel CBC decryption with a per-chain fix-up beats ECB + XOR.
      const iv = ivs as Uint8Array;
      ivgen.fill(iv, first, buf.length / unitSize, step);
      data.decryptCbcUnits(buf, unitSize, iv);
      return true;
    }
    const k = getKernel();
    if (!k || (spec.blockMode === 'cbc' && !decrypt)) return false;
    const units = buf.length / unitSize;
    const iv = ivs as Uint8Array;
    ivgen.fill(iv, first, units, step);
    if (spec.blockMode === 'xts') k.xts(data, tweak as AesBlockCipher, buf, unitSize, iv, decrypt);
    else k.cbcDecrypt(data, buf, unitSize, iv);
    return true;
  }

  function processChunk(buf: Uint8Array, first: number, decrypt: boolean): void {
    const units = buf.length / unitSize;
    const iv = ivs as Uint8Array;
    ivgen.fill(iv, first, units, step);
    switch (spec.blockMode) {
      case 'xts':
        xtsProcess(data, tweak as AesBlockCipher, buf, unitSize, iv, decrypt);
        break;
      case 'cbc':
        if (decrypt) cbcDecrypt(data, buf, unitSize, iv);
        else cbcEncrypt(data, buf, unitSize, iv);
        break;
      case 'ecb':
        buf.set(decrypt ? data.decryptBlocks(buf) : data.encryptBlocks(buf));
        break;
    }
  }

  function run(buf: Uint8Array, ivSector: number, decrypt: boolean): void {
    if (disposed) throw fail('INTERNAL', 'Sector cipher used after dispose');
    if (buf.length % unitSize !== 0) {
      throw fail('INVALID_ARGUMENT', `Data length ${buf.length} is not a multiple of ${unitSize}`);
    }
    const units = buf.length / unitSize;
    if (
      !Number.isSafeInteger(ivSector) ||
      ivSector < 0 ||
      !Number.isSafeInteger(ivSector + units * step)
    ) {
      throw fail('INVALID_ARGUMENT', `IV sector ${ivSector} is out of range`);
    }
    try {
      runChunks(buf, ivSector, decrypt);
    } finally {
      kernel?.wipe();
    }
  }

  function runChunks(buf: Uint8Array, ivSector: number, decrypt: boolean): void {
    for (let off = 0; off < buf.length; off += chunk) {
      const part = buf.subarray(off, Math.min(buf.length, off + chunk));
      const first = ivSector + (off / unitSize) * step;
      if (kernelChunk(part, first, decrypt)) continue;
      if (part.byteOffset % 4 === 0) {
        processChunk(part, first, decrypt);
      } else {
        aligned ??= new Uint8Array(chunk);
        const tmp = aligned.subarray(0, part.length);
        tmp.set(part);
        processChunk(tmp, first, decrypt);
        part.set(tmp);
        tmp.fill(0);
      }
    }
  }

  return {
    sectorSize: unitSize,
    encrypt: (buf, ivSector) => run(buf, ivSector, false),
    decrypt: (buf, ivSector) => run(buf, ivSector, true),
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const c of created) c.dispose();
      kernel?.wipe();
      kernel = undefined;
      wipe(ivs, aligned);
      ivs = aligned = undefined;
    },
  };
}

/** The legacy qcow/qcow2 AES spec: AES-128-CBC with plain64 IVs (docs/spec/legacy-aes.md §1). */
export const LEGACY_AES_SPEC: CipherSpec = {
  cipherName: 'aes',
  blockMode: 'cbc',
  ivgen: 'plain64',
  keyBytes: 16,
};

/**
 * The legacy qcow / qcow2 `crypt_method = 1` key (docs/spec/legacy-aes.md §1): the passphrase
 * bytes up to the first NUL (QEMU reads the secret as a C string), truncated or zero-padded
 * to 16 bytes. The caller wipes it.
 */
export function legacyAesKey(passphrase: Uint8Array): Uint8Array {
  const key = new Uint8Array(16);
  const nul = passphrase.indexOf(0);
  const len = Math.min(16, nul < 0 ? passphrase.length : nul);
  key.set(passphrase.subarray(0, len));
  return key;
}

/**
 * Legacy qcow / qcow2 `crypt_method = 1` cipher: AES-128-CBC, 512-byte sectors, IV = plain64
 * of the guest sector, key from {@link legacyAesKey}.
 */
export function createLegacyAesCipher(
  passphrase: Uint8Array,
  provider: AesProvider = nodeProvider
): SectorCrypto {
  const key = legacyAesKey(passphrase);
  try {
    return createSectorCipher(LEGACY_AES_SPEC, key, 512, provider);
  } finally {
    wipe(key);
  }
}
