/**
 * The resume journal (`TARGET.partial.journal`, JSON) beside a partial output: who the source
 * is, how the target was made, and the last checkpoint below which every guest byte is
 * durably in the partial. It never holds secrets or keys: only public parameters.
 */
import { createHash } from '../crypto/node-crypto.js';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail, toVaultError } from '../api/errors.js';
import { fsyncPath } from './atomic-output.js';

/** Bytes of the source file hashed into its identity (covers every format's header). */
export const IDENTITY_HEAD_BYTES = 1024 * 1024;

/** Identifies a source file well enough to refuse resuming against a different one. */
export interface SourceIdentity {
  path: string;
  size: number;
  mtimeMs: number;
  /** sha256 (hex) of the first MiB of the file, header included. */
  headSha256: string;
}

/** Public target parameters (format, cluster size, cipher, …). Never passphrases or keys. */
export type TargetOptions = Record<string, string | number | boolean | null>;

export interface ResumeJournal {
  version: 1;
  source: SourceIdentity;
  target: TargetOptions;
  chunkSize: number;
  /** Guest offset below which the partial output is complete and durable. */
  checkpoint: number;
  updatedAt: string;
}

/**
 * The journal's shape, built on first use: only a resume reads a journal, and loading zod
 * costs every other command ~20 ms of startup.
 */
async function journalSchema() {
  const { z } = await import('zod');
  return z.object({
    version: z.literal(1),
    source: z.object({
      path: z.string(),
      size: z.number().int().nonnegative(),
      mtimeMs: z.number(),
      headSha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
    target: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    chunkSize: z.number().int().positive(),
    checkpoint: z.number().int().nonnegative(),
    updatedAt: z.string(),
  });
}

/** Names that must never appear in a journal's target options. */
const SECRET_NAME = /pass|secret|password|master|^key$|keydata|volumekey/i;

/** Stats and hashes the source file (read-only). */
export async function identifySource(path: string): Promise<SourceIdentity> {
  try {
    const st = await stat(path);
    const fh = await open(path, 'r');
    try {
      const head = new Uint8Array(Math.min(IDENTITY_HEAD_BYTES, st.size));
      let done = 0;
      while (done < head.length) {
        const { bytesRead } = await fh.read(head, done, head.length - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      const headSha256 = createHash('sha256').update(head.subarray(0, done)).digest('hex');
      return { path, size: st.size, mtimeMs: st.mtimeMs, headSha256 };
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw toVaultError(e);
  }
}

/** Refuses target options whose names look like secrets (defence in depth). */
export function assertNoSecrets(target: TargetOptions): void {
  for (const name of Object.keys(target)) {
    if (SECRET_NAME.test(name)) {
      throw fail('INTERNAL', `Refusing to record "${name}" in a resume journal`);
    }
  }
}

/** Writes the journal atomically (temp file, fsync, rename, fsync directory). */
export async function writeJournal(path: string, journal: ResumeJournal): Promise<void> {
  assertNoSecrets(journal.target);
  const tmp = `${path}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(journal, null, 2) + '\n', { mode: 0o600 });
    await fsyncPath(tmp, false);
    await rename(tmp, path);
  } catch (e) {
    // A full disk leaves an empty temporary file: never leave it behind (issue #13).
    await rm(tmp, { force: true }).catch(() => undefined);
    throw toVaultError(e);
  }
  await fsyncPath(dirname(path), true);
}

/** Reads a journal; `undefined` when there is none, `JOURNAL_MISMATCH` when it is unreadable. */
export async function readJournal(path: string): Promise<ResumeJournal | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw toVaultError(e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('JOURNAL_MISMATCH', `The resume journal is not valid JSON: ${path}`);
  }
  const r = (await journalSchema()).safeParse(parsed);
  if (!r.success) throw fail('JOURNAL_MISMATCH', `The resume journal is malformed: ${path}`);
  return r.data;
}

/**
 * Checks that `journal` belongs to this source and these target options.
 * @throws `JOURNAL_MISMATCH` naming what differs.
 */
export function checkJournal(
  journal: ResumeJournal,
  source: SourceIdentity,
  target: TargetOptions
): void {
  const s = journal.source;
  const diffs: string[] = [];
  if (s.size !== source.size) diffs.push('source size');
  if (s.mtimeMs !== source.mtimeMs) diffs.push('source modification time');
  if (s.headSha256 !== source.headSha256) diffs.push('source header');
  if (canonical(journal.target) !== canonical(target)) diffs.push('target options');
  if (diffs.length > 0) {
    throw fail(
      'JOURNAL_MISMATCH',
      `The partial output was made from a different source or with different options (${diffs.join(', ')}); start without --resume`
    );
  }
}

function canonical(o: TargetOptions): string {
  return JSON.stringify(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]])
  );
}
