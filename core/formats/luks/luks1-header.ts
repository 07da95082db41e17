/**
 * LUKS1 on-disk header: parse, validate and serialise (docs/spec/luks1.md §1–§3).
 *
 * Every field that sizes an allocation or a read is checked here before anyone uses it, the
 * way cryptsetup and QEMU validate headers.
 */
import { fail } from '../../api/errors.js';

/** "LUKS\xba\xbe" (docs/spec/luks1.md §1). */
export const LUKS_MAGIC = new Uint8Array([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
/** Size of the LUKS1 header structure in bytes (docs/spec/luks1.md §1). */
export const LUKS1_HEADER_SIZE = 592;
export const LUKS_SECTOR = 512;
export const LUKS1_SLOTS = 8;
export const SLOT_ENABLED = 0x00ac71f3;
export const SLOT_DISABLED = 0x0000dead;
export const LUKS_STRIPES = 4000;
export const LUKS_SALT_SIZE = 32;
export const LUKS1_DIGEST_SIZE = 20;
/**
 * Key material areas written today are aligned to 8 sectors, the first at sector 8 (docs/spec/luks1.md
 * §1); reading accepts any offset past the header, as cryptsetup does.
 */
export const KEY_AREA_ALIGN_SECTORS = 8;
export const MIN_ITERATIONS = 1000;
/** Upper bound on key_bytes accepted before anything is allocated (docs/spec/luks1.md §3). */
export const MAX_KEY_BYTES = 128;

export interface Luks1Keyslot {
  active: boolean;
  iterations: number;
  salt: Uint8Array;
  /** Key material offset in 512-byte sectors. */
  keyOffset: number;
  stripes: number;
}

export interface Luks1Header {
  cipherName: string;
  cipherMode: string;
  hashSpec: string;
  /** Payload offset in 512-byte sectors (0 = detached header). */
  payloadOffset: number;
  keyBytes: number;
  mkDigest: Uint8Array;
  mkDigestSalt: Uint8Array;
  mkDigestIterations: number;
  uuid: string;
  slots: Luks1Keyslot[];
}

/** Sectors of AF-split key material for a key of `keyBytes` (docs/spec/luks1.md §3). */
export function keyMaterialSectors(keyBytes: number, stripes = LUKS_STRIPES): number {
  return Math.ceil((keyBytes * stripes) / LUKS_SECTOR);
}

/** Slot geometry both tools use (docs/spec/luks1.md §3): key offsets and the end of slot 7's area. */
export function luks1Geometry(keyBytes: number): { keyOffsets: number[]; headerSectors: number } {
  const km = keyMaterialSectors(keyBytes);
  const stride = Math.ceil(km / KEY_AREA_ALIGN_SECTORS) * KEY_AREA_ALIGN_SECTORS;
  const keyOffsets = Array.from(
    { length: LUKS1_SLOTS },
    (_, i) => KEY_AREA_ALIGN_SECTORS + i * stride
  );
  return { keyOffsets, headerSectors: KEY_AREA_ALIGN_SECTORS + LUKS1_SLOTS * stride };
}

function startsWithMagic(buf: Uint8Array): boolean {
  return LUKS_MAGIC.every((b, i) => buf[i] === b);
}

/** Reads a NUL-padded string field; a field without a NUL is corrupt (QEMU checks). */
function readCString(buf: Uint8Array, offset: number, size: number, what: string): string {
  const field = buf.subarray(offset, offset + size);
  const nul = field.indexOf(0);
  if (nul < 0) throw fail('CORRUPT', `LUKS header ${what} is not NUL-terminated`);
  const bytes = field.subarray(0, nul);
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e) throw fail('CORRUPT', `LUKS header ${what} is not printable ASCII`);
  }
  return String.fromCharCode(...bytes);
}

function writeCString(buf: Uint8Array, offset: number, size: number, value: string): void {
  if (value.length >= size) throw fail('INVALID_ARGUMENT', `LUKS header string too long: ${value}`);
  for (let i = 0; i < value.length; i++) buf[offset + i] = value.charCodeAt(i) & 0x7f;
}

/** LUKS version at offset 6 if `buf` starts with the LUKS magic, else undefined. */
export function luksVersionOf(buf: Uint8Array): number | undefined {
  if (buf.length < 8 || !startsWithMagic(buf)) return undefined;
  return (buf[6]! << 8) | buf[7]!;
}

/**
 * Parses and validates a LUKS1 header (docs/spec/luks1.md §2, validation rules of §3).
 * `regionLength` is the number of bytes readable behind the header (HeaderIO length or device
 * size); every key area must lie inside it.
 */
