/**
 * The small interface through which a container (qcow2, raw) reaches an encryption scheme
 * (LUKS, legacy AES) without knowing it — the shape of QEMU's `QCryptoBlock` read/init/write
 * callbacks (`include/crypto/block.h`). The cipher interfaces themselves live in
 * core/crypto/data-cipher.ts (crypto implements them; formats use them).
 */
import type { DataCipher } from '../crypto/data-cipher.js';

/** Access to the bytes of an embedded encryption header (e.g. qcow2's LUKS region). */
export interface HeaderIO {
  /** Length of the region in bytes (reads and writes beyond it are refused). */
  readonly length: number;
  read(buf: Uint8Array, position: number): Promise<void>;
  write(buf: Uint8Array, position: number): Promise<void>;
  flush(): Promise<void>;
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
      observed(
        cipher.encrypt(data.subarray(off, Math.min(data.length, off + slice)), ivSector + off / 512)
      )
    );
  };
  try {
    for (let d = 0; d < PIPELINE_DEPTH; d++) startEncrypt();
    for (const off of offsets) {
      const enc = await (encrypting.shift() as Promise<Uint8Array>);
      startEncrypt();
      if (writing.length >= PIPELINE_DEPTH) await writing.shift();
      writing.push(observed(write(enc, off)));
    }
    while (writing.length > 0) await writing.shift();
  } finally {
    // Never leave encryption or a write running behind the caller's back.
    await Promise.allSettled([...encrypting, ...writing]);
  }
}

/**
 * Marks a promise as observed so that its rejection while the pipeline awaits another one is
 * not an unhandled rejection (which kills `serve` and prints a stack trace in the CLI, issue
 * #13); the promise itself still rejects where it is awaited.
 */
function observed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
