/** Shared types of the LUKS module: the unlocked volume and create options. */
import type { CipherSpec } from '../../crypto/cipher-spec.js';
import { wipe } from '../../crypto/secret.js';

/** A LUKS volume whose master (volume) key has been recovered. */
export interface UnlockedLuks {
  version: 1 | 2;
  /** The keyslot that opened. */
  slot: number;
  /** Data cipher (LUKS1 header cipher / LUKS2 segment encryption). */
  spec: CipherSpec;
  masterKey: Uint8Array;
  /** Data encryption unit in bytes (512 for LUKS1; LUKS2 segment sector_size). */
  sectorSize: number;
  /** Start of the data payload in bytes from the device start (0 when detached). */
  payloadOffset: number;
  /** Added to the payload-relative IV sector (LUKS2 segment iv_tweak; 0 for LUKS1). */
  ivTweak: number;
  /** LUKS2 segment size in bytes when not "dynamic"; undefined = to the end of the device. */
  payloadSize?: number;
  /** Wipes the master key. */
  dispose(): void;
}

export function makeUnlocked(fields: Omit<UnlockedLuks, 'dispose'>): UnlockedLuks {
  return { ...fields, dispose: () => wipe(fields.masterKey) };
}

/** Options for creating a LUKS1 header (docs/spec/luks1.md §8–§9). */
export interface LuksCreateOptions {
  /** User cipher string, default `aes-256-xts-plain64`. */
  cipher?: string;
  /** PBKDF2/AF hash, default sha256. */
  hash?: string;
  /** KDF time for keyslots in ms, default 2000. */
  iterTimeMs?: number;
  /** Forced slot iterations (tests); the digest then uses 1000 like cryptsetup. */
  iterations?: number;
  /**
   * `qemu`: payload at the end of slot 7's area (4040 sectors for 64-byte keys), for the qcow2
   * region; `cryptsetup`: payload aligned to 1 MiB (raw LUKS).
   */
  layout: 'qemu' | 'cryptsetup';
}
