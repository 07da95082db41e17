/**
 * Zod schemas for what operations return and for the events pushed to faces. Every result
 * is checked against its schema before it leaves the service for a face (`dispatch.ts`), so
 * a stray field (or a secret) never crosses IPC or HTTP by accident. Each schema is checked
 * at compile time to describe exactly its interface in `types.ts` (contract.ts).
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import { batchReportSchema } from './batch-schemas.js';

const count = z.number().int().nonnegative();
const num = z.number();
const text = z.string();
const imageFormat = z.enum(['qcow2', 'qcow', 'raw', 'luks']);

export const keyslotInfoSchema = z.strictObject({
  slot: count,
  active: z.boolean(),
  iterations: count,
  stripes: count,
  keyOffset: count,
  kdf: z.enum(['pbkdf2', 'argon2i', 'argon2id', 'unknown']).optional(),
  memoryKiB: count.optional(),
  parallel: count.optional(),
  hash: text.optional(),
  cipher: text.optional(),
  priority: count.optional(),
  unusableReason: text.optional(),
});

const luksHeaderCopySchema = z.strictObject({
  status: z.enum(['valid', 'stale', 'damaged']),
  offset: count,
  reason: text.optional(),
});

export const luksHeaderStateSchema = z.strictObject({
  used: z.enum(['primary', 'secondary']),
  primary: luksHeaderCopySchema,
  secondary: luksHeaderCopySchema.optional(),
  needsRepair: z.boolean(),
  message: text.optional(),
  journal: text.optional(),
});

const luksTokenSchema = z.strictObject({ id: count, type: text, keyslots: z.array(count) });

const luksSegmentSchema = z.strictObject({
  id: count,
  type: text,
  offset: count,
  size: z.union([count, z.literal('dynamic')]),
  encryption: text.optional(),
  sectorSize: count.optional(),
  ivTweak: count.optional(),
  flags: z.array(text).optional(),
});

export const encryptionInfoSchema = z.strictObject({
  format: z.enum(['luks', 'aes']),
  version: z.union([z.literal(1), z.literal(2)]).optional(),
  cipherAlg: text.optional(),
  cipherMode: text.optional(),
  ivgenAlg: text.optional(),
  ivgenHashAlg: text.optional(),
  hashAlg: text.optional(),
  uuid: text.optional(),
  payloadOffset: count.optional(),
  masterKeyIters: count.optional(),
  keyBytes: count.optional(),
  sectorSize: count.optional(),
  slots: z.array(keyslotInfoSchema),
  insecure: z.boolean().optional(),
  unsupportedReason: text.optional(),
  keyslotPositions: count.optional(),
  headerState: luksHeaderStateSchema.optional(),
  label: text.optional(),
  subsystem: text.optional(),
  headerSize: count.optional(),
  keyslotsSize: count.optional(),
  tokens: z.array(luksTokenSchema).optional(),
  segments: z.array(luksSegmentSchema).optional(),
  requirements: z.array(text).optional(),
  flags: z.array(text).optional(),
  detachedHeader: z.boolean().optional(),
});

export const snapshotInfoSchema = z.strictObject({
  id: text,
  name: text,
  vmStateSize: count,
  dateSeconds: count,
  vmClockNs: count,
});

export const imageInfoSchema = z.strictObject({
  path: text,
  format: imageFormat,
  virtualSize: count,
  actualSize: count,
  fileSize: count,
  clusterSize: count.optional(),
  compat: text.optional(),
  refcountBits: count.optional(),
  compressionType: z.enum(['zlib', 'zstd']).optional(),
  extendedL2: z.boolean().optional(),
  backingFile: text.optional(),
  backingFormat: text.optional(),
  backingChain: z.array(z.strictObject({ path: text, format: imageFormat })),
  snapshots: z.array(snapshotInfoSchema),
  encrypted: z.boolean(),
  encryption: encryptionInfoSchema.optional(),
  dirty: z.boolean().optional(),
  corrupt: z.boolean().optional(),
  warnings: z.array(text),
  inUse: z
    .strictObject({ writer: z.boolean(), pid: count.optional(), holder: text.optional() })
    .optional(),
});

export const errorPayloadSchema = z.strictObject({ code: z.enum(ERROR_CODES), message: text });

export const progressSchema = z.strictObject({
  phase: text,
  bytesDone: num,
  bytesTotal: num,
  bytesPerSecond: num,
  etaSeconds: num.nullable(),
});

export const jobInfoSchema = z.strictObject({
  id: text,
  kind: z.enum(['create', 'convert', 'migrate', 'export', 'import', 'verify', 'rekey', 'batch']),
  label: text,
  state: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  progress: progressSchema,
  startedAt: num,
  endedAt: num.optional(),
  error: errorPayloadSchema.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
});

export const passphraseAssessmentSchema = z.strictObject({
  verdict: z.enum(['plausible', 'random', 'no-data']),
  sampledSectors: count,
  plausibleSectors: count,
  randomSectors: count,
  signatures: z.array(text),
  explanation: text,
});

export const kdfBenchmarkSchema = z.strictObject({
  hash: text,
  iterTimeMs: count,
  iterations: count,
});

export const directoryListingSchema = z.strictObject({
  path: text,
  parent: text.nullable(),
  entries: z.array(
    z.strictObject({
      name: text,
      path: text,
      kind: z.enum(['file', 'directory', 'other']),
      size: count,
    })
  ),
  file: text.optional(),
});

export const keyInfoSchema = z.strictObject({
  type: text,
  fingerprint: text,
  comment: text.optional(),
});

export const bundleManifestSchema = z.strictObject({
  kind: z.literal('image-vault-bundle'),
  version: z.literal(1),
  tool: text,
  createdAt: text,
  recipient: text,
  image: text,
  format: z.enum(['qcow2', 'luks']),
  virtualSize: count,
  luksUuid: text,
  cipher: text,
  sha256: text,
  secretUuid: text,
  freshMasterKey: z.boolean(),
  imageSize: count.optional(),
  sealed: z
    .strictObject({ file: text, sha256: text, recipients: z.array(keyInfoSchema) })
    .optional(),
});

export const bundleSignerSchema = z.strictObject({
  fingerprint: text,
  keyType: text,
  comment: text.optional(),
  principals: z.array(text),
  trusted: z.boolean().nullable(),
});

export const bundleSummarySchema = z.strictObject({
  manifest: bundleManifestSchema,
  layout: z.enum(['folder', 'tar']),
  signed: z.boolean(),
  signer: bundleSignerSchema.optional(),
  sealed: z.boolean(),
});

export const keyDescriptionSchema = z.strictObject({
  recipients: z.array(keyInfoSchema),
  privateKey: keyInfoSchema.extend({ encrypted: z.boolean() }).optional(),
  publicKeyText: text.optional(),
});

export const ownKeySchema = keyInfoSchema.extend({
  privatePath: text,
  publicLine: text,
  encrypted: z.boolean(),
});

export const libvirtPlanSchema = z.strictObject({
  secretUuid: text,
  secretXml: text,
  diskXml: text,
  steps: z.array(text),
});

export const vaultEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('job'), job: jobInfoSchema }),
  z.strictObject({ type: z.literal('batch'), report: batchReportSchema }),
]);

export const slotResultSchema = z.strictObject({ slot: count });
export const changeResultSchema = z.strictObject({ slot: count, removed: z.array(count) });
export const removeResultSchema = z.strictObject({ removed: z.array(count) });
export const trashResultSchema = z.strictObject({ trashedTo: text });
export const noResultSchema = z.void();

export const headerRepairResultSchema = z.strictObject({
  action: z.enum(['none', 'repaired', 'rolled-back']),
  description: text,
});
const luksVersion = z.union([z.literal(1), z.literal(2)]);
export const headerConvertResultSchema = z.strictObject({
  from: luksVersion,
  to: luksVersion,
  description: text,
});

const backupFormat = z.enum(['cryptsetup', 'qcow2-luks']);
export const headerBackupResultSchema = z.strictObject({
  file: text,
  format: backupFormat,
  bytes: count,
  luksVersion,
  uuid: text,
  activeSlots: z.array(count),
  createdAt: text,
  description: text,
});
export const headerRestoreResultSchema = z.strictObject({
  restored: z.boolean(),
  format: backupFormat,
  luksVersion,
  uuid: text,
  backupSlots: z.array(count),
  imageSlots: z.array(count).optional(),
  passphraseSlot: count.optional(),
  mismatches: z.array(text),
  replacedHeader: text.optional(),
  description: text,
});

export const preflightReportSchema = z.strictObject({
  ok: z.boolean(),
  problems: z.array(
    z.strictObject({
      field: z.enum(['source', 'sourcePassphrase', 'target', 'space', 'libvirt']),
      severity: z.enum(['error', 'warning']),
      code: z.enum(ERROR_CODES),
      message: text,
    })
  ),
  bytesNeeded: count,
  bytesFree: count.nullable(),
});
