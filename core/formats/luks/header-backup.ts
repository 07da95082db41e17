/**
 * LUKS header backups as `cryptsetup luksHeaderBackup` writes them (docs/spec/luks1.md,
 * docs/spec/luks2.md §1; docs/decisions.md "Header backup and restore"):
 *
 * - LUKS1: the header and keyslot areas, from byte 0 to the end of the last key-material area
 *   (highest key offset + ⌈key bytes × 4000 / 512⌉ sectors), zero-padded to a multiple of
 *   4096 bytes; when slot 0's material starts at 4096, bytes 592..4095 are zeroed ("so the
 *   backup cannot contain old signatures"). A restore writes the unpadded span.
 * - LUKS2: both header copies and the keyslots area, `2 × hdr_size + keyslots_size` bytes
 *   (already a multiple of 4096), written back whole.
 *
 * Also the identity of a header (version, UUID, data offset, key size, a fingerprint of the
 * master-key digest) that a restore compares before it writes.
 */
import { fail } from '../../api/errors.js';
import { hash } from '../../crypto/hash.js';
import type { HeaderIO } from '../encryption.js';
import { readHeaderBytes } from './header-io.js';
import { detectLuksVersion } from './inspect.js';
import {
  keyMaterialSectors,
  LUKS1_HEADER_SIZE,
  LUKS_SECTOR,
  parseLuks1Header,
  type Luks1Header,
} from './luks1-header.js';
import { readLuks1Header } from './luks1-unlock.js';
import { needsRepair, readLuks2Volume, headerStateMessage } from './luks2-volume.js';

/** cryptsetup's backup files are padded to its page size (`crypt_getpagesize()`, 4096 here). */
export const BACKUP_ALIGN = 4096;
/** LUKS_ALIGN_KEYSLOTS: where cryptsetup puts slot 0's key material. */
const ALIGN_KEYSLOTS = 4096;

