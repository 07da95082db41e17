/**
 * Zod schemas for every request of the contract (contract.ts), transport-neutral: byte
 * fields are `Uint8Array` (Electron IPC delivers them by structured clone; the loopback server
 * decodes its base64 wire form into `Uint8Array` first, see `wire.ts`).
 *
 * Rules (docs/design/electron-conventions.md §3): unknown keys are rejected, sizes are bounded
 * (passphrases ≤ 1 KiB, paths absolute and without NUL), numbers are finite integers.
 */
import { z } from 'zod';

/** Longest passphrase accepted from a face (bytes). */
export const MAX_PASSPHRASE_BYTES = 1024;
/** Longest path accepted from a face (characters). */
export const MAX_PATH_CHARS = 4096;

/** An absolute POSIX path without NUL bytes. */
export const pathSchema = z
  .string()
  .min(1)
  .max(MAX_PATH_CHARS)
  .refine((p) => p.startsWith('/'), 'path must be absolute')
  .refine((p) => !p.includes('\0'), 'path must not contain NUL');

/** Passphrase bytes, 1..1024 long. */
export const passphraseSchema = z
  .custom<Uint8Array>((v) => v instanceof Uint8Array, 'passphrase must be bytes')
  .refine(
    (b) => b.length >= 1 && b.length <= MAX_PASSPHRASE_BYTES,
    'passphrase must be 1..1024 bytes'
  );

const size = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const iterTimeMsSchema = z.number().int().min(1).max(120_000);
const iterations = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);
const slot = z.number().int().min(0).max(31);
/** LUKS2 keyslot KDF and its Argon2 costs (docs/spec/luks2.md §6 limits). */
const kdfType = z.enum(['pbkdf2', 'argon2i', 'argon2id']);
const pbkdfMemoryKiB = z
  .number()
  .int()
  .min(32)
  .max(4 * 1024 * 1024);
const pbkdfParallel = z.number().int().min(1).max(4);
const outputFormat = z.enum(['qcow2', 'raw', 'luks']);
const compat = z.enum(['0.10', '1.1']);
const clusterSize = z
  .number()
  .int()
  .min(512)
  .max(2 * 1024 * 1024);
const shortText = z.string().min(1).max(128);

export const encryptOptionsSchema = z.strictObject({
  cipher: z
    .string()
    .max(64)
    .regex(/^[a-z0-9:_-]+$/i)
    .optional(),
  hash: z
    .string()
    .max(32)
    .regex(/^[a-z0-9-]+$/i)
    .optional(),
  iterTimeMs: iterTimeMsSchema.optional(),
  iterations: iterations.optional(),
  luksVersion: z.union([z.literal(1), z.literal(2)]).optional(),
  pbkdf: kdfType.optional(),
  pbkdfMemoryKiB: pbkdfMemoryKiB.optional(),
  pbkdfParallel: pbkdfParallel.optional(),
  sectorSize: z.union([z.literal(512), z.literal(4096)]).optional(),
});

export const createRequestSchema = z.strictObject({
  path: pathSchema,
  format: outputFormat,
  virtualSize: size.min(512),
  clusterSize: clusterSize.optional(),
  compat: compat.optional(),
  passphrase: passphraseSchema.optional(),
  encryption: encryptOptionsSchema.optional(),
});

export const convertRequestSchema = z.strictObject({
  source: pathSchema,
  target: pathSchema,
  format: outputFormat,
  passphrase: passphraseSchema.optional(),
  sourcePassphrase: passphraseSchema.optional(),
  encryption: encryptOptionsSchema.optional(),
  clusterSize: clusterSize.optional(),
  compat: compat.optional(),
  verify: z.boolean().optional(),
  resume: z.boolean().optional(),
  flatten: z.boolean().optional(),
  overwrite: z.boolean().optional(),
});

