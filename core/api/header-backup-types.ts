/**
 * Header backup and restore types of the contract (docs/decisions.md "Header backup and
 * restore"; README "Header backup and restore"). Re-exported by types.ts.
 */

/**
 * `cryptsetup`: the bytes `cryptsetup luksHeaderBackup` writes (raw LUKS1/LUKS2 images);
 * `qcow2-luks`: our wrapper around the LUKS region of a qcow2 image (no tool has a format).
 */
export type HeaderBackupFormat = 'cryptsetup' | 'qcow2-luks';

export interface HeaderBackupRequest {
  path: string;
  /** The backup file to create (refused with EXISTS if it exists, as cryptsetup does). */
  file: string;
  /** Read even while a writer holds the image (`-U`). */
  forceShare?: boolean;
}

export interface HeaderBackupResult {
  file: string;
  format: HeaderBackupFormat;
  /** Size of the backup file in bytes. */
  bytes: number;
  luksVersion: 1 | 2;
  uuid: string;
  /** Keyslots holding a passphrase at the time of the backup. */
  activeSlots: number[];
  createdAt: string;
  description: string;
}

export interface HeaderRestoreRequest {
  path: string;
  file: string;
  /** If given, the restore goes ahead only when this passphrase opens the backup. */
  passphrase?: Uint8Array;
  /**
   * Restore although the backup's identity differs from the image's (another LUKS UUID or
   * master key, another LUKS version, another virtual size, or no readable header in the
   * image). Differences in geometry (data offset, key size, region) are never overridden.
   */
  force?: boolean;
  /** Check everything and report what a restore would change, writing nothing. */
  dryRun?: boolean;
}

export interface HeaderRestoreResult {
  /** False for a dry run. */
  restored: boolean;
  format: HeaderBackupFormat;
  luksVersion: 1 | 2;
  uuid: string;
  /** Keyslots active in the backup: after the restore exactly these open the image. */
  backupSlots: number[];
  /** Keyslots active in the image before (absent when its header could not be read). */
  imageSlots?: number[];
  /** The keyslot the given passphrase opened in the backup. */
  passphraseSlot?: number;
  /** Identity differences that need `force` (overridden when `restored` is true). */
  mismatches: string[];
  /** Where the replaced header was kept (IMAGE.header.bak, or .header.N.bak if taken). */
  replacedHeader?: string;
  description: string;
}
