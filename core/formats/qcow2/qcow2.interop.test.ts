/**
 * Interop against qemu-img/qemu-io 7.2 (docs/spec/README.md commands): our reads equal
 * `qemu-img convert -O raw`, our writes pass `qemu-img check` and `qemu-img compare`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileDevice } from '../../io/file-device.js';
import { patternBytes } from '../../testing/bytes.js';
import { peerTestOptions, run, runOk, scratchDir } from '../../testing/peers.js';
import type { GuestReader } from '../image.js';
import { openRaw } from '../raw/raw.js';
import { checkQcow2 } from './check.js';
import { createQcow2, reopenQcow2Writer } from './create.js';
import { openQcow2 } from './reader.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');
const M = 1024 * 1024;

let dir = '';
let cleanup: () => Promise<void> = async () => {};

async function openAny(path: string, format?: string): Promise<GuestReader> {
  const dev = await FileDevice.open(path);
  if (format === 'raw') return openRaw(dev);
  return openQcow2(dev, { openBacking: openAny });
}

async function readAll(r: GuestReader): Promise<Uint8Array> {
  const out = new Uint8Array(r.virtualSize);
  const step = 3 * M + 4096; // odd size to exercise unaligned boundaries
  for (let p = 0; p < r.virtualSize; p += step) {
    await r.read(out.subarray(p, Math.min(r.virtualSize, p + step)), p);
  }
  return out;
}

/** Asserts our guest bytes equal qemu-img convert's, and our check finds nothing. */
async function assertSameAsQemu(name: string): Promise<void> {
  const path = join(dir, name);
  const rawOut = join(dir, `${name}.out.raw`);
  await runOk('qemu-img', ['convert', '-O', 'raw', path, rawOut]);
  const expected = await readFile(rawOut);
  const img = await openAny(path);
  try {
    const ours = await readAll(img);
    assert.equal(ours.length, expected.length);
    assert.ok(Buffer.from(ours).equals(expected), `${name}: guest bytes differ from qemu-img`);
    // map(): every data byte must lie in a data extent.
    const exts = await img.map(0, img.virtualSize);
    let covered = 0;
    for (const e of exts) {
      assert.equal(e.offset, covered);
      covered += e.length;
      if (e.kind === 'zero') {
        assert.ok(expected.subarray(e.offset, e.offset + e.length).every((b) => b === 0));
      }
    }
    assert.equal(covered, img.virtualSize);
  } finally {
    await img.close();
  }
  const dev = await FileDevice.open(path);
  try {
    const ck = await checkQcow2(dev);
    assert.equal(ck.corruptions, 0, ck.messages.join('\n'));
    assert.equal(ck.leaks, 0, ck.messages.join('\n'));
  } finally {
    await dev.close();
  }
}

async function qemuIo(file: string, ...cmds: string[]): Promise<void> {
  await runOk('qemu-io', ['-f', 'qcow2', ...cmds.flatMap((c) => ['-c', c]), join(dir, file)]);
}

const WRITES = [
  'write -P 0xab 0 64k',
  'write -P 0x11 1M 4k',
  'write -P 0x22 3M 1536',
  'write -z 5M 64k',
  'write -P 0x33 7M 256k',
  'write -P 0x44 16380k 4k',
];

