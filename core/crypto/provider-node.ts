/**
 * Native AES provider on `node:crypto` `aes-{128,192,256}-{ecb,cbc}` (docs/DESIGN.md constraint 3):
 * contexts are created once per key with `setAutoPadding(false)` and never finalized while in
 * use, so each call is a single `update()` over the whole buffer.
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from './node-crypto.js';
import { fail } from '../api/errors.js';
import type { AesBlockCipher, AesProvider } from './provider.js';

function ecbEncryptor(key: Uint8Array): Cipher {
  switch (key.length) {
    case 16:
      return createCipheriv('aes-128-ecb', key, null);
    case 24:
      return createCipheriv('aes-192-ecb', key, null);
    case 32:
      return createCipheriv('aes-256-ecb', key, null);
    default:
      throw fail('UNSUPPORTED_CIPHER', `AES key of ${key.length} bytes is not supported`);
  }
}

function ecbDecryptor(key: Uint8Array): Decipher {
  switch (key.length) {
    case 16:
      return createDecipheriv('aes-128-ecb', key, null);
    case 24:
      return createDecipheriv('aes-192-ecb', key, null);
    case 32:
      return createDecipheriv('aes-256-ecb', key, null);
    default:
      throw fail('UNSUPPORTED_CIPHER', `AES key of ${key.length} bytes is not supported`);
  }
}

function cbcDecryptor(key: Uint8Array, iv: Uint8Array): Decipher {
  switch (key.length) {
    case 16:
      return createDecipheriv('aes-128-cbc', key, iv);
    case 24:
      return createDecipheriv('aes-192-cbc', key, iv);
    case 32:
      return createDecipheriv('aes-256-cbc', key, iv);
    default:
      throw fail('UNSUPPORTED_CIPHER', `AES key of ${key.length} bytes is not supported`);
  }
}

function cbcEncryptor(key: Uint8Array, iv: Uint8Array): Cipher {
  switch (key.length) {
    case 16:
      return createCipheriv('aes-128-cbc', key, iv);
    case 24:
      return createCipheriv('aes-192-cbc', key, iv);
    case 32:
      return createCipheriv('aes-256-cbc', key, iv);
    default:
      throw fail('UNSUPPORTED_CIPHER', `AES key of ${key.length} bytes is not supported`);
  }
}

class NodeAes implements AesBlockCipher {
  readonly keyBytes: number;
  private enc: Cipher | undefined;
  private dec: Decipher | undefined;
  private cbc: Cipher | undefined;
  private dcbc: Decipher | undefined;
  /** The CBC context's chaining value: the last ciphertext block it produced. */
  private readonly chain = new Uint8Array(16);
  /** The CBC decryption context's chaining value: the last ciphertext block it consumed. */
  private readonly dchain = new Uint8Array(16);

  constructor(key: Uint8Array) {
    this.keyBytes = key.length;
    this.enc = ecbEncryptor(key);
    this.enc.setAutoPadding(false);
    this.dec = ecbDecryptor(key);
    this.dec.setAutoPadding(false);
    this.cbc = cbcEncryptor(key, this.chain);
    this.cbc.setAutoPadding(false);
    this.dcbc = cbcDecryptor(key, this.dchain);
    this.dcbc.setAutoPadding(false);
  }

  private live<T>(c: T | undefined): T {
    if (!c) throw fail('INTERNAL', 'AES context used after dispose');
    return c;
  }

  encryptBlocks(src: Uint8Array): Uint8Array {
    return this.live(this.enc).update(src);
  }

  decryptBlocks(src: Uint8Array): Uint8Array {
    return this.live(this.dec).update(src);
  }

  /**
   * One long-lived CBC context serves every chain: its state is the previous ciphertext
   * block C, so feeding `P0 ⊕ IV ⊕ C` as the first block yields `E(P0 ⊕ IV)` — exactly a
   * fresh chain with that IV — without creating a context per sector.
   */
  encryptCbcUnits(data: Uint8Array, unitSize: number, ivs: Uint8Array): void {
    const cbc = this.live(this.cbc);
    const chain = this.chain;
    for (let off = 0, k = 0; off < data.length; off += unitSize, k++) {
      const ivOff = k * 16;
      for (let i = 0; i < 16; i++) {
        data[off + i] =
          (data[off + i] as number) ^ (ivs[ivOff + i] as number) ^ (chain[i] as number);
      }
      const out = cbc.update(data.subarray(off, off + unitSize));
      data.set(out, off);
      chain.set(out.subarray(unitSize - 16, unitSize));
    }
  }

  /**
   * All chains go through one long-lived CBC decryption context as a single stream (OpenSSL
   * decrypts CBC in parallel): each block comes out as `D(C_i) ⊕ C_(i-1)`. Only the first
   * block of every chain is wrong — it was XORed with the stream's previous ciphertext
   * block instead of the chain's IV — so it is corrected with `⊕ C_prev ⊕ IV`.
   */
  decryptCbcUnits(data: Uint8Array, unitSize: number, ivs: Uint8Array): void {
    const out = this.live(this.dcbc).update(data);
    const dchain = this.dchain;
    for (let off = 0, k = 0; off < data.length; off += unitSize, k++) {
      const prev = off === 0 ? dchain : data.subarray(off - 16, off);
      const ivOff = k * 16;
      for (let i = 0; i < 16; i++) {
        out[off + i] = (out[off + i] as number) ^ (prev[i] as number) ^ (ivs[ivOff + i] as number);
      }
    }
    dchain.set(data.subarray(data.length - 16));
    data.set(out);
    out.fill(0);
  }

  dispose(): void {
    // final() releases the OpenSSL context, which cleanses the expanded key.
    for (const c of [this.enc, this.dec, this.cbc, this.dcbc]) {
      try {
        c?.final();
      } catch {
        // already finalized or mid-block: nothing more to release
      }
    }
    this.enc = this.dec = this.cbc = undefined;
    this.dcbc = undefined;
    this.chain.fill(0);
    this.dchain.fill(0);
  }
}

/** The provider used by default: native AES via `node:crypto`. */
export const nodeProvider: AesProvider = {
  name: 'node',
  create: (key) => new NodeAes(key),
};
