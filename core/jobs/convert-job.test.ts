import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { patternBytes } from '../testing/bytes.js';
import { scratchDir } from '../testing/peers.js';
import { runConversion, type ConversionSpec } from './convert-job.js';
import { identifySource, readJournal } from './journal.js';
import { JobRegistry, makeJobContext } from './job-registry.js';
import { ProgressReporter } from './progress.js';
import { MemoryImage, rawFileReader, rawFileWriter } from './test-fakes.js';

const MiB = 1024 * 1024;

async function setup(dir: string) {
  const srcPath = join(dir, 'source.img');
  const bytes = patternBytes(12 * MiB, 31);
  bytes.fill(0, 6 * MiB, 8 * MiB); // a hole in the middle
  await writeFile(srcPath, bytes);
  const image = new MemoryImage(12 * MiB);
  image.put(0, bytes.subarray(0, 6 * MiB));
  image.put(8 * MiB, bytes.subarray(8 * MiB));
  return { srcPath, bytes, image };
}

function spec(
  dir: string,
  image: MemoryImage,
  identity: Awaited<ReturnType<typeof identifySource>>,
  extra: Partial<ConversionSpec> & { failAfterWrites?: number } = {}
): ConversionSpec & { writes: () => number } {
  let writes = 0;
  const count = <T extends { writes: number }>(w: T) => {
    const orig = (w as unknown as { write: (b: Uint8Array, o: number) => Promise<void> }).write;
    (w as unknown as { write: typeof orig }).write = async (b, o) => {
      await orig(b, o);
      writes++;
    };
    return w;
  };
  return {
    target: join(dir, 'out.img'),
    openSource: async () => image.reader(),
    createTarget: async (p, s) =>
      count(
        await rawFileWriter(p, s.virtualSize, {
          create: true,
          failAfterWrites: extra.failAfterWrites,
        })
      ),
    reopenTarget: async (p, s) => count(await rawFileWriter(p, s.virtualSize, { create: false })),
    openResult: (p) => rawFileReader(p),
    sourceIdentity: identity,
    targetOptions: { format: 'raw', clusterSize: 65536 },
    copy: { chunkSize: MiB, checkpointEvery: 2 * MiB, checkpointInterval: 0 },
    ...extra,
    writes: () => writes,
  };
}

const ctx = () => {
  const progress = new ProgressReporter();
  return makeJobContext(new AbortController().signal, progress);
};

test('a conversion runs through its phases and publishes a verified output', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const { srcPath, bytes, image } = await setup(dir);
    const reg = new JobRegistry();
    const phases: string[] = [];
    reg.subscribe((j) => {
      if (phases.at(-1) !== j.progress.phase) phases.push(j.progress.phase);
    });
    const s = spec(dir, image, await identifySource(srcPath));
    const job = await reg.wait(reg.start('convert', 'x', (c) => runConversion(s, c)).id);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    // Every wait before the bytes move has a name (issue #14: no silent "Preparing").
    assert.deepEqual(phases, [
      'preparing',
      'unlocking',
      'creating',
      'counting',
      'copying',
      'verifying',
      'finishing',
    ]);
    assert.equal(job.result?.verified, true);
    assert.equal(job.result?.dataBytes, 10 * MiB);
    assert.deepEqual(new Uint8Array(await readFile(s.target)), bytes);
    assert.deepEqual(await readdir(dir), ['out.img', 'source.img']);
  } finally {
    await cleanup();
  }
});

test('kill, then resume from the checkpoint gives an identical result', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const { srcPath, bytes, image } = await setup(dir);
    const identity = await identifySource(srcPath);
    const first = spec(dir, image, identity, { failAfterWrites: 5 });
    await assert.rejects(runConversion(first, ctx()), { code: 'IO' });
    assert.deepEqual((await readdir(dir)).sort(), [
      'out.img.partial',
      'out.img.partial.journal',
      'source.img',
    ]);
    const journal = await readJournal(join(dir, 'out.img.partial.journal'));
    assert.equal(journal?.checkpoint, 4 * MiB);
    assert.deepEqual(journal?.target, { format: 'raw', clusterSize: 65536 });

    const second = spec(dir, image, identity, { resume: true });
    const r = await runConversion(second, ctx());
    assert.equal(r.resumedFrom, 4 * MiB);
    assert.equal(second.writes(), 6, 'only the chunks from 4 MiB on, minus the hole');
    assert.deepEqual(new Uint8Array(await readFile(second.target)), bytes);
    assert.deepEqual((await readdir(dir)).sort(), ['out.img', 'source.img']);
  } finally {
    await cleanup();
  }
});

test('resume against a different source or options is refused with JOURNAL_MISMATCH', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const { srcPath, image } = await setup(dir);
    const identity = await identifySource(srcPath);
    await assert.rejects(runConversion(spec(dir, image, identity, { failAfterWrites: 3 }), ctx()), {
      code: 'IO',
    });
    await writeFile(srcPath, patternBytes(12 * MiB, 99)); // another source, same size
    const changed = await identifySource(srcPath);
    await assert.rejects(runConversion(spec(dir, image, changed, { resume: true }), ctx()), {
      code: 'JOURNAL_MISMATCH',
    });
    const otherOpts = spec(dir, image, identity, {
      resume: true,
      targetOptions: { format: 'qcow2' },
    });
    await assert.rejects(runConversion(otherOpts, ctx()), { code: 'JOURNAL_MISMATCH' });
    // The refused partial is left for the user to decide about.
    assert.ok((await readdir(dir)).includes('out.img.partial'));
  } finally {
    await cleanup();
  }
});

test('verify failure and cancel remove the output', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const { srcPath, image } = await setup(dir);
    const identity = await identifySource(srcPath);
    const bad = spec(dir, image, identity, {
      openResult: async (p) => {
        const r = await rawFileReader(p);
        return {
          ...r,
          read: async (buf, off) => {
            await r.read(buf, off);
            const i = 3 * MiB - off;
            if (i >= 0 && i < buf.length) buf[i] = (buf[i] ?? 0) ^ 0xff;
          },
        };
      },
    });
    await assert.rejects(runConversion(bad, ctx()), {
      code: 'VERIFY_FAILED',
      message: new RegExp(`offset ${3 * MiB} `),
    });
    assert.deepEqual(await readdir(dir), ['source.img']);

    const reg = new JobRegistry();
    const s = spec(dir, image, identity);
    const origOpen = s.openSource;
    let id = '';
    s.openSource = async () => {
      const r = await origOpen();
      const read = r.read.bind(r);
      r.read = async (buf, off) => {
        if (off >= 2 * MiB) reg.cancel(id);
        await read(buf, off);
      };
      return r;
    };
    id = reg.start('convert', 'x', (c) => runConversion(s, c)).id;
    const job = await reg.wait(id);
    assert.equal(job.state, 'cancelled');
    assert.deepEqual(await readdir(dir), ['source.img']);
  } finally {
    await cleanup();
  }
});