describe('qcow2 reading matches qemu-img convert', opts, () => {
  before(async () => ({ dir, cleanup } = await scratchDir('qcow2-interop-')));
  after(() => cleanup());

  const variants: [string, string[]][] = [
    ['v3.qcow2', []],
    ['v2.qcow2', ['-o', 'compat=0.10']],
    ['c512.qcow2', ['-o', 'cluster_size=512']],
    ['c4k.qcow2', ['-o', 'cluster_size=4096']],
    ['c2m.qcow2', ['-o', 'cluster_size=2M']],
    ['rc1.qcow2', ['-o', 'refcount_bits=1']],
    ['rc64.qcow2', ['-o', 'refcount_bits=64,cluster_size=4096']],
    ['extl2.qcow2', ['-o', 'extended_l2=on']],
    ['extl2-16k.qcow2', ['-o', 'extended_l2=on,cluster_size=16384,refcount_bits=64']],
  ];
  for (const [name, args] of variants) {
    it(`${name} (${args.join(' ') || 'defaults'})`, async () => {
      await runOk('qemu-img', ['create', '-f', 'qcow2', ...args, join(dir, name), '16M']);
      await qemuIo(name, ...WRITES);
      await assertSameAsQemu(name);
    });
  }

  for (const ct of ['zlib', 'zstd']) {
    it(`compressed clusters (${ct})`, async () => {
      const src = join(dir, `csrc-${ct}.raw`);
      const data = new Uint8Array(8 * M);
      data.set(
        patternBytes(M, 3).map((b) => b & 0x0f),
        M
      ); // compressible
      data.fill(0x5a, 3 * M, 3 * M + 70000);
      data.set(patternBytes(100000, 9), 6 * M);
      await writeFile(src, data);
      const name = `comp-${ct}.qcow2`;
      await runOk('qemu-img', [
        'convert',
        '-c',
        '-O',
        'qcow2',
        '-o',
        `compression_type=${ct}`,
        src,
        join(dir, name),
      ]);
      await assertSameAsQemu(name);
      const img = await openAny(join(dir, name));
      assert.ok(Buffer.from(await readAll(img)).equals(Buffer.from(data)));
      await img.close();
    });
  }

  it('backing chain depth 2 with relative names (raw base, qcow2 middle, short backing)', async () => {
    const base = join(dir, 'base.raw');
    await writeFile(base, patternBytes(4 * M, 5));
    await runOk('qemu-img', [
      'create',
      '-f',
      'qcow2',
      '-b',
      'base.raw',
      '-F',
      'raw',
      join(dir, 'mid.qcow2'),
      '8M',
    ]);
    await qemuIo('mid.qcow2', 'write -P 0x61 1M 64k', 'write -z 2M 64k', 'write -P 0x62 5M 64k');
    await runOk('qemu-img', [
      'create',
      '-f',
      'qcow2',
      '-b',
      'mid.qcow2',
      '-F',
      'qcow2',
      join(dir, 'top.qcow2'),
      '12M',
    ]);
    await qemuIo('top.qcow2', 'write -P 0x71 0 4k', 'write -P 0x72 2M 4k', 'write -P 0x73 10M 64k');
    await assertSameAsQemu('top.qcow2');
    const top = await openQcow2(await FileDevice.open(join(dir, 'top.qcow2')), {
      openBacking: openAny,
    });
    assert.equal(top.backingFile, 'mid.qcow2');
    assert.equal(top.backingPath, join(dir, 'mid.qcow2'));
    await top.close();
  });

  it('internal snapshots are listed and the active layer reads correctly', async () => {
    await runOk('qemu-img', ['create', '-f', 'qcow2', join(dir, 'snap.qcow2'), '8M']);
    await qemuIo('snap.qcow2', 'write -P 0x01 0 128k');
    await runOk('qemu-img', ['snapshot', '-c', 'snap1', join(dir, 'snap.qcow2')]);
    await qemuIo('snap.qcow2', 'write -P 0x02 64k 128k');
    await runOk('qemu-img', ['snapshot', '-c', 'second', join(dir, 'snap.qcow2')]);
    await assertSameAsQemu('snap.qcow2');
    const img = await openQcow2(await FileDevice.open(join(dir, 'snap.qcow2')));
    assert.deepEqual(
      img.info().snapshots?.map((s) => s.name),
      ['snap1', 'second']
    );
    await img.close();
  });
});

