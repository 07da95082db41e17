/**
 * Bit layouts of qcow2 L1/L2/refcount-table entries (docs/spec/qcow2.md §5, §6, §8).
 *
 * Entries are big-endian u64; they are handled as two u32 halves so the hot paths stay on
 * small integers. Host offsets above 2^53 lose precision but are always past the end of any
 * real file, so they are rejected by the bounds checks that follow.
 */

/** Bit 63 (in the high word): refcount is exactly 1. */
export const COPIED_HI = 0x80000000;
/** Bit 62 (in the high word): compressed cluster. */
export const COMPRESSED_HI = 0x40000000;
/** Bit 0 (in the low word): cluster reads as zeros (v3). */
export const ZERO_LO = 1;

/** Reserved bits of an L1 entry: `0x7F000000000001FF` (§5). */
export const L1_RESERVED_HI = 0x7f000000;
export const L1_RESERVED_LO = 0x1ff;
/** Reserved bits of a standard L2 entry: `0x3F000000000001FE` (§5). */
export const L2_RESERVED_HI = 0x3f000000;
export const L2_RESERVED_LO = 0x1fe;

const TWO32 = 4294967296;

/** Host offset in bits 9..55 of an L1/standard L2 entry. */
export function entryOffset(hi: number, lo: number): number {
  return (hi & 0x00ffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
}

/** Reads a big-endian u64 as a JS number (exact below 2^53). */
export function readU64(view: DataView, pos: number): number {
  return view.getUint32(pos) * TWO32 + view.getUint32(pos + 4);
}

/** Writes a non-negative integer below 2^53 as a big-endian u64. */
export function writeU64(view: DataView, pos: number, value: number): void {
  view.setUint32(pos, Math.floor(value / TWO32));
  view.setUint32(pos + 4, value >>> 0);
}

/** Compressed-cluster descriptor (§6): byte offset and bytes to read. */
export interface CompressedRef {
  offset: number;
  length: number;
}

/** Decodes bits 0..61 of a compressed L2 entry for the given cluster_bits (§6). */
export function decodeCompressed(hi: number, lo: number, clusterBits: number): CompressedRef {
  const entry = (BigInt(hi & 0x3fffffff) << 32n) | BigInt(lo >>> 0);
  const x = BigInt(62 - (clusterBits - 8));
  const offset = Number(entry & ((1n << x) - 1n));
  const nsect = Number((entry >> x) & ((1n << BigInt(clusterBits - 8)) - 1n)) + 1;
  return { offset, length: nsect * 512 - (offset % 512) };
}

/** Refcount entry accessors for widths 1..64 bits (§8; sub-byte widths packed LSB first). */
export function getRefcount(block: Uint8Array, index: number, bits: number): number {
  switch (bits) {
    case 1:
    case 2:
    case 4: {
      const perByte = 8 / bits;
      const byte = block[Math.floor(index / perByte)] ?? 0;
      return (byte >> ((index % perByte) * bits)) & ((1 << bits) - 1);
    }
    case 8:
      return block[index] ?? 0;
    case 16:
      return ((block[index * 2] ?? 0) << 8) | (block[index * 2 + 1] ?? 0);
    case 32:
      return new DataView(block.buffer, block.byteOffset).getUint32(index * 4);
    default: {
      const v = new DataView(block.buffer, block.byteOffset);
      return readU64(v, index * 8);
    }
  }
}
