/**
 * Master-key rotation in place (issue #17; README "Master-key rotation"): the service entry
 * points. `rekey(image, opts)` runs one rotation (or finishes an interrupted one with
 * `resume`); `rekeyJob` wraps it for the job registry (the contract's `startRekey`).
 *
 * Order (docs/DESIGN.md "Data safety"): the image is opened with its write lock for the whole
 * run; the old key is unlocked; the new header is built in memory; the journal (both headers,
 * fsynced, renamed into place) is written before the image is touched; the image is put in the
 * rotating state (rekey-target.ts); the data pass re-encrypts zone by zone
 * (core/jobs/rekey-engine.ts); the new header is installed; the journal is removed.
 */
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type { RekeyRequest, RekeyResult } from '../api/types.js';
import { fail } from '../api/errors.js';
import { dataCipherFor } from '../formats/luks/data-cipher.js';
import { headerIOForDevice } from '../formats/luks/header-io.js';
import { unlockLuks } from '../formats/luks/keyslots.js';
import type { UnlockedLuks } from '../formats/luks/unlocked.js';
import { memoryHeaderIO } from '../formats/luks/luks-rewrap.js';
import { bulkBuffer } from '../io/aligned-buffer.js';
import { readExact } from '../io/block-device.js';
import { FileDevice } from '../io/file-device.js';
import { makeJobContext, type JobContext, type JobFunction } from '../jobs/job-registry.js';
import { ProgressReporter } from '../jobs/progress.js';
import { runRotation } from '../jobs/rekey-engine.js';
import {
  createJournal,
  journalPathForImage,
  openJournal,
  removeRekeyJournal,
  type OpenJournal,
} from '../jobs/rekey-journal.js';
import { planRekey, type RekeyOptions } from './rekey-plan.js';
import { installHeader, markRotating, rekeyTarget, rotatingHeader } from './rekey-target.js';

export type { RekeyOptions } from './rekey-plan.js';

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false
  );
}

/**
 * Rotates the master key of `image` in place. Progress, cancel (`CANCELLED`, the image left
 * half-rotated and resumable) and ETA go through `ctx` when given (a job), else a private one.
 * @throws `WRONG_PASSPHRASE`, `KEYSLOT_ACTIVE` (other keyslots and no `dropOtherSlots`),
 *   `IMAGE_IN_USE`, `NOT_ENCRYPTED`, `UNSUPPORTED_FEATURE`, `EXISTS` (an interrupted rotation
 *   and no `resume`), `NOT_FOUND` (`resume` without a journal), `IO`, `NO_SPACE`.
 */
