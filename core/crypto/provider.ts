/**
 * AES block-cipher providers (docs/DESIGN.md constraints 2 and 3). Everything above this layer
 * (XTS, CBC, ESSIV) is built on these few whole-buffer operations, so the native provider
 * needs only `aes-*-ecb` / `aes-*-cbc` from `node:crypto`, which Electron's BoringSSL has.
 */

/** One AES key, expanded once. All lengths are multiples of 16. */
export interface AesBlockCipher {
  /** Key length in bytes (16, 24 or 32). */
  readonly keyBytes: number;
  /** AES-ECB encryption of `src` into a new array (`src` is left untouched). */
  encryptBlocks(src: Uint8Array): Uint8Array;
  /** AES-ECB decryption of `src` into a new array (`src` is left untouched). */
  decryptBlocks(src: Uint8Array): Uint8Array;
  /**
   * CBC-encrypts `data` in place as independent chains of `unitSize` bytes; chain k starts
   * from the 16-byte IV at `ivs[16k]`.
   */
  encryptCbcUnits(data: Uint8Array, unitSize: number, ivs: Uint8Array): void;
  /**
   * CBC-decrypts `data` in place as independent chains of `unitSize` bytes (IV of chain k at
   * `ivs[16k]`), when the backend has a native parallel CBC decryption; optional.
   */
  decryptCbcUnits?(data: Uint8Array, unitSize: number, ivs: Uint8Array): void;
  /** Wipes key material (as far as the backend allows). */
  dispose(): void;
}

export interface AesProvider {
  readonly name: 'node' | 'noble';
  /** Expands `key` (16/24/32 bytes). The key is copied; the caller keeps ownership. */
  create(key: Uint8Array): AesBlockCipher;
}
