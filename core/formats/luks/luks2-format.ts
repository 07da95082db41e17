/**
 * Creating a LUKS2 volume as `cryptsetup luksFormat --type luks2` lays it out (docs/spec/luks2.md
 * §1–§3, §6): two 16 KiB header copies, a 16744448-byte keyslots area, data at 16 MiB; one
 * crypt segment (512- or 4096-byte sectors), keyslot 0 with argon2id by default (benchmarked,
 * luks2-kdf.ts), AF sha256 with 4000 stripes, a PBKDF2 digest benchmarked for 125 ms (1000
 * iterations when costs are forced, as cryptsetup does). Write order: key material (flush),
 * then the primary and the secondary header (each flushed).
 */
import { fail } from '../../api/errors.js';
import { parseLuksCipher, parseUserCipher } from '../../crypto/cipher-spec.js';
import { digestSize, parseHashName } from '../../crypto/hash.js';
import { calibratePbkdf2Iterations, deriveKey, sealKey } from '../../crypto/kdf-client.js';
import { randomBytes, randomUuid } from '../../crypto/random.js';
import { wipe } from '../../crypto/secret.js';
import type { HeaderIO } from '../encryption.js';
import { materialLength } from './key-material.js';
import { LUKS_STRIPES, MIN_ITERATIONS } from './luks1-header.js';
import { chooseLuks2Kdf, kdfJson, kdfParams, type Luks2KdfOptions } from './luks2-kdf.js';
import { parseLuks2Metadata } from './luks2-metadata.js';
import { writeLuks2Headers } from './luks2-write.js';
import { makeUnlocked, type UnlockedLuks } from './unlocked.js';

/** cryptsetup 2.6 defaults (docs/spec/luks2.md §6). */
export const LUKS2_DEFAULT_HDR_SIZE = 16384;
export const LUKS2_DEFAULT_KEYSLOTS_SIZE = 16744448;
export const LUKS2_DEFAULT_DATA_OFFSET = 16 * 1024 * 1024;
const DIGEST_ITER_MS = 125;

export interface Luks2CreateOptions extends Luks2KdfOptions {
  /** User cipher string, default `aes-256-xts-plain64`. */
  cipher?: string;
  /** Data sector size: 512 (default) or 4096. */
  sectorSize?: number;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * Formats a LUKS2 volume on `io`, which must be zero-filled (a fresh file) and at least the
 * 16 MiB data offset long. Returns the unlocked volume (the caller disposes of it).
 */
export async function formatLuks2(
  io: HeaderIO,
  passphrase: Uint8Array,
  opts: Luks2CreateOptions = {}
): Promise<UnlockedLuks> {
  const c = parseUserCipher(opts.cipher ?? 'aes-256-xts-plain64');
  const spec = parseLuksCipher(c.cipherName, c.cipherMode, c.keyBytes);
  const encryption = `${c.cipherName}-${c.cipherMode}`;
  const hash = parseHashName(opts.hash ?? 'sha256');
  const sectorSize = opts.sectorSize ?? 512;
  if (sectorSize !== 512 && sectorSize !== 4096) {
    throw fail('INVALID_ARGUMENT', 'The LUKS2 sector size must be 512 or 4096');
  }
  if (io.length < LUKS2_DEFAULT_DATA_OFFSET) {
    throw fail('INVALID_ARGUMENT', `A LUKS2 header needs ${LUKS2_DEFAULT_DATA_OFFSET} bytes`);
  }
  const keyBytes = c.keyBytes;
  const areaOffset = 2 * LUKS2_DEFAULT_HDR_SIZE;
  const areaSize = Math.ceil(materialLength(keyBytes, LUKS_STRIPES) / 4096) * 4096;
  const kdf = await chooseLuks2Kdf(opts.pbkdf ?? 'argon2id', keyBytes, { ...opts, hash });
  const digestIters =
    opts.iterations !== undefined
      ? MIN_ITERATIONS
      : Math.max(
          MIN_ITERATIONS,
          await calibratePbkdf2Iterations(hash, digestSize(hash), DIGEST_ITER_MS)
        );
  const masterKey = randomBytes(keyBytes);
  let digest: Uint8Array | undefined;
  let material: Uint8Array | undefined;
  try {
    const digestSalt = randomBytes(32);
    digest = await deriveKey(
      { type: 'pbkdf2', hash, iterations: digestIters },
      masterKey,
      digestSalt,
      digestSize(hash)
    );
    const json = JSON.stringify({
      keyslots: {
        '0': {
          type: 'luks2',
          key_size: keyBytes,
          af: { type: 'luks1', stripes: LUKS_STRIPES, hash },
          area: {
            type: 'raw',
            offset: String(areaOffset),
            size: String(areaSize),
            encryption,
            key_size: keyBytes,
          },
          kdf: kdfJson(kdf),
        },
      },
      tokens: {},
      segments: {
        '0': {
          type: 'crypt',
          offset: String(LUKS2_DEFAULT_DATA_OFFSET),
          size: 'dynamic',
          iv_tweak: '0',
          encryption,
          sector_size: sectorSize,
        },
      },
      digests: {
        '0': {
          type: 'pbkdf2',
          keyslots: ['0'],
          segments: ['0'],
          hash,
          iterations: digestIters,
          salt: b64(digestSalt),
          digest: b64(digest),
        },
      },
      config: {
        json_size: String(LUKS2_DEFAULT_HDR_SIZE - 4096),
        keyslots_size: String(LUKS2_DEFAULT_KEYSLOTS_SIZE),
      },
    });
    parseLuks2Metadata(json, LUKS2_DEFAULT_HDR_SIZE); // what we write must be what we accept
    const seal = {
      kdf: kdfParams(kdf),
      salt: kdf.salt,
      cipher: spec,
      stripes: LUKS_STRIPES,
      afHash: hash,
    };
    material = await sealKey(passphrase, seal, masterKey);
    await io.write(material, areaOffset);
    await io.flush();
    await writeLuks2Headers(io, {
      hdrSize: LUKS2_DEFAULT_HDR_SIZE,
      seqid: 1n,
      uuid: randomUuid(),
      json,
    });
    return makeUnlocked({
      version: 2,
      slot: 0,
      spec,
      masterKey,
      sectorSize,
      payloadOffset: LUKS2_DEFAULT_DATA_OFFSET,
      ivTweak: 0,
    });
  } catch (e) {
    wipe(masterKey);
    throw e;
  } finally {
    wipe(digest, material);
  }
}