export async function rekey(
  image: string,
  opts: RekeyOptions,
  ctx: JobContext = makeJobContext(new AbortController().signal, new ProgressReporter())
): Promise<RekeyResult> {
  ctx.progress.setPhase('preparing');
  const journalPath = journalPathForImage(image);
  // The write lock is held from here to the end: no VM, qemu-img or other job of ours (and
  // the journal is looked at only under it, so a running rotation is not taken for a dead one).
  const dev = await FileDevice.open(image, { write: true, direct: true });
  const pending = await exists(journalPath);
  if (pending !== Boolean(opts.resume)) {
    await dev.close();
    throw pending
      ? fail(
          'EXISTS',
          `A master-key rotation of ${image} was interrupted: finish it with rekey --resume`
        )
      : fail('NOT_FOUND', `No interrupted master-key rotation of ${image} (${journalPath})`);
  }
  let journal: OpenJournal | undefined;
  const keys: UnlockedLuks[] = [];
  try {
    const target = await rekeyTarget(dev);
    if (pending) {
      journal = await openJournal(journalPath);
      // Both keys come from the journal's copies of the headers, with the passphrases.
      keys.push(await unlockLuks(memoryHeaderIO(journal.oldHeader.slice()), opts.passphrase));
      const slot0 = journal.plan.slots[0]?.passphrase;
      const newPass = slot0 === 'new' ? opts.newPassphrase : opts.passphrase;
      if (!newPass) {
        throw fail('NEEDS_PASSPHRASE', 'This rotation gave a new passphrase: give it again');
      }
      keys.push(await unlockLuks(memoryHeaderIO(journal.newHeader.slice()), newPass));
    } else {
      const io =
        target.kind === 'qcow2'
          ? undefined
          : headerIOForDevice(dev, Math.min(await dev.size(), 64 * 1024 * 1024));
      const planned = await planRekey(dev, target, io, opts);
      keys.push(planned.oldKey, planned.newKey);
      journal = await createJournal(
        journalPath,
        planned.plan,
        planned.oldHeader,
        planned.newHeader
      );
    }
    const [oldKey, newKey] = keys as [UnlockedLuks, UnlockedLuks];
    const { plan } = journal;
    if (plan.kind !== target.kind) {
      throw fail('JOURNAL_MISMATCH', `The journal ${journalPath} is not for this image`);
    }
    ctx.throwIfCancelled();
    await checkRegion(dev, plan.region, journal.oldHeader, journal.newHeader);
    const finishing = journal.record?.phase === 'finishing';
    if (!finishing) await markRotating(dev, target, plan.region, journal.oldHeader);

    const ranges =
      target.kind === 'qcow2' ? await target.ranges() : [rawPayload(oldKey, await dev.size())];
    const unit = plan.unit;
    const ivSector =
      target.kind === 'qcow2'
        ? (off: number) => off / 512
        : (off: number) => oldKey.ivTweak + (off - oldKey.payloadOffset) / 512;
    const oldCipher = await dataCipherFor(oldKey, threadsOpt(opts));
    const newCipher = await dataCipherFor(newKey, threadsOpt(opts)).catch(async (e: unknown) => {
      await oldCipher.dispose();
      throw e;
    });
    let stats;
    try {
      stats = await runRotation(
        {
          dev,
          ranges,
          unit,
          ivSector,
          oldCipher,
          newCipher,
          buffer: bulkBuffer(plan.zoneBytes, [dirname(image)]),
        },
        journal,
        ctx
      );
    } finally {
      await oldCipher.dispose();
      await newCipher.dispose();
    }
    ctx.progress.setPhase('finishing');
    await installHeader(dev, target, plan.region, journal.newHeader);
    await journal.close();
    journal = undefined;
    await removeRekeyJournal(journalPath);
    return {
      path: image,
      format: plan.kind,
      luksVersion: plan.luksVersion,
      slots: plan.slots.map((s) => s.slot),
      droppedSlots: plan.droppedSlots,
      bytesRekeyed: stats.bytesRekeyed,
      bytesTotal: stats.bytesTotal,
      resumed: pending,
    };
  } finally {
    for (const k of keys) k.dispose();
    await journal?.close().catch(() => undefined);
    await dev.close().catch(() => undefined);
  }
}

/**
 * Workers per key: the two pools take turns on each zone, so half the cores each (measured on
 * 2 cores: one worker per pool was as fast as two and took 90 MiB less memory).
 */
const threadsOpt = (o: RekeyOptions) => ({
  threads: o.threads ?? Math.max(1, Math.floor(availableParallelism() / 2)),
});

/** The raw LUKS payload as one range of the file. */
function rawPayload(u: UnlockedLuks, fileSize: number) {
  const avail = Math.max(0, fileSize - u.payloadOffset);
  const size = Math.min(u.payloadSize ?? avail, avail);
  return { start: u.payloadOffset, length: Math.floor(size / u.sectorSize) * u.sectorSize };
}

/**
 * The region in the file must be one of the journal's headers, as found or in the rotating
 * state, or mixed between them (a torn install): anything else means the journal belongs to
 * another image, and nothing is written.
 */
async function checkRegion(
  dev: FileDevice,
  region: { offset: number; length: number },
  oldHeader: Uint8Array,
  newHeader: Uint8Array
): Promise<void> {
  const now = await readExact(dev, region.length, region.offset, 'LUKS header region');
  const candidates = [oldHeader, rotatingHeader(oldHeader), newHeader, rotatingHeader(newHeader)];
  // The first 4 KiB page after the magic holds the UUID and digest: compare from byte 6 on.
  const fits = (h: Uint8Array) => now.subarray(6, 4096).every((b, i) => b === h[6 + i]);
  if (!candidates.some(fits)) {
    throw fail('JOURNAL_MISMATCH', 'The rotation journal does not belong to this image');
  }
}

/** The contract's `startRekey` as a job function (the registry wipes the passphrases). */
export function rekeyJob(req: RekeyRequest, threads?: number): JobFunction {
  return async (ctx) => {
    const { path, ...rest } = req;
    return rekey(path, { ...rest, ...(threads !== undefined ? { threads } : {}) }, ctx);
  };
}
