/**
 * Creating LUKS1 headers and writing keyslots (docs/spec/luks1.md §8–§9, docs/spec/qcow2-luks.md §4).
 *
 * Data-safety order (docs/DESIGN.md): the key material of a slot is written and flushed before the
 * header marks the slot active.
 */
import { fail } from '../../api/errors.js';
import { parseLuksCipher, parseUserCipher } from '../../crypto/cipher-spec.js';
import { parseHashName, type HashName } from '../../crypto/hash.js';
import { calibratePbkdf2Iterations, deriveKey, sealKey } from '../../crypto/kdf-client.js';
import { randomBytes, randomUuid } from '../../crypto/random.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import {
  LUKS1_DIGEST_SIZE,
  LUKS_SALT_SIZE,
  LUKS_SECTOR,
  LUKS_STRIPES,
  MIN_ITERATIONS,
  disabledSlot,
  keyMaterialSectors,
  luks1Geometry,
  serializeLuks1Header,
  type Luks1Header,
} from './luks1-header.js';
import type { Luks1Volume } from './luks1-unlock.js';
import { makeUnlocked, type LuksCreateOptions, type UnlockedLuks } from './unlocked.js';

const DEFAULT_CIPHER = 'aes-256-xts-plain64';
const DEFAULT_HASH = 'sha256';
const DEFAULT_ITER_TIME_MS = 2000;
/** cryptsetup aligns the payload to 1 MiB by default (docs/spec/luks1.md §3). */
const CRYPTSETUP_ALIGN_SECTORS = 2048;

interface ResolvedCreate {
  cipherName: string;
  cipherMode: string;
  keyBytes: number;
  hash: HashName;
}

function resolveCreate(opts: Pick<LuksCreateOptions, 'cipher' | 'hash'>): ResolvedCreate {
  const c = parseUserCipher(opts.cipher ?? DEFAULT_CIPHER);
  const hash = parseHashName(opts.hash ?? DEFAULT_HASH);
  if (c.keyBytes === 24) {
    // QEMU 7.2 aborts on 187.5-sector key material (docs/spec/luks1.md §3 edge case).
    throw fail(
      'UNSUPPORTED_CIPHER',
      'AES-192 is not supported for new LUKS volumes (QEMU cannot open them)'
    );
  }
  return { cipherName: c.cipherName, cipherMode: c.cipherMode, keyBytes: c.keyBytes, hash };
}

/** Payload offset in sectors for a layout (docs/spec/luks1.md §3). */
function payloadSectors(keyBytes: number, layout: LuksCreateOptions['layout']): number {
  const { headerSectors } = luks1Geometry(keyBytes);
  if (layout === 'qemu') return headerSectors;
  return Math.ceil(headerSectors / CRYPTSETUP_ALIGN_SECTORS) * CRYPTSETUP_ALIGN_SECTORS;
}

/**
 * Bytes the LUKS1 header with all 8 key areas needs: payload offset × 512 (docs/spec/luks1.md §3;
 * 2068480 for 64-byte keys with the `qemu` layout, 2 MiB with `cryptsetup`).
 */
export function luksHeaderLength(opts: Partial<LuksCreateOptions> = {}): number {
  const r = resolveCreate(opts);
  return payloadSectors(r.keyBytes, opts.layout ?? 'qemu') * LUKS_SECTOR;
}

/**
 * Slot iterations: forced N → max(N, 1000); else calibrated for iterTimeMs (docs/spec/luks1.md §9) on
 * the KDF worker.
 */
export async function slotIterations(
  hash: HashName,
  keyBytes: number,
  opts: { iterations?: number; iterTimeMs?: number }
): Promise<number> {
  if (opts.iterations !== undefined) {
    if (!Number.isInteger(opts.iterations) || opts.iterations < 1 || opts.iterations > 0xffffffff) {
      throw fail('INVALID_ARGUMENT', 'Iterations must be a positive 32-bit integer');
    }
    return Math.max(opts.iterations, MIN_ITERATIONS);
  }
  const ms = opts.iterTimeMs ?? DEFAULT_ITER_TIME_MS;
  if (!(ms > 0) || ms > 600_000)
    throw fail('INVALID_ARGUMENT', 'Iteration time must be 1..600000 ms');
  const n = await calibratePbkdf2Iterations(hash, keyBytes, ms);
  return Math.min(0xffffffff, Math.max(MIN_ITERATIONS, n));
}