export function parseLuks1Header(buf: Uint8Array, regionLength: number): Luks1Header {
  if (buf.length < LUKS1_HEADER_SIZE) throw fail('TRUNCATED', 'The LUKS header is truncated');
  if (!startsWithMagic(buf)) throw fail('NOT_AN_IMAGE', 'No LUKS header (bad magic)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint16(6);
  if (version !== 1) throw fail('CORRUPT', `Expected a LUKS1 header, found version ${version}`);
  const cipherName = readCString(buf, 8, 32, 'cipher name');
  const cipherMode = readCString(buf, 40, 32, 'cipher mode');
  const hashSpec = readCString(buf, 72, 32, 'hash spec');
  const uuid = readCString(buf, 168, 40, 'UUID');
  const payloadOffset = dv.getUint32(104);
  const keyBytes = dv.getUint32(108);
  if (keyBytes === 0 || keyBytes > MAX_KEY_BYTES) {
    throw fail('CORRUPT', `LUKS header has an invalid key size (${keyBytes} bytes)`);
  }
  const mkDigestIterations = dv.getUint32(164);
  if (mkDigestIterations === 0) throw fail('CORRUPT', 'LUKS master key digest has 0 iterations');
  const km = keyMaterialSectors(keyBytes);
  const slots: Luks1Keyslot[] = [];
  for (let i = 0; i < LUKS1_SLOTS; i++) {
    const o = 208 + 48 * i;
    const marker = dv.getUint32(o);
    if (marker !== SLOT_ENABLED && marker !== SLOT_DISABLED) {
      throw fail('CORRUPT', `LUKS keyslot ${i} has an invalid state marker`);
    }
    const slot: Luks1Keyslot = {
      active: marker === SLOT_ENABLED,
      iterations: dv.getUint32(o + 4),
      salt: buf.slice(o + 8, o + 40),
      keyOffset: dv.getUint32(o + 40),
      stripes: dv.getUint32(o + 44),
    };
    if (slot.stripes !== LUKS_STRIPES) {
      throw fail('CORRUPT', `LUKS keyslot ${i} has ${slot.stripes} stripes (must be 4000)`);
    }
    if (slot.active && slot.iterations === 0) {
      throw fail('CORRUPT', `LUKS keyslot ${i} is active but has 0 iterations`);
    }
    // cryptsetup accepts any layout whose key material starts after the 592-byte header:
    // its 1.0 releases put slot 0 right after it (sector 2), without 4 KiB alignment.
    if (slot.keyOffset * LUKS_SECTOR < LUKS1_HEADER_SIZE) {
      throw fail('CORRUPT', `LUKS keyslot ${i} key material overlaps the header`);
    }
    if (payloadOffset !== 0 && slot.keyOffset + km > payloadOffset) {
      throw fail('CORRUPT', `LUKS keyslot ${i} key material overlaps the payload`);
    }
    if ((slot.keyOffset + km) * LUKS_SECTOR > regionLength) {
      throw fail('TRUNCATED', `LUKS keyslot ${i} key material lies beyond the end of the header`);
    }
    slots.push(slot);
  }
  const order = [...slots.keys()].sort((a, b) => slots[a]!.keyOffset - slots[b]!.keyOffset);
  for (let i = 1; i < order.length; i++) {
    const [p, n] = [order[i - 1]!, order[i]!];
    if (slots[p]!.keyOffset + km > slots[n]!.keyOffset) {
      throw fail(
        'CORRUPT',
        `LUKS keyslots ${Math.min(p, n)} and ${Math.max(p, n)} key material overlap`
      );
    }
  }
  return {
    cipherName,
    cipherMode,
    hashSpec,
    payloadOffset,
    keyBytes,
    mkDigest: buf.slice(112, 132),
    mkDigestSalt: buf.slice(132, 164),
    mkDigestIterations,
    uuid,
    slots,
  };
}

/** Serialises the 592-byte LUKS1 header (docs/spec/luks1.md §2). */
export function serializeLuks1Header(h: Luks1Header): Uint8Array {
  const buf = new Uint8Array(LUKS1_HEADER_SIZE);
  const dv = new DataView(buf.buffer);
  buf.set(LUKS_MAGIC, 0);
  dv.setUint16(6, 1);
  writeCString(buf, 8, 32, h.cipherName);
  writeCString(buf, 40, 32, h.cipherMode);
  writeCString(buf, 72, 32, h.hashSpec);
  dv.setUint32(104, h.payloadOffset);
  dv.setUint32(108, h.keyBytes);
  buf.set(h.mkDigest.subarray(0, LUKS1_DIGEST_SIZE), 112);
  buf.set(h.mkDigestSalt.subarray(0, LUKS_SALT_SIZE), 132);
  dv.setUint32(164, h.mkDigestIterations);
  writeCString(buf, 168, 40, h.uuid);
  h.slots.forEach((s, i) => {
    const o = 208 + 48 * i;
    dv.setUint32(o, s.active ? SLOT_ENABLED : SLOT_DISABLED);
    dv.setUint32(o + 4, s.active ? s.iterations : 0);
    if (s.active) buf.set(s.salt.subarray(0, LUKS_SALT_SIZE), o + 8);
    dv.setUint32(o + 40, s.keyOffset);
    dv.setUint32(o + 44, s.stripes);
  });
  return buf;
}

/** A disabled slot as both tools write it: offset kept, stripes 4000, zero salt/iterations. */
export function disabledSlot(keyOffset: number): Luks1Keyslot {
  return {
    active: false,
    iterations: 0,
    salt: new Uint8Array(LUKS_SALT_SIZE),
    keyOffset,
    stripes: LUKS_STRIPES,
  };
}

/** Splits a LUKS1 mode string `<block>-<ivgen>[:<hash>]` (docs/spec/luks1.md §4) for display. */
export function splitCipherMode(mode: string): {
  blockMode: string;
  ivgen: string;
  ivgenHash?: string;
} {
  const dash = mode.indexOf('-');
  if (dash < 0) return { blockMode: mode, ivgen: 'none' };
  const rest = mode.slice(dash + 1);
  const colon = rest.indexOf(':');
  if (colon < 0) return { blockMode: mode.slice(0, dash), ivgen: rest };
  return {
    blockMode: mode.slice(0, dash),
    ivgen: rest.slice(0, colon),
    ivgenHash: rest.slice(colon + 1),
  };
}
