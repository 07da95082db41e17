/**
 * In-place LUKS1 ↔ LUKS2 conversion, as `cryptsetup convert --type` does it
 * (`lib/luks2/luks2_luks1_convert.c`; docs/spec/luks1.md §1–§3, docs/spec/luks2.md §1–§3): the keyslot
 * material moves by 28 KiB (LUKS1 areas start at 4 KiB, LUKS2 areas after two 16 KiB header
 * copies) and the header is rewritten; the volume key, keyslots, passphrases and data stay.
 * Where a header cannot be expressed in the other version (argon2 keyslots, tokens, 4096-byte
 * sectors, more than 8 keyslots, a layout with no room to move) it is refused, naming why,
 * before anything is written. The caller applies the writes in order (journaled).
 */
import { fail } from '../../api/errors.js';
import { parseLuksCipher } from '../../crypto/cipher-spec.js';
import type { HeaderIO } from '../encryption.js';
import type { HeaderWrite } from './header-repair.js';
import { readHeaderBytes } from './header-io.js';
import { luks2ToLuks1 } from './luks2-to-luks1.js';
import { LUKS_SECTOR, LUKS_STRIPES, keyMaterialSectors, type Luks1Header } from './luks1-header.js';
import { readLuks1Header } from './luks1-unlock.js';
import { parseLuks2Metadata } from './luks2-metadata.js';
import { buildLuks2Copy } from './luks2-write.js';

/** LUKS1 keyslot areas start at sector 8; LUKS2's after two 16 KiB copies (28 KiB later). */
export const LUKS1_KEYSLOTS_OFFSET = 4096;
export const LUKS2_CONVERT_HDR_SIZE = 16384;
export const CONVERT_SHIFT = 2 * LUKS2_CONVERT_HDR_SIZE - LUKS1_KEYSLOTS_OFFSET;
const LUKSMETA_MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0x4d, 0x45, 0x54, 0x41]; // "LUKSMETA"
const MAX_KEYSLOTS_SIZE = 128 * 1024 * 1024;

export interface ConvertPlan {
  writes: HeaderWrite[];
  /** Bytes of the device the writes (and their journal) cover: [0, regionEnd). */
  regionEnd: number;
  description: string;
}

function refuse(why: string): never {
  throw fail('UNSUPPORTED_FEATURE', `Cannot convert to LUKS2: ${why}`);
}

const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Bytes of the LUKS1 header with its key areas, rounded to 4 KiB (cryptsetup `luks1_size`). */
function luks1Size(h: Luks1Header): number {
  const km = keyMaterialSectors(h.keyBytes);
  const end = Math.max(...h.slots.map((s) => s.keyOffset + km));
  return roundUp(end * LUKS_SECTOR, 4096);
}

/** The LUKS2 JSON describing a LUKS1 header whose areas moved by CONVERT_SHIFT. */
function luks2JsonFor(h: Luks1Header, keyslotsSize: number): string {
  const encryption = h.cipherMode ? `${h.cipherName}-${h.cipherMode}` : h.cipherName;
  const areaSize = roundUp(keyMaterialSectors(h.keyBytes) * LUKS_SECTOR, 4096);
  const keyslots: Record<string, unknown> = {};
  const active: string[] = [];
  h.slots.forEach((s, i) => {
    if (!s.active) return;
    active.push(String(i));
    keyslots[String(i)] = {
      type: 'luks2',
      key_size: h.keyBytes,
      kdf: { type: 'pbkdf2', hash: h.hashSpec, iterations: s.iterations, salt: b64(s.salt) },
      af: { type: 'luks1', hash: h.hashSpec, stripes: LUKS_STRIPES },
      area: {
        type: 'raw',
        encryption,
        key_size: h.keyBytes,
        offset: String(s.keyOffset * LUKS_SECTOR + CONVERT_SHIFT),
        size: String(areaSize),
      },
    };
  });
  return JSON.stringify({
    keyslots,
    tokens: {},
    segments: {
      '0': {
        type: 'crypt',
        offset: String(h.payloadOffset * LUKS_SECTOR),
        size: 'dynamic',
        iv_tweak: '0',
        encryption,
        sector_size: 512,
      },
    },
    digests: {
      '0': {
        type: 'pbkdf2',
        keyslots: active,
        segments: ['0'],
        hash: h.hashSpec,
        iterations: h.mkDigestIterations,
        salt: b64(h.mkDigestSalt),
        digest: b64(h.mkDigest.subarray(0, 20)),
      },
    },
    config: {
      json_size: String(LUKS2_CONVERT_HDR_SIZE - 4096),
      keyslots_size: String(keyslotsSize),
    },
  });
}

