/**
 * LUKS2 binary headers: read both copies, verify checksums, pick the current one
 * (spec/luks2.md §1–§2).
 */
import { fail, isVaultError, VaultError } from '../../api/errors.js';
import { digestSize, hash, parseHashName } from '../../crypto/hash.js';
import type { HeaderIO } from '../encryption.js';

export const LUKS2_BINARY_HEADER_SIZE = 4096;
/** Allowed hdr_size values: 16 KiB .. 4 MiB, powers of two (luks2.md §1). */
export const LUKS2_HDR_SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096].map((k) => k * 1024);
const PRIMARY_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe];
const SECONDARY_MAGIC = [0x53, 0x4b, 0x55, 0x4c, 0xba, 0xbe];

export interface Luks2BinaryHeader {
  hdrSize: number;
  seqid: bigint;
  label: string;
  checksumAlg: string;
  uuid: string;
  subsystem: string;
  hdrOffset: number;
  /** The JSON text (up to its NUL). */
  json: string;
}

function cString(buf: Uint8Array, offset: number, size: number, what: string): string {
  const field = buf.subarray(offset, offset + size);
  const nul = field.indexOf(0);
  if (nul < 0) throw fail('CORRUPT', `LUKS2 header ${what} is not NUL-terminated`);
  return new TextDecoder('utf-8', { fatal: false }).decode(field.subarray(0, nul));
}

function hasMagic(buf: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => buf[i] === b);
}

/** Reads and verifies one header copy at `offset` (luks2.md §2). Throws on any defect. */
export async function readLuks2Copy(io: HeaderIO, offset: number): Promise<Luks2BinaryHeader> {
  if (offset + LUKS2_BINARY_HEADER_SIZE > io.length) {
    throw fail('TRUNCATED', `LUKS2 header at ${offset} lies beyond the end of the device`);
  }
  const bin = new Uint8Array(LUKS2_BINARY_HEADER_SIZE);
  await io.read(bin, offset);
  const magic = offset === 0 ? PRIMARY_MAGIC : SECONDARY_MAGIC;
  if (!hasMagic(bin, magic)) throw fail('NOT_AN_IMAGE', `No LUKS2 header at offset ${offset}`);
  const dv = new DataView(bin.buffer);
  const version = dv.getUint16(6);
  if (version !== 2) throw fail('CORRUPT', `LUKS2 header at ${offset} has version ${version}`);
  const hdrSize = Number(dv.getBigUint64(8));
  if (!LUKS2_HDR_SIZES.includes(hdrSize)) {
    throw fail('CORRUPT', `LUKS2 header size ${hdrSize} is not an allowed value`);
  }
  const hdrOffset = dv.getBigUint64(256);
  if (hdrOffset !== BigInt(offset)) {
    throw fail('CORRUPT', `LUKS2 header at ${offset} claims to be at ${hdrOffset}`);
  }
  if (offset + hdrSize > io.length) {
    throw fail('TRUNCATED', `LUKS2 header at ${offset} extends beyond the end of the device`);
  }
  const checksumAlg = cString(bin, 72, 32, 'checksum algorithm');
  const csumHash = parseHashName(checksumAlg);
  const jsonArea = new Uint8Array(hdrSize - LUKS2_BINARY_HEADER_SIZE);
  await io.read(jsonArea, offset + LUKS2_BINARY_HEADER_SIZE);
  const stored = bin.slice(448, 448 + 64);
  const zeroed = bin.slice();
  zeroed.fill(0, 448, 448 + 64);
  const computed = hash(csumHash, zeroed, jsonArea);
  const n = digestSize(csumHash);
  for (let i = 0; i < n; i++) {
    if (computed[i] !== stored[i])
      throw fail('CORRUPT', `LUKS2 header at ${offset} has a bad checksum`);
  }
  const nul = jsonArea.indexOf(0);
  if (nul < 0) throw fail('CORRUPT', 'LUKS2 JSON area is not NUL-terminated');
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(jsonArea.subarray(0, nul));
  } catch (e) {
    throw fail('CORRUPT', 'LUKS2 JSON area is not valid UTF-8', e);
  }
  return {
    hdrSize,
    seqid: dv.getBigUint64(16),
    label: cString(bin, 24, 48, 'label'),
    checksumAlg,
    uuid: cString(bin, 168, 40, 'UUID'),
    subsystem: cString(bin, 208, 48, 'subsystem'),
    hdrOffset: offset,
    json,
  };
}

/**
 * Reads both header copies and returns the valid one with the highest seqid (luks2.md §2).
 * When the primary is damaged the secondary is searched at the standard offsets.
 */
export async function readLuks2Header(io: HeaderIO): Promise<Luks2BinaryHeader> {
  let primary: Luks2BinaryHeader | undefined;
  let firstError: VaultError | undefined;
  const remember = (e: unknown): void => {
    if (!isVaultError(e)) throw e;
    firstError ??= e;
  };
  try {
    primary = await readLuks2Copy(io, 0);
  } catch (e) {
    remember(e);
  }
  let secondary: Luks2BinaryHeader | undefined;
  const candidates = primary ? [primary.hdrSize] : LUKS2_HDR_SIZES;
  for (const off of candidates) {
    if (off + LUKS2_BINARY_HEADER_SIZE > io.length) break;
    try {
      secondary = await readLuks2Copy(io, off);
      break;
    } catch (e) {
      if (primary) remember(e);
    }
  }
  if (primary && secondary) return secondary.seqid > primary.seqid ? secondary : primary;
  const chosen = primary ?? secondary;
  if (chosen) return chosen;
  throw firstError ?? fail('CORRUPT', 'No valid LUKS2 header found');
}
