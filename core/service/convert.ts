/**
 * Conversions as jobs: `convert` (any readable image → qcow2 / raw / raw LUKS, decrypting
 * and/or encrypting in one sparse pass) and `migrate` (legacy AES qcow/qcow2 → qcow2+LUKS,
 * refusing a passphrase that decrypts to noise). Both run `runConversion`: output to
 * `TARGET.partial`, journal for `--resume`, verify, rename.
 */
import { dirname, relative, resolve } from 'node:path';
import { fail } from '../api/errors.js';
import type { ConvertRequest, EncryptOptions, MigrateRequest, OutputFormat } from '../api/types.js';
import { FileDevice } from '../io/file-device.js';
import type { GuestReader, GuestWriter } from '../formats/image.js';
import { runConversion, type ConversionResult } from '../jobs/convert-job.js';
import { identifySource, type TargetOptions } from '../jobs/journal.js';
import type { JobContext } from '../jobs/job-registry.js';
import { samplePlausibility } from '../jobs/legacy-heuristic.js';
import { inspectImage } from './inspect.js';
import { openImage } from './open-image.js';
import { refuseOwnSource } from './output-guard.js';
import {
  createTarget,
  DEFAULT_CIPHER,
  DEFAULT_HASH,
  reopenTarget,
  type TargetSpec,
} from './targets.js';

interface PlannedConversion {
  source: string;
  target: string;
  format: OutputFormat;
  sourcePassphrase?: Uint8Array;
  /** Passphrases of the source's backing layers (see OpenImageOptions). */
  backingPassphrases?: (Uint8Array | undefined)[];
  passphrase?: Uint8Array;
  encryption?: EncryptOptions;
  clusterSize?: number;
  compat?: '0.10' | '1.1';
  verify?: boolean;
  resume?: boolean;
  overwrite?: boolean;
  /** Read only the top layer (keep the backing reference in the output). */
  topLayerOnly?: boolean;
  /** Read the source while a writer holds it (`-U`). */
  forceShare?: boolean;
  backingFile?: string;
  backingFormat?: string;
  threads?: number;
}

/**
 * Closes the device when the writer is closed (the writer does not own it). Everything else,
 * including how many writes may overlap, is the writer's.
 */
export function owningWriter(writer: GuestWriter, dev: { close(): Promise<void> }): GuestWriter {
  return {
    virtualSize: writer.virtualSize,
    granularity: writer.granularity,
    ...(writer.concurrentWrites ? { concurrentWrites: writer.concurrentWrites } : {}),
    write: (buf, off) => writer.write(buf, off),
    flush: () => writer.flush(),
    close: async () => {
      try {
        await writer.close();
      } finally {
        await dev.close().catch(() => undefined);
      }
    },
  };
}

async function runPlanned(p: PlannedConversion, ctx: JobContext): Promise<ConversionResult> {
  await refuseOwnSource(p.source, p.target);
  const encrypted = p.format === 'luks' || p.passphrase !== undefined;
  if (encrypted && !p.passphrase) throw fail('NEEDS_PASSPHRASE', 'The output needs a passphrase');
  const targetSpec = (virtualSize: number): TargetSpec => ({
    format: p.format,
    virtualSize,
    clusterSize: p.clusterSize,
    compat: p.compat,
    passphrase: p.passphrase,
    encryption: p.encryption,
    backingFile: p.backingFile,
    backingFormat: p.backingFormat,
    threads: p.threads,
  });
  const targetOptions: TargetOptions = {
    format: p.format,
    clusterSize: p.clusterSize ?? null,
    compat: p.compat ?? null,
    encrypted,
    cipher: encrypted ? (p.encryption?.cipher ?? DEFAULT_CIPHER) : null,
    hash: encrypted ? (p.encryption?.hash ?? DEFAULT_HASH) : null,
    backingFile: p.backingFile ?? null,
  };
  return runConversion(
    {
      target: p.target,
      openSource: () =>
        openImage(p.source, {
          passphrase: p.sourcePassphrase,
          backingPassphrases: p.backingPassphrases,
          threads: p.threads,
          topLayerOnly: p.topLayerOnly,
          forceShare: p.forceShare,
        }),
      createTarget: async (partial, src) => {
        const dev = await FileDevice.open(partial, { createTruncate: true, direct: true });
        try {
          return owningWriter(await createTarget(dev, targetSpec(src.virtualSize)), dev);
        } catch (e) {
          await dev.close().catch(() => undefined);
          throw e;
        }
      },
      reopenTarget: async (partial, src) => {
        const dev = await FileDevice.open(partial, { write: true, direct: true });
        try {
          return owningWriter(await reopenTarget(dev, targetSpec(src.virtualSize)), dev);
        } catch (e) {
          await dev.close().catch(() => undefined);
          throw e;
        }
      },
      // The result is always compared as a whole (with its backing chain) against the whole
      // source, even when only the top layer was copied (--keep-backing).
      // It was written with O_DIRECT: read it the same way (nothing of it is in the page cache).
      openResult: (path) =>
        openImage(path, {
          passphrase: p.passphrase,
          threads: p.threads,
          format: p.format,
          directReads: true,
        }),
      openVerifySource: p.topLayerOnly
        ? () =>
            openImage(p.source, {
              passphrase: p.sourcePassphrase,
              backingPassphrases: p.backingPassphrases,
              threads: p.threads,
              forceShare: p.forceShare,
            })
        : undefined,
      sourceIdentity: await identifySource(p.source),
      targetOptions,
      resume: p.resume,
      verify: p.verify,
      overwrite: p.overwrite,
    },
    ctx
  );
}

