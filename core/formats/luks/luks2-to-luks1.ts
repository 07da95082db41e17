/**
 * LUKS2 → LUKS1 in place (cryptsetup `LUKS2_luks2_to_luks1`; docs/spec/luks1.md §1–§3): possible
 * only when every keyslot is one LUKS1 can hold — PBKDF2 with the digest's hash, 4000 stripes,
 * the data cipher, a LUKS1-sized area, id below 8 — with one 512-byte-sector segment, one
 * PBKDF2 digest and no tokens. Inactive LUKS1 slots get placeholder areas in the gaps, as
 * cryptsetup allocates them. The keyslots area moves 28 KiB down to sector 8, then the first
 * 4 KiB become the LUKS1 header.
 */
import { fail } from '../../api/errors.js';
import { parseHashName } from '../../crypto/hash.js';
import type { HeaderIO } from '../encryption.js';
import type { HeaderWrite } from './header-repair.js';
import { readHeaderBytes } from './header-io.js';
import {
  LUKS1_DIGEST_SIZE,
  LUKS1_SLOTS,
  LUKS_SALT_SIZE,
  LUKS_SECTOR,
  LUKS_STRIPES,
  disabledSlot,
  keyMaterialSectors,
  parseLuks1Header,
  serializeLuks1Header,
  type Luks1Header,
} from './luks1-header.js';
import { readWritableLuks2 } from './luks2-keyslots.js';
import type { Luks2Keyslot } from './luks2-metadata.js';
import type { Luks2Volume } from './luks2-volume.js';

const SHIFT = 2 * 16384 - 4096;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

function refuse(why: string): never {
  throw fail('UNSUPPORTED_FEATURE', `Cannot convert to LUKS1: ${why}`);
}

function kdfName(ks: Luks2Keyslot): string {
  const k = ks.kdf;
  return k?.type === 'unknown' ? k.name : (k?.type ?? ks.type);
}

/** Checks what cryptsetup checks (`keyslot_LUKS1_compatible` and friends). */
function compatible(vol: Luks2Volume) {
  const { meta, header } = vol;
  if (header.hdrSize !== 16384) refuse(`the header copies are ${header.hdrSize} bytes, not 16 KiB`);
  if (meta.tokens.length > 0) {
    refuse(
      `the header has ${meta.tokens.length} token(s) (${meta.tokens.map((t) => t.type).join(', ')}); LUKS1 has none`
    );
  }
  if (meta.segments.length !== 1 || meta.segments[0]!.type !== 'crypt') {
    refuse('the volume has more than one data segment');
  }
  const seg = meta.segments[0]!;
  if (seg.sectorSize !== 512) refuse(`the data uses ${seg.sectorSize}-byte sectors (LUKS1: 512)`);
  if (seg.integrity || seg.flags.length > 0) refuse('the data segment uses integrity or flags');
  if (meta.digests.length !== 1 || !meta.digests[0]!.pbkdf2) {
    refuse('the keyslot digests are not LUKS1 compatible');
  }
  const digest = meta.digests[0]!;
  const d = digest.pbkdf2!;
  if (d.salt.length !== LUKS_SALT_SIZE) refuse('the digest salt is not 32 bytes');
  parseHashName(d.hash);
  const dash = seg.encryption.indexOf('-');
  const cipherName = dash < 0 ? seg.encryption : seg.encryption.slice(0, dash);
  const cipherMode = dash < 0 ? '' : seg.encryption.slice(dash + 1);
  if (cipherName.length >= 32 || cipherMode.length >= 32) refuse('the cipher name is too long');
  const users = meta.keyslots;
  const keyBytes = users.find((k) => k.type === 'luks2')?.keySize ?? 0;
  if (keyBytes === 0) refuse('no keyslot holds a passphrase');
  const areaSize = roundUp(keyMaterialSectors(keyBytes) * LUKS_SECTOR, 4096);
  for (const ks of users) {
    const no: (why: string) => never = (why) => refuse(`keyslot ${ks.id} ${why}`);
    if (ks.id >= LUKS1_SLOTS) no('is above 7 (LUKS1 has 8 keyslots)');
    if (ks.type !== 'luks2') no(`is of type ${ks.type}`);
    const kdf = ks.kdf!;
    if (kdf.type !== 'pbkdf2') no(`uses ${kdfName(ks)}; LUKS1 supports only PBKDF2`);
    if (kdf.hash !== d.hash) no(`uses PBKDF2-${kdf.hash}, the digest ${d.hash}`);
    if (kdf.salt.length !== LUKS_SALT_SIZE) no('has a salt that is not 32 bytes');
    if (kdf.iterations > 0xffffffff) no('has too many iterations for LUKS1');
    if (ks.af!.stripes !== LUKS_STRIPES || ks.af!.hash !== d.hash) no('uses a different AF');
    if (ks.area.encryption !== seg.encryption || ks.area.keySize !== keyBytes) {
      no('uses a cipher other than the data cipher');
    }
    if (ks.keySize !== keyBytes) no('has a different key size');
    if (ks.area.size !== areaSize) no('has an area size LUKS1 cannot hold');
    if (ks.area.offset % LUKS_SECTOR !== 0 || ks.area.offset < 2 * 16384) no('area is misplaced');
  }
  return { seg, digest, d, cipherName, cipherMode, keyBytes, areaSize };
}

