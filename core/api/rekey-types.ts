/**
 * Master-key rotation ("rekey", issue #17) types of the contract: a fresh master key for a
 * qcow2+LUKS or raw LUKS1/LUKS2 image, every allocated sector re-encrypted in place,
 * crash-safe through `IMAGE.rekey-journal` (README "Master-key rotation"). Re-exported by
 * types.ts.
 */
import type { Passphrase } from './types.js';

/** What to rotate and which passphrases the new header keeps. */
export interface RekeyRequest {
  /** The image (qcow2+LUKS, raw LUKS1 or raw LUKS2). */
  path: string;
  /** A passphrase of the image: it opens the old master key (and, resuming, the journal). */
  passphrase: Passphrase;
  /**
   * The passphrase the new header gets in the opened keyslot instead of `passphrase` (the
   * old one then stops working when the rotation ends).
   */
  newPassphrase?: Passphrase;
  /**
   * Passphrases of the image's other active keyslots: each is re-wrapped in its own keyslot
   * under the new master key. A keyslot no passphrase opens cannot be re-wrapped.
   */
  otherPassphrases?: Passphrase[];
  /**
   * Drop the keyslots no given passphrase opens. Without it such keyslots make the rotation
   * fail with `KEYSLOT_ACTIVE` before anything is written.
   */
  dropOtherSlots?: boolean;
  /** Finish an interrupted rotation from its journal (the same passphrases as the first run). */
  resume?: boolean;
}

/** The outcome of a rotation (a job's `result`). */
export interface RekeyResult extends Record<string, unknown> {
  path: string;
  /** `qcow2` (qcow2+LUKS, LUKS1 inside) or `luks` (raw). */
  format: 'qcow2' | 'luks';
  luksVersion: 1 | 2;
  /** Keyslots of the new header (the opened one first). */
  slots: number[];
  /** Keyslots that were dropped (no passphrase given for them). */
  droppedSlots: number[];
  /** Encrypted bytes re-encrypted in this run. */
  bytesRekeyed: number;
  /** Encrypted bytes of the image in all (allocated clusters, or the whole LUKS payload). */
  bytesTotal: number;
  /** True when this run finished an interrupted one. */
  resumed: boolean;
}