describe('qcow2 writing passes qemu-img check and compare', opts, () => {
  before(async () => ({ dir, cleanup } = await scratchDir('qcow2-write-')));
  after(() => cleanup());

  const cases: [string, number, '0.10' | '1.1', number][] = [
    ['w-v3.qcow2', 65536, '1.1', 20 * M + 512],
    ['w-v2.qcow2', 65536, '0.10', 9 * M],
    ['w-4k.qcow2', 4096, '1.1', 6 * M + 1536],
    ['w-512.qcow2', 512, '1.1', 3 * M],
    ['w-2m.qcow2', 2 * M, '1.1', 9 * M],
  ];
  for (const [name, cs, compat, size] of cases) {
    it(`${name}: cluster ${cs}, compat ${compat}, size ${size}`, async () => {
      const src = new Uint8Array(size);
      src.set(patternBytes(M + 3 * cs, 7), 0);
      src.set(patternBytes(cs, 8), Math.floor(size / 2 / cs) * cs);
      src.set(patternBytes(size % cs || cs, 9), size - (size % cs || cs));
      const rawPath = join(dir, `${name}.src.raw`);
      await writeFile(rawPath, src);
      const path = join(dir, name);
      const w = await createQcow2(await FileDevice.open(path, { createTruncate: true }), {
        virtualSize: size,
        clusterSize: cs,
        compat,
      });
      // Out of order, 1 MiB buffers (the last possibly short).
      const step = Math.max(M, cs);
      const offsets: number[] = [];
      for (let p = 0; p < size; p += step) offsets.push(p);
      offsets.reverse();
      for (const p of offsets) await w.write(src.subarray(p, Math.min(size, p + step)), p);
      await w.close();
      const ck = await run('qemu-img', ['check', path]);
      assert.equal(ck.code, 0, ck.stdout + ck.stderr);
      const cmp = await run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', path, rawPath]);
      assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
      const info = JSON.parse(await runOk('qemu-img', ['info', '--output=json', path]));
      assert.equal(info['cluster-size'], cs);
      assert.equal(info['format-specific'].data.compat, compat);
      // then qemu-io writes into it; still clean and our read matches
      await qemuIo(
        name,
        'write -P 0x99 64k 8k',
        `write -P 0x98 ${size - 4096} 4096`,
        'write -z 0 4k'
      );
      await assertSameAsQemu(name);
    });
  }

  it('flush checkpoints are valid images and reopen continues writing', async () => {
    const path = join(dir, 'resume.qcow2');
    const size = 8 * M;
    const src = patternBytes(size, 11);
    const dev1 = await FileDevice.open(path, { createTruncate: true });
    const w = await createQcow2(dev1, { virtualSize: size, clusterSize: 65536 });
    await w.write(src.subarray(0, 3 * M), 0);
    await w.flush();
    // The writer's lock keeps qemu-img off the image itself: check a copy of the checkpoint.
    await copyFile(path, join(dir, 'resume-checkpoint.qcow2'));
    assert.equal((await run('qemu-img', ['check', join(dir, 'resume-checkpoint.qcow2')])).code, 0);
    await w.write(src.subarray(3 * M, 4 * M), 3 * M); // not flushed: "crash"
    await dev1.close();
    const w2 = await reopenQcow2Writer(await FileDevice.open(path, { write: true }), {});
    for (let p = 3 * M; p < size; p += M) await w2.write(src.subarray(p, p + M), p);
    await w2.close();
    await writeFile(join(dir, 'resume.raw'), src);
    assert.equal((await run('qemu-img', ['check', path])).code, 0);
    const cmp = await run('qemu-img', [
      'compare',
      '-f',
      'qcow2',
      '-F',
      'raw',
      path,
      join(dir, 'resume.raw'),
    ]);
    assert.equal(cmp.code, 0, cmp.stdout);
  });

  it('backing file fields are written and honoured by qemu', async () => {
    const base = join(dir, 'wb-base.raw');
    await writeFile(base, patternBytes(2 * M, 12));
    const path = join(dir, 'wb-top.qcow2');
    const w = await createQcow2(await FileDevice.open(path, { createTruncate: true }), {
      virtualSize: 2 * M,
      backingFile: 'wb-base.raw',
      backingFormat: 'raw',
    });
    await w.write(patternBytes(65536, 13), M);
    await w.close();
    assert.equal((await run('qemu-img', ['check', path])).code, 0);
    await assertSameAsQemu('wb-top.qcow2');
  });
});
