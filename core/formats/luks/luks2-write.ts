/**
 * Serialising LUKS2 header copies (docs/spec/luks2.md §2, §5 step 6): binary header with its own
 * salt and hdr_offset, JSON area zero-padded, checksum over both with the checksum zeroed.
 */
import { fail } from '../../api/errors.js';
import { digestSize, hash, parseHashName } from '../../crypto/hash.js';
import { randomBytes } from '../../crypto/random.js';
import type { HeaderIO } from '../encryption.js';
import {
  LUKS2_BINARY_HEADER_SIZE,
  LUKS2_HDR_SIZES,
  LUKS2_PRIMARY_MAGIC as PRIMARY_MAGIC,
  LUKS2_SECONDARY_MAGIC as SECONDARY_MAGIC,
  type Luks2BinaryHeader,
} from './luks2-header.js';

export interface Luks2CopyFields {
  hdrSize: number;
  seqid: bigint;
  label?: string;
  checksumAlg?: string;
  uuid: string;
  subsystem?: string;
  /** JSON text (zero-padded to the area), or `jsonArea`: the area bytes verbatim (repair). */
  json?: string;
  jsonArea?: Uint8Array;
}

function putString(buf: Uint8Array, offset: number, size: number, value: string): void {
  const bytes = new TextEncoder().encode(value);
  if (bytes.length >= size) throw fail('INVALID_ARGUMENT', 'LUKS2 header string too long');
  buf.set(bytes, offset);
}

/** One header copy (`hdrSize` bytes) for placement at `offset` (0 primary, hdrSize secondary). */
export function buildLuks2Copy(f: Luks2CopyFields, offset: number): Uint8Array {
  if (!LUKS2_HDR_SIZES.includes(f.hdrSize))
    throw fail('INVALID_ARGUMENT', 'Invalid LUKS2 header size');
  const json = f.jsonArea ?? new TextEncoder().encode(f.json ?? '');
  const limit = f.hdrSize - LUKS2_BINARY_HEADER_SIZE;
  if (f.jsonArea ? json.length !== limit : json.length >= limit) {
    throw fail('INVALID_ARGUMENT', 'LUKS2 metadata does not fit in the JSON area');
  }
  const out = new Uint8Array(f.hdrSize);
  const dv = new DataView(out.buffer);
  out.set(offset === 0 ? PRIMARY_MAGIC : SECONDARY_MAGIC);
  dv.setUint16(6, 2);
  dv.setBigUint64(8, BigInt(f.hdrSize));
  dv.setBigUint64(16, f.seqid);
  putString(out, 24, 48, f.label ?? '');
  const alg = f.checksumAlg ?? 'sha256';
  putString(out, 72, 32, alg);
  out.set(randomBytes(64), 104);
  putString(out, 168, 40, f.uuid);
  putString(out, 208, 48, f.subsystem ?? '');
  dv.setBigUint64(256, BigInt(offset));
  out.set(json, LUKS2_BINARY_HEADER_SIZE);
  const h = parseHashName(alg);
  const csum = hash(
    h,
    out.subarray(0, LUKS2_BINARY_HEADER_SIZE),
    out.subarray(LUKS2_BINARY_HEADER_SIZE)
  );
  out.set(csum.subarray(0, digestSize(h)), 448);
  return out;
}

/** Writes the primary then the secondary copy, flushing after each (docs/spec/luks2.md §5 step 6). */
export async function writeLuks2Headers(io: HeaderIO, f: Luks2CopyFields): Promise<void> {
  await io.write(buildLuks2Copy(f, 0), 0);
  await io.flush();
  await io.write(buildLuks2Copy(f, f.hdrSize), f.hdrSize);
  await io.flush();
}

/**
 * A copy for `offset` rebuilt from another copy's binary header and JSON area, as cryptsetup's
 * recovery does: same fields and seqid, the magic and hdr_offset of the new place, a fresh
 * salt, the checksum recomputed (docs/spec/luks2.md §2).
 */
export function rebuildLuks2Copy(from: Luks2BinaryHeader, offset: number): Uint8Array {
  const { binary, jsonArea } = from;
  const out = new Uint8Array(LUKS2_BINARY_HEADER_SIZE + jsonArea.length);
  out.set(binary.subarray(0, LUKS2_BINARY_HEADER_SIZE));
  out.set(jsonArea, LUKS2_BINARY_HEADER_SIZE);
  out.set(offset === 0 ? PRIMARY_MAGIC : SECONDARY_MAGIC, 0);
  new DataView(out.buffer).setBigUint64(256, BigInt(offset));
  out.set(randomBytes(64), 104);
  out.fill(0, 448, 512);
  const h = parseHashName(from.checksumAlg);
  const csum = hash(
    h,
    out.subarray(0, LUKS2_BINARY_HEADER_SIZE),
    out.subarray(LUKS2_BINARY_HEADER_SIZE)
  );
  out.set(csum.subarray(0, digestSize(h)), 448);
  return out;
}
