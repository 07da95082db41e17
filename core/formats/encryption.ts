/**
 * The small interface through which a container (qcow2, raw) reaches an encryption scheme
 * (LUKS, legacy AES) without knowing it — the shape of QEMU's `QCryptoBlock` read/init/write
 * callbacks (`include/crypto/block.h`).
 */

/** Sector-wise data encryption with a key already unlocked. */
export interface SectorCrypto {
  /** Encryption unit in bytes: 512, or 512..4096 for LUKS2 segments. */
  readonly sectorSize: number;
  /**
   * Encrypts `data` in place. `data.length` is a multiple of `sectorSize`; unit k of `data`
   * uses IV sector `ivSector + k * sectorSize / 512` (IVs always count 512-byte units:
   * spec/luks2.md §4).
   */
  encrypt(data: Uint8Array, ivSector: number): void;
  decrypt(data: Uint8Array, ivSector: number): void;
  /** Wipes the keys. The object must not be used afterwards. */
  dispose(): void;
}

/** Access to the bytes of an embedded encryption header (e.g. qcow2's LUKS region). */
export interface HeaderIO {
  /** Length of the region in bytes (reads and writes beyond it are refused). */
  readonly length: number;
  read(buf: Uint8Array, position: number): Promise<void>;
  write(buf: Uint8Array, position: number): Promise<void>;
  flush(): Promise<void>;
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

/** Slice size for {@link encryptThenWrite}: the pool splits each slice across its workers. */
const PIPELINE_SLICE = 1024 * 1024;
/** Slices being encrypted ahead of the one being written, and writes in flight. */
const PIPELINE_DEPTH = 2;

/**
 * Encrypts `data` (IV sectors from `ivSector`, counted in 512-byte units) and writes it with
 * `write(encrypted, byteOffsetInData)`, in slices: while slice k is written, the next slices
 * are already being encrypted, so the cipher workers and the disk stay busy together.
 * Everything is written when the promise resolves; nothing keeps running after a failure.
 */
export async function encryptThenWrite(
  cipher: DataCipher,
  data: Uint8Array,
  ivSector: number,
  write: (encrypted: Uint8Array, offset: number) => Promise<void>
): Promise<void> {
  const slice = Math.max(cipher.sectorSize, PIPELINE_SLICE - (PIPELINE_SLICE % cipher.sectorSize));
  const offsets: number[] = [];
  for (let off = 0; off < data.length; off += slice) offsets.push(off);
  const encrypting: Promise<Uint8Array>[] = [];
  const writing: Promise<void>[] = [];
  let next = 0;
  const startEncrypt = () => {
    if (next >= offsets.length) return;
    const off = offsets[next++] as number;
    encrypting.push(
      cipher.encrypt(data.subarray(off, Math.min(data.length, off + slice)), ivSector + off / 512)
    );
  };
  try {
    for (let d = 0; d < PIPELINE_DEPTH; d++) startEncrypt();
    for (const off of offsets) {
      const enc = await (encrypting.shift() as Promise<Uint8Array>);
      startEncrypt();
      if (writing.length >= PIPELINE_DEPTH) await writing.shift();
      writing.push(write(enc, off));
    }
    while (writing.length > 0) await writing.shift();
  } finally {
    // Never leave encryption or a write running behind the caller's back.
    await Promise.allSettled([...encrypting, ...writing]);
  }
}
