/**
 * The contract every face talks to: the `VaultApi` and its request/response types.
 *
 * Only plain data crosses it. Passphrases are `Uint8Array` bytes (never strings kept in a
 * store); over JSON transports they travel base64-encoded once and are wiped after use.
 */
import type { ErrorPayload } from './errors.js';
import type {
  HeaderBackupRequest,
  HeaderBackupResult,
  HeaderRestoreRequest,
  HeaderRestoreResult,
} from './header-backup-types.js';
import type {
  HeaderConvertRequest,
  HeaderConvertResult,
  HeaderRepairResult,
  KdfType,
  LuksHeaderState,
  LuksSegmentInfo,
  LuksTokenInfo,
} from './luks-types.js';
import type {
  BundleManifest,
  BundleSummary,
  DescribeKeysRequest,
  ExportRequest,
  ImportRequest,
  KeyDescription,
  OwnKey,
} from './bundle-types.js';
import type { RekeyRequest } from './rekey-types.js';
import type { BatchReport, BatchRequest } from './batch-types.js';

export type * from './luks-types.js';
export type * from './rekey-types.js';
import type { PreflightReport, PreflightRequest } from './preflight-types.js';
export type * from './preflight-types.js';
export type * from './bundle-types.js';
export type * from './batch-types.js';
export type * from './header-backup-types.js';

export type ImageFormat = 'qcow2' | 'qcow' | 'raw' | 'luks';
export type OutputFormat = 'qcow2' | 'raw' | 'luks';

/** Passphrase bytes, used exactly as given (a trailing newline is part of the passphrase). */
export type Passphrase = Uint8Array;

/** One LUKS keyslot as `qemu-img info` shows it, plus LUKS2 KDF details. */
export interface KeyslotInfo {
  slot: number;
  active: boolean;
  /** PBKDF2 iterations (LUKS1 and LUKS2 pbkdf2); Argon2 time cost for argon2 slots. */
  iterations: number;
  stripes: number;
  /** Key material offset in 512-byte sectors (LUKS1) or bytes / 512 (LUKS2). */
  keyOffset: number;
  /** `unknown`: a LUKS2 KDF type we do not implement (its name is in `unusableReason`). */
  kdf?: 'pbkdf2' | 'argon2i' | 'argon2id' | 'unknown';
  memoryKiB?: number;
  parallel?: number;
  /** PBKDF2 hash (LUKS2 pbkdf2 keyslots). */
  hash?: string;
  /** LUKS2: the keyslot's own cipher (usually the data cipher). */
  cipher?: string;
  /** LUKS2 priority: 0 ignore, 1 normal, 2 prefer. */
  priority?: number;
  /**
   * Set when this keyslot is present but cannot be opened here (unknown KDF, unsupported
   * keyslot cipher, absurd costs); the other keyslots and the image still work.
   */
  unusableReason?: string;
}

/** Encryption summary; key names follow `qemu-img info` `format-specific.data.encrypt`. */
export interface EncryptionInfo {
  format: 'luks' | 'aes';
  /** LUKS version (1 or 2); absent for legacy AES. */
  version?: 1 | 2;
  cipherAlg?: string;
  cipherMode?: string;
  ivgenAlg?: string;
  ivgenHashAlg?: string;
  hashAlg?: string;
  uuid?: string;
  payloadOffset?: number;
  masterKeyIters?: number;
  keyBytes?: number;
  sectorSize?: number;
  slots: KeyslotInfo[];
  /** Set for legacy AES: the scheme is insecure and should be migrated. */
  insecure?: boolean;
  /** Set when we can read the header but not the data (e.g. serpent, LUKS2 integrity). */
  unsupportedReason?: string;
  /** Keyslot positions the format has: 8 (LUKS1) or 32 (LUKS2). */
  keyslotPositions?: number;
  /** Header copies and whether they need repair (always set for LUKS). */
  headerState?: LuksHeaderState;
  /** LUKS2: label and subsystem from the binary header. */
  label?: string;
  subsystem?: string;
  /** LUKS2: bytes per header copy and of the keyslots area. */
  headerSize?: number;
  keyslotsSize?: number;
  tokens?: LuksTokenInfo[];
  segments?: LuksSegmentInfo[];
  /** LUKS2 `config.requirements.mandatory` (any entry blocks data access and header writes). */
  requirements?: string[];
  /** LUKS2 `config.flags` (e.g. allow-discards). */
  flags?: string[];
  /** A detached header: the encrypted data is not in this file (payload offset 0). */
  detachedHeader?: boolean;
}

export interface SnapshotInfo {
  id: string;
  name: string;
  vmStateSize: number;
  dateSeconds: number;
  vmClockNs: number;
}

export interface BackingInfo {
  path: string;
  format: ImageFormat;
}