/** Areas for the inactive LUKS1 slots: first fit, slot by slot (cryptsetup's placeholders). */
function placeholderOffsets(vol: Luks2Volume, areaSize: number): Map<number, number> {
  const used = vol.meta.keyslots.map((k) => ({ offset: k.area.offset, size: k.area.size }));
  const start = 2 * vol.header.hdrSize;
  const end = start + vol.meta.keyslotsSize;
  const out = new Map<number, number>();
  for (let i = 0; i < LUKS1_SLOTS; i++) {
    if (vol.meta.keyslots.some((k) => k.id === i)) continue;
    used.sort((a, b) => a.offset - b.offset);
    let pos = start;
    for (const a of used) {
      if (pos < a.offset && pos + areaSize <= a.offset) break;
      pos = Math.max(pos, a.offset + a.size);
    }
    if (pos + areaSize > end) refuse('there is no room for 8 LUKS1 keyslot areas');
    used.push({ offset: pos, size: areaSize });
    out.set(i, pos);
  }
  return out;
}

/** Plans LUKS2 → LUKS1 (see the module comment). */
export async function luks2ToLuks1(
  io: HeaderIO
): Promise<{ writes: HeaderWrite[]; regionEnd: number; description: string }> {
  const vol = await readWritableLuks2(io);
  const c = compatible(vol);
  const placeholders = placeholderOffsets(vol, c.areaSize);
  const slots = Array.from({ length: LUKS1_SLOTS }, (_, i) => {
    const ks = vol.meta.keyslots.find((k) => k.id === i);
    const offset = ks ? ks.area.offset : placeholders.get(i)!;
    const sector = (offset - SHIFT) / LUKS_SECTOR;
    if (!ks) return disabledSlot(sector);
    const kdf = ks.kdf as { iterations: number; salt: Uint8Array };
    return {
      active: true,
      iterations: kdf.iterations,
      salt: kdf.salt,
      keyOffset: sector,
      stripes: LUKS_STRIPES,
    };
  });
  const payload = c.seg.offset / LUKS_SECTOR;
  if (!Number.isInteger(payload) || payload > 0xffffffff) refuse('the data offset is too large');
  const h1: Luks1Header = {
    cipherName: c.cipherName,
    cipherMode: c.cipherMode,
    hashSpec: c.d.hash,
    payloadOffset: payload,
    keyBytes: c.keyBytes,
    mkDigest: c.d.digest.subarray(0, LUKS1_DIGEST_SIZE),
    mkDigestSalt: c.d.salt,
    mkDigestIterations: c.d.iterations,
    uuid: vol.header.uuid,
    slots,
  };
  const first = new Uint8Array(4096);
  first.set(serializeLuks1Header(h1));
  const keyslotsEnd = 2 * vol.header.hdrSize + vol.meta.keyslotsSize;
  parseLuks1Header(first, keyslotsEnd - SHIFT); // the result must be a valid LUKS1 header
  const moved = await readHeaderBytes(
    io,
    2 * vol.header.hdrSize,
    vol.meta.keyslotsSize,
    'keyslots'
  );
  const active = slots.flatMap((s, i) => (s.active ? [i] : []));
  return {
    writes: [
      { offset: 4096, bytes: moved },
      { offset: 0, bytes: first },
    ],
    regionEnd: keyslotsEnd,
    description: `Converted LUKS2 to LUKS1 (keyslots ${active.join(', ')} kept)`,
  };
}
