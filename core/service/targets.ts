/**
 * Creating (and reopening, for resume) the images we write: plain qcow2/raw, qcow2 with an
 * embedded LUKS1 header laid out as QEMU does, and raw LUKS1 laid out as cryptsetup does.
 */
import { fail } from '../api/errors.js';
import type { EncryptOptions, OutputFormat } from '../api/types.js';
import type { BlockDevice } from '../io/block-device.js';
import type { GuestWriter } from '../formats/image.js';
import { createQcow2, openQcow2, reopenQcow2Writer } from '../formats/qcow2/index.js';
import { createRaw, reopenRawWriter } from '../formats/raw/index.js';
import {
  createRawLuks,
  dataCipherFor,
  formatLuks1,
  luksHeaderLength,
  unlockLuks,
  type LuksCreateOptions,
  type RawLuks2Options,
} from '../formats/luks/index.js';

export const DEFAULT_CIPHER = 'aes-256-xts-plain64';
export const DEFAULT_HASH = 'sha256';
/** QEMU's and cryptsetup's default unlock time per keyslot. */
export const DEFAULT_ITER_TIME_MS = 2000;

export interface TargetSpec {
  format: OutputFormat;
  virtualSize: number;
  clusterSize?: number;
  compat?: '0.10' | '1.1';
  /** Encrypt with LUKS (qcow2+LUKS, or raw LUKS when format is 'luks'). */
  passphrase?: Uint8Array;
  encryption?: EncryptOptions;
  backingFile?: string;
  backingFormat?: string;
  threads?: number;
}

export function luksOptions(enc: EncryptOptions | undefined): Omit<LuksCreateOptions, 'layout'> {
  return {
    cipher: enc?.cipher ?? DEFAULT_CIPHER,
    hash: enc?.hash ?? DEFAULT_HASH,
    iterTimeMs: enc?.iterTimeMs ?? DEFAULT_ITER_TIME_MS,
    iterations: enc?.iterations,
  };
}

/**
 * Raw LUKS options: LUKS1 (the default, see README "LUKS versions") or LUKS2 with its KDF and
 * sector size. LUKS1 takes no LUKS2-only option.
 */
export function rawLuksOptions(
  enc: EncryptOptions | undefined
): Omit<LuksCreateOptions, 'layout'> & RawLuks2Options {
  const base = luksOptions(enc);
  if (enc?.luksVersion !== 2) {
    if ((enc?.pbkdf && enc.pbkdf !== 'pbkdf2') || enc?.sectorSize === 4096) {
      throw fail('INVALID_ARGUMENT', 'Argon2 keyslots and 4096-byte sectors need --luks-version 2');
    }
    return base;
  }
  return {
    ...base,
    luksVersion: 2,
    pbkdf: enc.pbkdf ?? 'argon2id',
    memoryKiB: enc.pbkdfMemoryKiB,
    parallel: enc.pbkdfParallel,
    sectorSize: enc.sectorSize ?? 512,
  };
}

/** Formats a fresh target on `dev` and returns a writer for its guest bytes. */
export async function createTarget(dev: BlockDevice, spec: TargetSpec): Promise<GuestWriter> {
  switch (spec.format) {
    case 'raw':
      if (spec.passphrase) throw fail('INVALID_ARGUMENT', 'Use -O luks for an encrypted raw image');
      return createRaw(dev, spec.virtualSize);
    case 'luks': {
      if (!spec.passphrase) throw fail('NEEDS_PASSPHRASE', 'A raw LUKS image needs a passphrase');
      return createRawLuks(dev, spec.virtualSize, spec.passphrase, {
        ...rawLuksOptions(spec.encryption),
        threads: spec.threads,
      });
    }
    case 'qcow2': {
      const passphrase = spec.passphrase;
      const base = {
        virtualSize: spec.virtualSize,
        clusterSize: spec.clusterSize,
        compat: spec.compat,
        backingFile: spec.backingFile,
        backingFormat: spec.backingFormat,
      };
      if (!passphrase) return createQcow2(dev, base);
      if (spec.encryption?.luksVersion === 2) {
        throw fail(
          'UNSUPPORTED_FEATURE',
          'qcow2+LUKS is always LUKS1: QEMU cannot open LUKS2 there'
        );
      }
      const opts: LuksCreateOptions = { ...luksOptions(spec.encryption), layout: 'qemu' };
      return createQcow2(dev, {
        ...base,
        encryption: {
          kind: 'luks',
          initHeader: async (allocRegion) => {
            const region = await allocRegion(luksHeaderLength(opts));
            const unlocked = await formatLuks1(region, passphrase, opts);
            try {
              return await dataCipherFor(unlocked, { threads: spec.threads });
            } finally {
              unlocked.dispose();
            }
          },
        },
      });
    }
  }
}

/** Reopens a partially written target (resume) to continue writing. */
export async function reopenTarget(dev: BlockDevice, spec: TargetSpec): Promise<GuestWriter> {
  switch (spec.format) {
    case 'raw':
      return reopenRawWriter(dev, spec.virtualSize);
    case 'qcow2': {
      if (!spec.passphrase) return reopenQcow2Writer(dev, {});
      const img = await openQcow2(dev);
      const region = img.luksRegion();
      if (!region) throw fail('JOURNAL_MISMATCH', 'The partial output has no LUKS header');
      const unlocked = await unlockLuks(region, spec.passphrase);
      try {
        const cipher = await dataCipherFor(unlocked, { threads: spec.threads });
        return reopenQcow2Writer(dev, { cipher });
      } finally {
        unlocked.dispose();
      }
    }
    default:
      throw fail(
        'UNSUPPORTED_FEATURE',
        `Resuming a ${spec.format} output is not supported; start over`
      );
  }
}