export interface ImageInfo {
  path: string;
  format: ImageFormat;
  virtualSize: number;
  /** Bytes the file occupies on disk (allocated blocks). */
  actualSize: number;
  /** Apparent file length. */
  fileSize: number;
  clusterSize?: number;
  /** qcow2: "0.10" (v2) or "1.1" (v3). */
  compat?: string;
  refcountBits?: number;
  compressionType?: 'zlib' | 'zstd';
  extendedL2?: boolean;
  backingFile?: string;
  backingFormat?: string;
  /** Resolved chain below this image, nearest first. */
  backingChain: BackingInfo[];
  snapshots: SnapshotInfo[];
  encrypted: boolean;
  encryption?: EncryptionInfo;
  dirty?: boolean;
  corrupt?: boolean;
  /** Plain-words warnings for the user (insecure encryption, corrupt bit, …). */
  warnings: string[];
  /**
   * Another process (a VM, qemu-img, another operation) holds the image's QEMU-compatible
   * lock, so writing it would fail with `IMAGE_IN_USE` (README "Image locks"). Reported by
   * `inspect`; absent when the image is free.
   */
  inUse?: ImageInUse;
}

/** Who holds an image (`ImageInfo.inUse`). */
export interface ImageInUse {
  /** The holder writes the image (a running VM, qemu-io): reads need `-U` too. */
  writer: boolean;
  /** The holder's PID, when the system tells it. */
  pid?: number;
  /** The holder's program name (`qemu-system-x86`, `qemu-io`, `image-vault`), when known. */
  holder?: string;
}

