/**
 * Zod schemas of the batch operation (batch-types.ts): the request a face sends and the
 * per-image report pushed as `{ type: 'batch' }` events. Checked at compile time to describe
 * exactly the types, like every schema of the contract (contract.ts).
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import type { BatchOperation, BatchReport, BatchRequest } from './batch-types.js';
import { iterTimeMsSchema, passphraseSchema, pathSchema } from './schemas.js';

/** Every batch operation (one action each in core/service/batch-actions.ts). */
export const BATCH_OPERATIONS = [
  'keyslot-change',
  'keyslot-add',
  'keyslot-remove',
  'rekey',
] as const satisfies readonly BatchOperation[];

/** Most images one batch request may name. */
export const MAX_BATCH_IMAGES = 10_000;
/** Most images worked on at once. */
export const MAX_BATCH_JOBS = 16;

const count = z.number().int().nonnegative();

export const batchRequestSchema = z
  .strictObject({
    operation: z.enum(BATCH_OPERATIONS),
    paths: z.array(pathSchema).min(1).max(MAX_BATCH_IMAGES),
    passphrase: passphraseSchema.optional(),
    newPassphrase: passphraseSchema.optional(),
    slot: z.number().int().min(0).max(31).optional(),
    forceLast: z.boolean().optional(),
    dropOtherSlots: z.boolean().optional(),
    jobs: z.number().int().min(1).max(MAX_BATCH_JOBS).optional(),
    iterTimeMs: iterTimeMsSchema.optional(),
    iterations: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31 - 1)
      .optional(),
    pbkdf: z.enum(['pbkdf2', 'argon2i', 'argon2id']).optional(),
    pbkdfMemoryKiB: z
      .number()
      .int()
      .min(32)
      .max(4 * 1024 * 1024)
      .optional(),
    pbkdfParallel: z.number().int().min(1).max(4).optional(),
  })
  .refine(
    (r) => r.operation === 'keyslot-remove' || (r.passphrase && r.newPassphrase),
    'change, add and rekey need the current and the new passphrase'
  )
  .refine(
    (r) => r.operation !== 'keyslot-remove' || r.slot !== undefined || r.passphrase,
    'remove needs a slot or a passphrase'
  );

export const batchItemSchema = z.strictObject({
  path: z.string(),
  status: z.enum(['pending', 'running', 'changed', 'unchanged', 'skipped', 'failed']),
  code: z.enum(ERROR_CODES).optional(),
  reason: z.string().optional(),
  slot: count.optional(),
  removed: z.array(count).optional(),
  holder: z
    .strictObject({ writer: z.boolean(), pid: count.optional(), holder: z.string().optional() })
    .optional(),
});

export const batchReportSchema = z.strictObject({
  kind: z.literal('image-vault-batch-report'),
  version: z.literal(1),
  jobId: z.string().optional(),
  operation: z.enum(BATCH_OPERATIONS),
  host: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  finished: z.boolean(),
  cancelled: z.boolean(),
  summary: z.strictObject({
    total: count,
    changed: count,
    unchanged: count,
    skipped: count,
    failed: count,
    remaining: count,
  }),
  images: z.array(batchItemSchema),
});

// ---- Compile-time checks: the schemas and the types say the same thing. ----
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type _Request = Assert<Equals<z.input<typeof batchRequestSchema>, BatchRequest>>;
type _Report = Assert<Equals<z.output<typeof batchReportSchema>, BatchReport>>;