export const migrateRequestSchema = z.strictObject({
  source: pathSchema,
  target: pathSchema,
  oldPassphrase: passphraseSchema,
  passphrase: passphraseSchema,
  encryption: encryptOptionsSchema.optional(),
  keepBacking: z.boolean().optional(),
  verify: z.boolean().optional(),
  resume: z.boolean().optional(),
  force: z.boolean().optional(),
});

export const keyslotAddRequestSchema = z.strictObject({
  path: pathSchema,
  passphrase: passphraseSchema,
  newPassphrase: passphraseSchema,
  slot: slot.optional(),
  iterTimeMs: iterTimeMsSchema.optional(),
  iterations: iterations.optional(),
  pbkdf: kdfType.optional(),
  pbkdfMemoryKiB: pbkdfMemoryKiB.optional(),
  pbkdfParallel: pbkdfParallel.optional(),
});

export const keyslotChangeRequestSchema = z.strictObject({
  path: pathSchema,
  passphrase: passphraseSchema,
  newPassphrase: passphraseSchema,
  iterTimeMs: iterTimeMsSchema.optional(),
  iterations: iterations.optional(),
  pbkdf: kdfType.optional(),
  pbkdfMemoryKiB: pbkdfMemoryKiB.optional(),
  pbkdfParallel: pbkdfParallel.optional(),
});

export const keyslotRemoveRequestSchema = z
  .strictObject({
    path: pathSchema,
    slot: slot.optional(),
    passphrase: passphraseSchema.optional(),
    forceLast: z.boolean().optional(),
  })
  .refine((r) => r.slot !== undefined || r.passphrase !== undefined, 'give a slot or a passphrase');

/** Recipient lines (age1… / SSH public keys): bounded text. */
const keyLines = z
  .string()
  .min(1)
  .max(64 * 1024);

export const exportRequestSchema = z.strictObject({
  source: pathSchema,
  bundleDir: pathSchema,
  recipient: shortText,
  sourcePassphrase: passphraseSchema.optional(),
  recipientPassphrase: passphraseSchema.optional(),
  sealTo: keyLines.optional(),
  signingKey: pathSchema.optional(),
  signingKeyPassphrase: passphraseSchema.optional(),
  keepMasterKey: z.boolean().optional(),
  tar: z.boolean().optional(),
  encryption: encryptOptionsSchema.optional(),
});

export const importRequestSchema = z.strictObject({
  bundleDir: pathSchema,
  target: pathSchema,
  passphrase: passphraseSchema.optional(),
  identityFile: pathSchema.optional(),
  identityPassphrase: passphraseSchema.optional(),
  allowedSignersFile: pathSchema.optional(),
  newPassphrase: passphraseSchema.optional(),
  keepHandedOver: z.boolean().optional(),
  libvirtUri: z.string().max(256).optional(),
  defineSecret: z.boolean().optional(),
  encryption: encryptOptionsSchema.optional(),
});

export const describeKeysRequestSchema = z.strictObject({
  recipients: keyLines.optional(),
  privateKey: pathSchema.optional(),
  publicKeyFile: pathSchema.optional(),
});

export const jobIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/);
export const hashNameSchema = z
  .string()
  .max(32)
  .regex(/^[a-z0-9-]+$/i);

export const headerConvertRequestSchema = z.strictObject({
  path: pathSchema,
  luksVersion: z.union([z.literal(1), z.literal(2)]),
});

export const headerBackupRequestSchema = z.strictObject({
  path: pathSchema,
  file: pathSchema,
  forceShare: z.boolean().optional(),
});

export const headerRestoreRequestSchema = z.strictObject({
  path: pathSchema,
  file: pathSchema,
  passphrase: passphraseSchema.optional(),
  force: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});

export const preflightRequestSchema = z.strictObject({
  kind: z.enum(['convert', 'migrate', 'export', 'import']),
  source: pathSchema,
  target: pathSchema,
  overwrite: z.boolean().optional(),
  sourcePassphrase: passphraseSchema.optional(),
  format: outputFormat.optional(),
  libvirtUri: z.string().min(1).max(256).optional(),
});