export type JobKind =
  'create' | 'convert' | 'migrate' | 'export' | 'import' | 'verify' | 'rekey' | 'batch';
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A throttled progress report of a long job. */
export interface Progress {
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

export interface JobInfo {
  id: string;
  kind: JobKind;
  label: string;
  state: JobState;
  progress: Progress;
  startedAt: number;
  endedAt?: number;
  error?: ErrorPayload;
  /** Kind-specific result summary (e.g. output path, verification verdict). */
  result?: Record<string, unknown>;
}

export interface EncryptOptions {
  /** e.g. `aes-256-xts-plain64` (default), `aes-128-cbc-essiv:sha256`. */
  cipher?: string;
  /** PBKDF2/AF hash: sha1, sha256 (default), sha512, ripemd160. */
  hash?: string;
  /** KDF time per keyslot in ms; default 2000 like QEMU. */
  iterTimeMs?: number;
  /** Forced iteration count (tests); overrides iterTimeMs. For Argon2: the passes. */
  iterations?: number;
  /** Raw LUKS only: 1 (default) or 2. qcow2+LUKS is always LUKS1, as QEMU requires. */
  luksVersion?: 1 | 2;
  /** LUKS2 keyslot KDF (default argon2id); LUKS1 is always pbkdf2. */
  pbkdf?: KdfType;
  /** Argon2 memory in KiB: the limit when benchmarking (default 1 GiB), exact when forced. */
  pbkdfMemoryKiB?: number;
  /** Argon2 lanes (default min(4, CPUs)). */
  pbkdfParallel?: number;
  /** LUKS2 data sector size: 512 (default) or 4096. */
  sectorSize?: 512 | 4096;
}

export interface CreateRequest {
  path: string;
  format: OutputFormat;
  virtualSize: number;
  clusterSize?: number;
  compat?: '0.10' | '1.1';
  /** When set, the image is encrypted (qcow2+LUKS, or raw LUKS for format 'luks'). */
  passphrase?: Passphrase;
  encryption?: EncryptOptions;
}

export interface ConvertRequest {
  source: string;
  target: string;
  format: OutputFormat;
  /** Encrypt the output (qcow2+LUKS or raw LUKS) with this passphrase. */
  passphrase?: Passphrase;
  sourcePassphrase?: Passphrase;
  encryption?: EncryptOptions;
  clusterSize?: number;
  compat?: '0.10' | '1.1';
  verify?: boolean;
  resume?: boolean;
  flatten?: boolean;
  overwrite?: boolean;
}

export interface MigrateRequest {
  source: string;
  target: string;
  oldPassphrase: Passphrase;
  passphrase: Passphrase;
  encryption?: EncryptOptions;
  keepBacking?: boolean;
  verify?: boolean;
  resume?: boolean;
  /** Skip the wrong-passphrase heuristic's refusal. */
  force?: boolean;
}

/** Verdict of the legacy-AES wrong-passphrase heuristic. */
export interface PassphraseAssessment {
  verdict: 'plausible' | 'random' | 'no-data';
  sampledSectors: number;
  plausibleSectors: number;
  randomSectors: number;
  signatures: string[];
  explanation: string;
}

export interface KeyslotAddRequest {
  path: string;
  passphrase: Passphrase;
  newPassphrase: Passphrase;
  slot?: number;
  iterTimeMs?: number;
  iterations?: number;
  /** LUKS2: KDF of the new keyslot (default: that of the keyslot the passphrase opened). */
  pbkdf?: KdfType;
  pbkdfMemoryKiB?: number;
  pbkdfParallel?: number;
}

export interface KeyslotChangeRequest {
  path: string;
  passphrase: Passphrase;
  newPassphrase: Passphrase;
  iterTimeMs?: number;
  iterations?: number;
  pbkdf?: KdfType;
  pbkdfMemoryKiB?: number;
  pbkdfParallel?: number;
}

export interface KeyslotRemoveRequest {
  path: string;
  slot?: number;
  /** Remove every slot this passphrase opens. */
  passphrase?: Passphrase;
  forceLast?: boolean;
}

export interface KdfBenchmark {
  hash: string;
  iterTimeMs: number;
  iterations: number;
}

export interface DirectoryEntry {
  name: string;
  path: string;
  kind: 'file' | 'directory' | 'other';
  size: number;
}

export interface DirectoryListing {
  path: string;
  parent: string | null;
  entries: DirectoryEntry[];
  /** Set when the path asked for names a file: `path` is then its folder. */
  file?: string;
}

export interface LibvirtPlan {
  secretUuid: string;
  secretXml: string;
  diskXml: string;
  steps: string[];
}

/**
 * Events pushed to faces: job progress and state changes, and a batch's per-image report
 * whenever one of its images changes status (batch-types.ts).
 */
export type VaultEvent = { type: 'job'; job: JobInfo } | { type: 'batch'; report: BatchReport };

/** The one API every face calls (CLI, Electron IPC, loopback server, in-memory fake). */
export interface VaultApi {
  inspect(path: string): Promise<ImageInfo>;
  create(req: CreateRequest): Promise<ImageInfo>;
  keyslotTest(path: string, passphrase: Passphrase): Promise<{ slot: number }>;
  keyslotAdd(req: KeyslotAddRequest): Promise<{ slot: number }>;
  keyslotChange(req: KeyslotChangeRequest): Promise<{ slot: number; removed: number[] }>;
  keyslotRemove(req: KeyslotRemoveRequest): Promise<{ removed: number[] }>;
  assessLegacyPassphrase(path: string, passphrase: Passphrase): Promise<PassphraseAssessment>;
  benchmarkKdf(hash: string, iterTimeMs: number): Promise<KdfBenchmark>;
  startConvert(req: ConvertRequest): Promise<JobInfo>;
  startMigrate(req: MigrateRequest): Promise<JobInfo>;
  startExport(req: ExportRequest): Promise<JobInfo>;
  startImport(req: ImportRequest): Promise<JobInfo>;
  /**
   * Runs one keyslot operation over many images as a job (kind `batch`), a few at a time;
   * images in use are skipped, one image's failure never touches the others. Its report
   * arrives as `{ type: 'batch' }` events and, at the end, in the job's `result.report`.
   */
  startBatch(req: BatchRequest): Promise<JobInfo>;
  libvirtPlan(path: string): Promise<LibvirtPlan>;
  /** Reads and checks a bundle's manifest (shown before importing). */
  readBundleManifest(bundleDir: string): Promise<BundleManifest>;
  /** Reads a bundle's manifest and checks its signature (against allowed signers if given). */
  inspectBundle(path: string, allowedSignersFile?: string): Promise<BundleSummary>;
  /** Fingerprints of recipient lines and of a private key file (no secret leaves core). */
  describeKeys(req: DescribeKeysRequest): Promise<KeyDescription>;
  /** The user's key pairs in ~/.ssh (and ~/.config/age/keys.txt) for signing or opening. */
  listOwnKeys(): Promise<OwnKey[]>;
  listJobs(): Promise<JobInfo[]>;
  cancelJob(id: string): Promise<void>;
  listDirectory(path?: string): Promise<DirectoryListing>;
  /** Moves a file to the user's trash (never deletes silently). */
  trash(path: string): Promise<{ trashedTo: string }>;
  /**
   * Rewrites a damaged LUKS header copy from the valid one, or rolls back an interrupted
   * header operation (as `cryptsetup repair` does).
   */
  headerRepair(path: string): Promise<HeaderRepairResult>;
  /**
   * Checks what would stop a convert, migrate, export or import before it starts: target
   * name, source passphrase, free space for the worst case, libvirt reachability.
   */
  preflight(req: PreflightRequest): Promise<PreflightReport>;
  /** Converts a raw LUKS image's header between LUKS1 and LUKS2 in place, where it can. */
  headerConvert(req: HeaderConvertRequest): Promise<HeaderConvertResult>;
  /** Rotates the master key in place (a job; README "Master-key rotation"). */
  startRekey(req: RekeyRequest): Promise<JobInfo>;
  /** Backs up a LUKS header to a file: cryptsetup's format, or our wrapper for qcow2+LUKS. */
  headerBackup(req: HeaderBackupRequest): Promise<HeaderBackupResult>;
  /** Restores a header backup (checked, journaled, the replaced header kept in a .bak). */
  headerRestore(req: HeaderRestoreRequest): Promise<HeaderRestoreResult>;
  subscribe(listener: (event: VaultEvent) => void): () => void;
}
