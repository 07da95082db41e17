/**
 * Resuming a qcow2 and a qcow2+LUKS output from a mid-copy checkpoint (core/jobs/copy.ts,
 * convert-job.ts) with the real targets (targets.ts): the first run fails part-way with an
 * I/O error, the second continues from the journal's checkpoint, and the result passes
 * `qemu-img check` and equals the source guest bytes in `qemu-img compare`. Checkpoints are
 * forced every 2 MiB: the CLI's defaults (256 MiB, 2 s apart) make small copies finish first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../api/errors.js';
import type { GuestWriter } from '../formats/image.js';
import { FileDevice } from '../io/file-device.js';
import { runConversion, type ConversionSpec } from '../jobs/convert-job.js';
import { identifySource, readJournal } from '../jobs/journal.js';
import { makeJobContext } from '../jobs/job-registry.js';
import { ProgressReporter } from '../jobs/progress.js';
import { MemoryImage } from '../jobs/test-fakes.js';
import { patternBytes } from '../testing/bytes.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  scratchDir,
} from '../testing/peers.js';
import { owningWriter } from './convert.js';
import { openImage } from './open-image.js';
import { createTarget, reopenTarget, type TargetSpec } from './targets.js';

const MiB = 1024 * 1024;
const SIZE = 24 * MiB;

/** A writer whose writes fail with `IO` once `limit` of them have succeeded. */
function failingAfter(w: GuestWriter, limit: number): GuestWriter {
  let ok = 0;
  return {
    virtualSize: w.virtualSize,
    granularity: w.granularity,
    ...(w.concurrentWrites ? { concurrentWrites: w.concurrentWrites } : {}),
    async write(buf, offset) {
      if (ok >= limit) throw fail('IO', 'injected write failure');
      await w.write(buf, offset);
      ok++;
    },
    flush: () => w.flush(),
    close: () => w.close(),
  };
}

async function opened(
  partial: string,
  target: TargetSpec,
  make: typeof createTarget,
  fresh: boolean
): Promise<GuestWriter> {
  const dev = await FileDevice.open(
    partial,
    fresh ? { createTruncate: true, direct: true } : { write: true, direct: true }
  );
  try {
    return owningWriter(await make(dev, target), dev);
  } catch (e) {
    await dev.close();
    throw e;
  }
}

for (const encrypted of [false, true]) {
  const name = encrypted ? 'qcow2+LUKS' : 'qcow2';
  test(
    `a ${name} output resumes from its checkpoint and matches the source`,
    peerTestOptions('qemu-img'),
    async () => {
      const { dir, cleanup } = await scratchDir();
      try {
        const bytes = patternBytes(SIZE, encrypted ? 7 : 8);
        bytes.fill(0, 10 * MiB, 13 * MiB); // a hole the copy skips
        const rawPath = join(dir, 'source.raw');
        await writeFile(rawPath, bytes);
        const image = new MemoryImage(SIZE);
        image.put(0, bytes.subarray(0, 10 * MiB));
        image.put(13 * MiB, bytes.subarray(13 * MiB));
        const pw = await passphraseFile(dir, 'pw', 'resume me');
        const passphrase = encrypted ? new Uint8Array(await readFile(pw)) : undefined;
        const identity = await identifySource(rawPath);
        const target: TargetSpec = {
          format: 'qcow2',
          virtualSize: SIZE,
          passphrase,
          encryption: { iterations: 1000 },
          threads: 0,
        };
        const spec = (failAfter?: number): ConversionSpec => ({
          target: join(dir, 'out.qcow2'),
          openSource: async () => image.reader(),
          createTarget: async (p) => {
            const w = await opened(p, target, createTarget, true);
            return failAfter === undefined ? w : failingAfter(w, failAfter);
          },
          reopenTarget: (p) => opened(p, target, reopenTarget, false),
          openResult: (p) => openImage(p, { passphrase, format: 'qcow2', threads: 0 }),
          sourceIdentity: identity,
          targetOptions: { format: 'qcow2', encrypted },
          copy: { chunkSize: MiB, checkpointEvery: 2 * MiB, checkpointInterval: 0 },
        });
        const ctx = () => makeJobContext(new AbortController().signal, new ProgressReporter());

        await assert.rejects(runConversion(spec(12), ctx()), { code: 'IO' });
        const journal = await readJournal(join(dir, 'out.qcow2.partial.journal'));
        const checkpoint = journal?.checkpoint ?? 0;
        assert.ok(checkpoint >= 4 * MiB, `a checkpoint was recorded (${checkpoint})`);

        const r = await runConversion({ ...spec(), resume: true }, ctx());
        assert.equal(r.resumedFrom, checkpoint);
        assert.equal(r.verified, true);

        const out = join(dir, 'out.qcow2');
        if (encrypted) {
          const secret = await qemuSecret(dir, 's', 'resume me');
          const img = `driver=qcow2,file.filename=${out},encrypt.key-secret=s`;
          await runOk('qemu-img', ['check', ...secret, '--image-opts', img]);
          const raw = `driver=raw,file.filename=${rawPath}`;
          await runOk('qemu-img', ['compare', ...secret, '--image-opts', img, raw]);
        } else {
          await runOk('qemu-img', ['check', '-f', 'qcow2', out]);
          await runOk('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', out, rawPath]);
        }
      } finally {
        await cleanup();
      }
    }
  );
}