/** Plans LUKS1 → LUKS2 (cryptsetup `LUKS2_luks1_to_luks2`). */
async function luks1ToLuks2(io: HeaderIO): Promise<ConvertPlan> {
  const h = await readLuks1Header(io);
  parseLuksCipher(h.cipherName, h.cipherMode, h.keyBytes);
  if (h.payloadOffset === 0) refuse('detached LUKS1 headers are not supported');
  const first = Math.min(...h.slots.map((s) => s.keyOffset));
  if (first * LUKS_SECTOR !== LUKS1_KEYSLOTS_OFFSET) {
    refuse(`the key material starts at sector ${first}, not 8 (an old LUKS1 layout)`);
  }
  const size = luks1Size(h);
  const dataOffset = h.payloadOffset * LUKS_SECTOR;
  const required = size + CONVERT_SHIFT;
  if (required > dataOffset) {
    refuse(
      `the keyslots need ${required} bytes before the data, which starts at ${dataOffset} (no room to move them)`
    );
  }
  if (size + LUKSMETA_MAGIC.length <= io.length) {
    const tail = await readHeaderBytes(io, size, LUKSMETA_MAGIC.length, 'header');
    if (LUKSMETA_MAGIC.every((b, i) => tail[i] === b)) refuse('the header carries LUKSMETA data');
  }
  const keyslotsSize = Math.floor((dataOffset - 2 * LUKS2_CONVERT_HDR_SIZE) / 4096) * 4096;
  if (keyslotsSize > MAX_KEYSLOTS_SIZE) {
    refuse('the data offset is too large for a LUKS2 keyslots area (over 128 MiB)');
  }
  const json = luks2JsonFor(h, keyslotsSize);
  // The metadata must be valid before anything moves.
  parseLuks2Metadata(json, LUKS2_CONVERT_HDR_SIZE);
  const moved = await readHeaderBytes(
    io,
    LUKS1_KEYSLOTS_OFFSET,
    size - LUKS1_KEYSLOTS_OFFSET,
    'keyslots'
  );
  // seqid 2: cryptsetup builds the header as generation 1 and its write increments it.
  const fields = { hdrSize: LUKS2_CONVERT_HDR_SIZE, seqid: 2n, uuid: h.uuid, json };
  return {
    writes: [
      { offset: 2 * LUKS2_CONVERT_HDR_SIZE, bytes: moved },
      { offset: 0, bytes: buildLuks2Copy(fields, 0) },
      { offset: LUKS2_CONVERT_HDR_SIZE, bytes: buildLuks2Copy(fields, LUKS2_CONVERT_HDR_SIZE) },
    ],
    regionEnd: required,
    description: `Converted LUKS1 to LUKS2 (keyslots ${h.slots
      .flatMap((s, i) => (s.active ? [i] : []))
      .join(', ')} kept)`,
  };
}

/**
 * Plans an in-place conversion of the LUKS header on `io` to `version`; throws
 * UNSUPPORTED_FEATURE naming why when it cannot be done (nothing written), INVALID_ARGUMENT
 * when it already is that version.
 */
export async function planLuksConvert(io: HeaderIO, from: 1 | 2, to: 1 | 2): Promise<ConvertPlan> {
  if (from === to) throw fail('INVALID_ARGUMENT', `The header already is LUKS${to}`);
  return to === 2 ? luks1ToLuks2(io) : luks2ToLuks1(io);
}
