/**
 * LUKS header types of the contract (docs/spec/luks2.md): header copies and their repair state,
 * tokens, segments, and the header repair / convert operations. Re-exported by types.ts.
 */

export type KdfType = 'pbkdf2' | 'argon2i' | 'argon2id';

/** One LUKS2 header copy, as found on disk. */
export interface LuksHeaderCopyState {
  /** `stale`: valid but older than the other copy (an interrupted update). */
  status: 'valid' | 'stale' | 'damaged';
  /** Byte offset of the copy (0 primary; hdr_size secondary). */
  offset: number;
  /** What is wrong with it. */
  reason?: string;
}

/**
 * The state of a LUKS header (LUKS2 keeps two copies). When `needsRepair` is set the image is
 * still readable from the valid copy, but header-writing operations are refused until
 * `image-vault header repair` has rewritten the damaged copy (or rolled back an interrupted
 * header operation).
 */
export interface LuksHeaderState {
  /** The copy the metadata was read from. */
  used: 'primary' | 'secondary';
  primary: LuksHeaderCopyState;
  /** LUKS2 only. */
  secondary?: LuksHeaderCopyState;
  needsRepair: boolean;
  /** Plain words for the user, e.g. "The primary LUKS2 header copy is damaged …". */
  message?: string;
  /** Path of the journal an interrupted header operation left behind (repair rolls it back). */
  journal?: string;
}

/** A LUKS2 token (TPM2, FIDO2, clevis, keyring…): which keyslots it unlocks. */
export interface LuksTokenInfo {
  id: number;
  type: string;
  keyslots: number[];
}

/** A LUKS2 data segment. */
export interface LuksSegmentInfo {
  id: number;
  type: string;
  /** Bytes from the start of the device. */
  offset: number;
  /** Bytes, or "dynamic" (to the end of the device). */
  size: number | 'dynamic';
  encryption?: string;
  sectorSize?: number;
  ivTweak?: number;
  flags?: string[];
}

/** What `header repair` did. */
export interface HeaderRepairResult {
  /** `none`: nothing needed; `repaired`: a copy rewritten; `rolled-back`: a journal undone. */
  action: 'none' | 'repaired' | 'rolled-back';
  description: string;
}

export interface HeaderConvertRequest {
  path: string;
  luksVersion: 1 | 2;
}

export interface HeaderConvertResult {
  from: 1 | 2;
  to: 1 | 2;
  description: string;
}
