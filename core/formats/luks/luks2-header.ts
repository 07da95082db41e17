/**
 * LUKS2 binary header copies (docs/spec/luks2.md §1–§2): read one copy, check it the way
 * cryptsetup does before trusting it (`luks2_disk_metadata.c`: magic, version, hdr_offset,
 * hdr_size, then the checksum over the binary header and the whole JSON area), and say which
 * defect a damaged copy has.
 */
import { fail } from '../../api/errors.js';
import { digestSize, hash, parseHashName } from '../../crypto/hash.js';
import type { HeaderIO } from '../encryption.js';

export const LUKS2_BINARY_HEADER_SIZE = 4096;
/** Allowed hdr_size values: 16 KiB .. 4 MiB, powers of two (docs/spec/luks2.md §1). */
export const LUKS2_HDR_SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096].map((k) => k * 1024);
/** Where the secondary copy may lie when the primary cannot tell (docs/spec/luks2.md §1). */
export const LUKS2_SECONDARY_OFFSETS = LUKS2_HDR_SIZES;
export const LUKS2_PRIMARY_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe];
export const LUKS2_SECONDARY_MAGIC = [0x53, 0x4b, 0x55, 0x4c, 0xba, 0xbe];
const MIN_HDR_SIZE = 16 * 1024;
const MAX_HDR_SIZE = 4 * 1024 * 1024;

export interface Luks2BinaryHeader {
  hdrSize: number;
  seqid: bigint;
  label: string;
  checksumAlg: string;
  uuid: string;
  subsystem: string;
  /** Where this copy was read (0 primary, hdr_size secondary). */
  hdrOffset: number;
  /** The 4096-byte binary header as stored. */
  binary: Uint8Array;
  /** The whole JSON area, exactly as stored (repair copies it verbatim, as cryptsetup does). */
  jsonArea: Uint8Array;
}

/** How far a copy got before it failed: `checksum` and `json` mean the copy was found. */
export type Luks2CopyStage = 'absent' | 'checksum' | 'json';

/** A copy that could not be used, with the stage it failed at. */
export class Luks2CopyError extends Error {
  constructor(
    readonly stage: Luks2CopyStage,
    readonly error: Error
  ) {
    super(error.message);
  }
}

/** A NUL-padded text field; like cryptsetup, an unterminated one is cut at its last byte. */
function cString(buf: Uint8Array, offset: number, size: number): string {
  const field = buf.subarray(offset, offset + size - 1);
  const nul = field.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(
    nul < 0 ? field : field.subarray(0, nul)
  );
}

export function hasMagic(buf: Uint8Array, magic: number[], at = 0): boolean {
  return magic.every((b, i) => buf[at + i] === b);
}

const where = (offset: number) => (offset === 0 ? 'primary' : `secondary (at ${offset})`);

/**
 * Reads one copy at `offset` and verifies it (docs/spec/luks2.md §2). Throws `Luks2CopyError` with the
 * stage reached: `absent` (no such header there), `checksum` (found, but damaged).
 */
export async function readLuks2Copy(io: HeaderIO, offset: number): Promise<Luks2BinaryHeader> {
  const absent = (code: 'NOT_AN_IMAGE' | 'TRUNCATED' | 'CORRUPT', msg: string) =>
    new Luks2CopyError('absent', fail(code, msg));
  const damaged = (msg: string) => new Luks2CopyError('checksum', fail('CORRUPT', msg));
  if (offset + LUKS2_BINARY_HEADER_SIZE > io.length) {
    throw absent(
      'TRUNCATED',
      `The LUKS2 ${where(offset)} header lies beyond the end of the device`
    );
  }
  const bin = new Uint8Array(LUKS2_BINARY_HEADER_SIZE);
  await io.read(bin, offset);
  const secondary = offset !== 0;
  if (!hasMagic(bin, secondary ? LUKS2_SECONDARY_MAGIC : LUKS2_PRIMARY_MAGIC)) {
    throw absent('NOT_AN_IMAGE', `No LUKS2 ${where(offset)} header (bad magic)`);
  }
  const dv = new DataView(bin.buffer);
  const version = dv.getUint16(6);
  if (version !== 2) {
    throw absent('CORRUPT', `The LUKS2 ${where(offset)} header has version ${version}`);
  }
  const hdrOffset = dv.getBigUint64(256);
  if (hdrOffset !== BigInt(offset)) {
    throw absent('CORRUPT', `The LUKS2 ${where(offset)} header claims to be at ${hdrOffset}`);
  }
  const hdrSizeBig = dv.getBigUint64(8);
  if (hdrSizeBig < MIN_HDR_SIZE || hdrSizeBig > MAX_HDR_SIZE) {
    throw absent('CORRUPT', `The LUKS2 ${where(offset)} header has a bogus size ${hdrSizeBig}`);
  }
  const hdrSize = Number(hdrSizeBig);
  if (secondary && hdrSize !== offset) {
    throw absent('CORRUPT', `The LUKS2 secondary header size ${hdrSize} does not match its offset`);
  }
  if (offset + hdrSize > io.length) {
    throw absent(
      'TRUNCATED',
      `The LUKS2 ${where(offset)} header extends beyond the end of the device`
    );
  }
  const checksumAlg = cString(bin, 72, 32);
  let csumHash;
  try {
    csumHash = parseHashName(checksumAlg);
  } catch (e) {
    throw damaged(`The LUKS2 ${where(offset)} header checksum: ${(e as Error).message}`);
  }
  const jsonArea = new Uint8Array(hdrSize - LUKS2_BINARY_HEADER_SIZE);
  await io.read(jsonArea, offset + LUKS2_BINARY_HEADER_SIZE);
  const zeroed = bin.slice();
  zeroed.fill(0, 448, 448 + 64);
  const computed = hash(csumHash, zeroed, jsonArea);
  const n = digestSize(csumHash);
  for (let i = 0; i < n; i++) {
    if (computed[i] !== bin[448 + i]) {
      throw damaged(`The LUKS2 ${where(offset)} header has a bad checksum`);
    }
  }
  return {
    hdrSize,
    seqid: dv.getBigUint64(16),
    label: cString(bin, 24, 48),
    checksumAlg,
    uuid: cString(bin, 168, 40),
    subsystem: cString(bin, 208, 48),
    hdrOffset: offset,
    binary: bin,
    jsonArea,
  };
}

/**
 * Whether `bin` (at least 264 bytes read at device offset `offset`) starts a LUKS2 secondary
 * header: magic, version 2 and its own offset recorded. Probing the standard offsets this way
 * is how cryptsetup still finds a LUKS2 volume whose primary header is destroyed.
 */
export function isLuks2SecondaryAt(bin: Uint8Array, offset: number): boolean {
  if (bin.length < 264 || !hasMagic(bin, LUKS2_SECONDARY_MAGIC)) return false;
  const dv = new DataView(bin.buffer, bin.byteOffset, 264);
  return dv.getUint16(6) === 2 && dv.getBigUint64(256) === BigInt(offset);
}