/** What identifies a LUKS header (and so the data it unlocks). */
export interface LuksIdentity {
  version: 1 | 2;
  uuid: string;
  /** Bytes from the start the header and keyslot areas occupy (what a restore writes). */
  span: number;
  /** Where the encrypted data starts, in bytes (0 for a detached header). */
  dataOffset: number;
  /** Master key length in bytes. */
  keyBytes: number;
  /**
   * SHA-256 (hex) of the master-key digest's salt and value: equal for two headers of the same
   * master key, whatever their keyslots. Keyslot changes keep it; a new master key changes it.
   */
  keyFingerprint: string;
  /** Keyslots that hold a passphrase. */
  activeSlots: number[];
  /** Cipher spec, e.g. aes-xts-plain64. */
  cipher: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function fingerprint(salt: Uint8Array, digest: Uint8Array): string {
  return hex(hash('sha256', salt, digest));
}

/** End of the last LUKS1 key-material area, in bytes (cryptsetup `LUKS_device_sectors`). */
export function luks1Span(h: Luks1Header): number {
  const last = Math.max(...h.slots.map((s) => s.keyOffset));
  return (last + keyMaterialSectors(h.keyBytes)) * LUKS_SECTOR;
}

function luks1Identity(h: Luks1Header): LuksIdentity {
  return {
    version: 1,
    uuid: h.uuid,
    span: luks1Span(h),
    dataOffset: h.payloadOffset * LUKS_SECTOR,
    keyBytes: h.keyBytes,
    keyFingerprint: fingerprint(h.mkDigestSalt, h.mkDigest),
    activeSlots: h.slots.flatMap((s, i) => (s.active ? [i] : [])),
    cipher: `${h.cipherName}-${h.cipherMode}`,
  };
}

/**
 * Reads and validates the LUKS header of `io` and returns its identity. A LUKS2 header with a
 * damaged or stale copy is refused (NEEDS_REPAIR): a backup or restore must start from two
 * sound copies. Throws NOT_AN_IMAGE when there is no LUKS header.
 */
export async function readLuksIdentity(io: HeaderIO): Promise<LuksIdentity> {
  if ((await detectLuksVersion(io)) === 1) return luks1Identity(await readLuks1Header(io));
  const vol = await readLuks2Volume(io);
  if (needsRepair(vol.state)) {
    throw fail('NEEDS_REPAIR', `${headerStateMessage(vol.state)} (image-vault header repair)`);
  }
  const { meta, header } = vol;
  const seg = meta.segments.find((s) => s.type === 'crypt') ?? meta.segments[0];
  const digest =
    meta.digests.find((d) => seg !== undefined && d.segments.includes(seg.id)) ?? meta.digests[0];
  const slot = meta.keyslots.find((k) => k.type === 'luks2');
  return {
    version: 2,
    uuid: header.uuid,
    span: 2 * header.hdrSize + meta.keyslotsSize,
    dataOffset: seg?.offset ?? 0,
    keyBytes: slot?.keySize ?? 0,
    keyFingerprint: digest?.pbkdf2
      ? fingerprint(digest.pbkdf2.salt, digest.pbkdf2.digest)
      : `digest-${digest?.id ?? 'none'}`,
    activeSlots: meta.keyslots.filter((k) => k.type === 'luks2').map((k) => k.id),
    cipher: seg?.encryption ?? '',
  };
}

/**
 * The bytes `cryptsetup luksHeaderBackup` would write for the LUKS header of `io` (see the
 * module comment), with the header's identity.
 */
export async function luksHeaderBackup(
  io: HeaderIO
): Promise<{ bytes: Uint8Array; identity: LuksIdentity }> {
  const identity = await readLuksIdentity(io);
  const size = Math.ceil(identity.span / BACKUP_ALIGN) * BACKUP_ALIGN;
  const bytes = new Uint8Array(size);
  bytes.set(await readHeaderBytes(io, 0, identity.span, 'header and keyslot areas'));
  if (identity.version === 1) {
    const h = parseLuks1Header(bytes, bytes.length);
    if (h.slots[0]!.keyOffset * LUKS_SECTOR === ALIGN_KEYSLOTS) {
      bytes.fill(0, LUKS1_HEADER_SIZE, ALIGN_KEYSLOTS);
    }
  }
  return { bytes, identity };
}

/** A read-only `HeaderIO` over bytes in memory (a backup file's contents). */
export function memoryHeaderIO(bytes: Uint8Array): HeaderIO {
  return {
    length: bytes.length,
    read: async (buf, position) => {
      if (position < 0 || position + buf.length > bytes.length) {
        throw fail('TRUNCATED', 'The header backup is shorter than its header says');
      }
      buf.set(bytes.subarray(position, position + buf.length));
    },
    write: () => Promise.reject(fail('INTERNAL', 'A header backup is read-only')),
    flush: () => Promise.resolve(),
  };
}

/**
 * Validates a header backup held in memory (what `cryptsetup luksHeaderRestore` accepts: a
 * LUKS1 or LUKS2 header whose keyslot areas the file holds, checksums included) and returns
 * its identity. LUKS2 backups with mandatory requirements (online reencryption) are refused,
 * as cryptsetup refuses them.
 */
export async function readBackupIdentity(bytes: Uint8Array): Promise<LuksIdentity> {
  const io = memoryHeaderIO(bytes);
  let id: LuksIdentity;
  try {
    id = await readLuksIdentity(io);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw fail('CORRUPT', `The file is not a valid LUKS header backup: ${why}`);
  }
  if (id.version === 2) {
    const { meta } = await readLuks2Volume(io);
    if (meta.requirements.length > 0) {
      throw fail(
        'UNSUPPORTED_FEATURE',
        `The backup carries LUKS2 requirements (${meta.requirements.join(', ')}); it cannot be restored`
      );
    }
  }
  if (id.span > bytes.length) {
    throw fail('TRUNCATED', 'The header backup is shorter than its keyslot areas');
  }
  return id;
}
