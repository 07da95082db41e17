/** Argument schemas of the rekey operation (types in rekey-types.ts). */
import { z } from 'zod';
import { passphraseSchema, pathSchema } from './schemas.js';

export const rekeyRequestSchema = z.strictObject({
  path: pathSchema,
  passphrase: passphraseSchema,
  newPassphrase: passphraseSchema.optional(),
  otherPassphrases: z.array(passphraseSchema).max(32).optional(),
  dropOtherSlots: z.boolean().optional(),
  resume: z.boolean().optional(),
});
