/**
 * Types of the batch operation (issue #17, "Many images at once"): one keyslot operation run
 * over many images with bounded parallelism, and the per-image report every face shows (CLI
 * `--json`, the app's batch dialog). Re-exported by types.ts.
 */
import type { ErrorCode } from './errors.js';
import type { KdfType } from './luks-types.js';

/** What a batch does to each image. A new operation is a name here and one action in core. */
export type BatchOperation = 'keyslot-change' | 'keyslot-add' | 'keyslot-remove' | 'rekey';

export interface BatchRequest {
  operation: BatchOperation;
  /** Absolute image paths (duplicates are run once). */
  paths: string[];
  /**
   * change/add/rekey: a passphrase that opens each image; remove: the passphrase to revoke.
   */
  passphrase?: Uint8Array;
  /**
   * change/add/rekey: the passphrase each image should open with afterwards (rekey needs one:
   * it is how a re-run tells an image already rotated from one still to do).
   */
  newPassphrase?: Uint8Array;
  /** remove: the keyslot number to remove (instead of a passphrase). */
  slot?: number;
  /** remove: allow removing an image's last active keyslot. */
  forceLast?: boolean;
  /** rekey: drop the keyslots the passphrase does not open (README "Master-key rotation"). */
  dropOtherSlots?: boolean;
  /** Images worked on at once (default 2). */
  jobs?: number;
  iterTimeMs?: number;
  iterations?: number;
  pbkdf?: KdfType;
  pbkdfMemoryKiB?: number;
  pbkdfParallel?: number;
}

/**
 * Where one image stands. `changed`: done now; `unchanged`: nothing to do, already done by an
 * earlier run (the new passphrase already opens it, the revoked one opens nothing);
 * `skipped`: not touched (in use by a VM or another program, or the batch was cancelled
 * first), a re-run does it; `failed`: not changed, for the reason in `code`.
 */
export type BatchItemStatus =
  'pending' | 'running' | 'changed' | 'unchanged' | 'skipped' | 'failed';

/** Who held an image that was skipped (as `ImageInfo.inUse`). */
export interface BatchHolder {
  writer: boolean;
  pid?: number;
  holder?: string;
}

export interface BatchItem {
  path: string;
  status: BatchItemStatus;
  /** skipped / failed: the error code (`IMAGE_IN_USE`, `CANCELLED`, `WRONG_PASSPHRASE`, …). */
  code?: ErrorCode;
  /** One line of plain words: what was done, or why not. */
  reason?: string;
  /** change/add: the keyslot the new passphrase opens. */
  slot?: number;
  /** change/remove: the keyslots removed. */
  removed?: number[];
  /** skipped because in use: who holds the image, where the system tells. */
  holder?: BatchHolder;
}

export interface BatchSummary {
  total: number;
  changed: number;
  unchanged: number;
  skipped: number;
  failed: number;
  /** Not finished yet (pending or running). */
  remaining: number;
}

/** The per-image report of a batch (schema version 1; fields are only ever added). */
export interface BatchReport {
  kind: 'image-vault-batch-report';
  version: 1;
  /** The job running it (the app); absent in the CLI. */
  jobId?: string;
  operation: BatchOperation;
  /** The machine the images live on (`os.hostname()`), for reports collected from many. */
  host: string;
  startedAt: string;
  endedAt?: string;
  /** True once every image has its final status. */
  finished: boolean;
  cancelled: boolean;
  summary: BatchSummary;
  images: BatchItem[];
}