/**
 * Reading while a writer holds the source (`-U` / `--force-share`, like qemu-img's). The CLI
 * passes it with its requests; the app's contract has no such field (yet): it shows such an
 * image as in use instead.
 */
export interface ShareOptions {
  forceShare?: boolean;
  /**
   * One passphrase per backing layer (the CLI's `--backing-passphrase-file`, qemu-img's
   * `backing.encrypt.key-secret`); beside the contract like `forceShare`.
   */
  backingPassphrases?: (Uint8Array | undefined)[];
}

export function convertJob(req: ConvertRequest & ShareOptions, threads?: number) {
  return async (ctx: JobContext): Promise<Record<string, unknown>> => {
    const result = await runPlanned(
      {
        source: req.source,
        target: req.target,
        format: req.format,
        sourcePassphrase: req.sourcePassphrase,
        backingPassphrases: req.backingPassphrases,
        passphrase: req.passphrase,
        encryption: req.encryption,
        clusterSize: req.clusterSize,
        compat: req.compat,
        verify: req.verify,
        resume: req.resume,
        overwrite: req.overwrite,
        forceShare: req.forceShare,
        threads,
      },
      ctx
    );
    // `source`: the faces link the output to what it was made from (issue #14).
    return { ...result, source: req.source };
  };
}

/** Checks the legacy passphrase on a sample of decrypted sectors before any output exists. */
export async function assessLegacy(
  path: string,
  passphrase: Uint8Array,
  threads?: number,
  forceShare?: boolean
) {
  const reader: GuestReader = await openImage(path, {
    passphrase,
    threads,
    topLayerOnly: true,
    forceShare,
  });
  try {
    return await samplePlausibility(reader);
  } finally {
    await reader.close();
  }
}

export function migrateJob(req: MigrateRequest & ShareOptions, threads?: number) {
  return async (ctx: JobContext): Promise<Record<string, unknown>> => {
    ctx.progress.setPhase('inspecting');
    const share = { forceShare: req.forceShare };
    const info = await inspectImage(req.source, share);
    if (info.encryption?.format !== 'aes') {
      throw fail(
        'INVALID_ARGUMENT',
        info.encryption?.format === 'luks'
          ? `${req.source} is already LUKS-encrypted: nothing to migrate`
          : `${req.source} is not encrypted with legacy AES (use convert)`
      );
    }
    ctx.progress.setPhase('checking-passphrase');
    const assessment = await assessLegacy(req.source, req.oldPassphrase, threads, req.forceShare);
    if (assessment.verdict === 'random' && !req.force) {
      throw fail(
        'WRONG_PASSPHRASE',
        `The old passphrase looks wrong: ${assessment.explanation} (use --force if you are sure)`
      );
    }
    ctx.throwIfCancelled();
    const keep = req.keepBacking === true && info.backingFile !== undefined;
    // The reference must resolve from the target's folder, which may differ from the source's.
    const backingPath = info.backingChain[0]?.path;
    const backingRef =
      keep && backingPath
        ? relative(dirname(resolve(req.target)), resolve(backingPath))
        : undefined;
    if (keep) {
      const backingEnc = info.backingChain[0];
      if (backingEnc) {
        const b = await inspectImage(backingEnc.path, share);
        if (b.encryption?.format === 'aes') {
          throw fail(
            'UNSUPPORTED_FEATURE',
            `The backing file ${backingEnc.path} also uses legacy AES: migrate it first, or use --flatten`
          );
        }
      }
    }
    const result = await runPlanned(
      {
        source: req.source,
        target: req.target,
        format: 'qcow2',
        sourcePassphrase: req.oldPassphrase,
        passphrase: req.passphrase,
        encryption: req.encryption,
        verify: req.verify,
        resume: req.resume,
        topLayerOnly: keep,
        forceShare: req.forceShare,
        backingFile: keep ? backingRef : undefined,
        backingFormat: keep ? (info.backingFormat ?? info.backingChain[0]?.format) : undefined,
        threads,
      },
      ctx
    );
    return {
      ...result,
      source: req.source,
      assessment: assessment.verdict,
      // What the result may claim (docs/DESIGN.md "Data safety"): with the heuristic
      // overridden, "verified" only means equal to what this passphrase decrypts.
      passphraseCheck: {
        verdict: assessment.verdict,
        sampledSectors: assessment.sampledSectors,
        plausibleSectors: assessment.plausibleSectors,
        randomSectors: assessment.randomSectors,
        explanation: assessment.explanation,
      },
      passphraseOverridden: req.force === true && assessment.verdict !== 'plausible',
      snapshotsNotCarried: info.snapshots.length,
      keptBacking: keep,
    };
  };
}