/** Master-key digest iterations as QEMU (1/8 of iter-time) or cryptsetup (125 ms) choose them. */
async function digestIterations(hash: HashName, opts: LuksCreateOptions): Promise<number> {
  if (opts.iterations !== undefined) return MIN_ITERATIONS;
  const ms = opts.iterTimeMs ?? DEFAULT_ITER_TIME_MS;
  const n =
    opts.layout === 'qemu'
      ? Math.floor((await calibratePbkdf2Iterations(hash, LUKS1_DIGEST_SIZE, ms)) / 8)
      : await calibratePbkdf2Iterations(hash, LUKS1_DIGEST_SIZE, 125);
  return Math.min(0xffffffff, Math.max(MIN_ITERATIONS, n));
}

/**
 * Writes slot `index`'s key material (then flushes) and returns the active slot entry; the
 * caller then writes the header (docs/spec/luks1.md §8 step 5).
 */
export async function writeSlotMaterial(
  io: HeaderIO,
  vol: Luks1Volume,
  index: number,
  masterKey: Uint8Array,
  passphrase: Uint8Array,
  iterations: number
): Promise<void> {
  const slot = vol.header.slots[index]!;
  const salt = randomBytes(LUKS_SALT_SIZE);
  const seal = {
    kdf: { type: 'pbkdf2', hash: vol.hash, iterations } as const,
    salt,
    cipher: vol.spec,
    stripes: LUKS_STRIPES,
    afHash: vol.hash,
  };
  const material = await sealKey(passphrase, seal, masterKey);
  try {
    await io.write(material, slot.keyOffset * LUKS_SECTOR);
    await io.flush();
  } finally {
    wipe(material);
  }
  vol.header.slots[index] = {
    active: true,
    iterations,
    salt,
    keyOffset: slot.keyOffset,
    stripes: LUKS_STRIPES,
  };
}

/** Writes the 592-byte header and flushes. */
export async function writeLuks1Header(io: HeaderIO, header: Luks1Header): Promise<void> {
  await io.write(serializeLuks1Header(header), 0);
  await io.flush();
}

/**
 * Formats a new LUKS1 volume on `io` (docs/spec/luks1.md §8): random master key, slot 0 for
 * `passphrase`, other slots disabled. The `qemu` layout leaves unused areas zero (as QEMU);
 * `cryptsetup` fills every key area with random bytes (as cryptsetup).
 */
export async function formatLuks1(
  io: HeaderIO,
  passphrase: Uint8Array,
  opts: LuksCreateOptions
): Promise<UnlockedLuks> {
  const r = resolveCreate(opts);
  const spec = parseLuksCipher(r.cipherName, r.cipherMode, r.keyBytes);
  const payload = payloadSectors(r.keyBytes, opts.layout);
  const { keyOffsets, headerSectors } = luks1Geometry(r.keyBytes);
  const needed = (opts.layout === 'qemu' ? payload : headerSectors) * LUKS_SECTOR;
  if (io.length < needed) {
    throw fail(
      'INVALID_ARGUMENT',
      `The LUKS header region is too small (${io.length} < ${needed} bytes)`
    );
  }
  const slotIters = await slotIterations(r.hash, r.keyBytes, opts);
  const mkIters = await digestIterations(r.hash, opts);
  const masterKey = randomBytes(r.keyBytes);
  try {
    const mkDigestSalt = randomBytes(LUKS_SALT_SIZE);
    const header: Luks1Header = {
      cipherName: r.cipherName,
      cipherMode: r.cipherMode,
      hashSpec: r.hash,
      payloadOffset: payload,
      keyBytes: r.keyBytes,
      mkDigest: await deriveKey(
        { type: 'pbkdf2', hash: r.hash, iterations: mkIters },
        masterKey,
        mkDigestSalt,
        LUKS1_DIGEST_SIZE
      ),
      mkDigestSalt,
      mkDigestIterations: mkIters,
      uuid: randomUuid(),
      slots: keyOffsets.map((o) => disabledSlot(o)),
    };
    // Header sectors zero, key areas zero (qemu) or random (cryptsetup).
    await io.write(new Uint8Array(keyOffsets[0]! * LUKS_SECTOR), 0);
    const areaBytes = keyMaterialSectors(r.keyBytes) * LUKS_SECTOR;
    for (const o of keyOffsets) {
      const fill =
        opts.layout === 'cryptsetup' ? randomBytes(areaBytes) : new Uint8Array(areaBytes);
      await io.write(fill, o * LUKS_SECTOR);
    }
    const vol: Luks1Volume = { header, spec, hash: r.hash };
    await writeSlotMaterial(io, vol, 0, masterKey, passphrase, slotIters);
    await writeLuks1Header(io, header);
    return makeUnlocked({
      version: 1,
      slot: 0,
      spec,
      masterKey,
      sectorSize: LUKS_SECTOR,
      payloadOffset: payload * LUKS_SECTOR,
      ivTweak: 0,
    });
  } catch (e) {
    wipe(masterKey);
    throw e;
  }
}
