/**
 * The cipher interfaces core/crypto implements and the formats use for guest data: a
 * synchronous per-sector form and an asynchronous bulk form a worker pool can serve.
 */

/** Sector-wise data encryption with a key already unlocked. */
export interface SectorCrypto {
  /** Encryption unit in bytes: 512, or 512..4096 for LUKS2 segments. */
  readonly sectorSize: number;
  /**
   * Encrypts `data` in place. `data.length` is a multiple of `sectorSize`; unit k of `data`
   * uses IV sector `ivSector + k * sectorSize / 512` (IVs always count 512-byte units:
   * docs/spec/luks2.md §4).
   */
  encrypt(data: Uint8Array, ivSector: number): void;
  decrypt(data: Uint8Array, ivSector: number): void;
  /** Wipes the keys. The object must not be used afterwards. */
  dispose(): void;
}

/**
 * Asynchronous bulk form of `SectorCrypto` used by containers for guest data, so a worker
 * pool can do the work. The result may be a different view than `data` (the buffer may have
 * been transferred to a worker and back); callers use the returned array.
 */
export interface DataCipher {
  readonly sectorSize: number;
  encrypt(data: Uint8Array, ivSector: number): Promise<Uint8Array>;
  decrypt(data: Uint8Array, ivSector: number): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

/** Runs a synchronous `SectorCrypto` as a `DataCipher` (in place, on the calling thread). */
export function inlineDataCipher(sc: SectorCrypto): DataCipher {
  return {
    sectorSize: sc.sectorSize,
    encrypt: async (data, iv) => {
      sc.encrypt(data, iv);
      return data;
    },
    decrypt: async (data, iv) => {
      sc.decrypt(data, iv);
      return data;
    },
    dispose: async () => sc.dispose(),
  };
}
