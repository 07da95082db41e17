/**
 * Issue #2 acceptance, through the CLI: qemu-made images of every variant read identically
 * to `qemu-img convert -O raw`; our qcow2 output passes `qemu-img check` and `compare`;
 * images we create stay valid after qemu-io writes to them; hostile files fail typed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import { peerTestOptions, runOk, run, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');

async function qemuRaw(dir: string, image: string, name: string): Promise<Buffer> {
  const out = join(dir, name);
  await runOk('qemu-img', ['convert', '-O', 'raw', image, out]);
  return readFile(out);
}

async function ourRaw(dir: string, image: string, name: string): Promise<Buffer> {
  const out = join(dir, name);
  const r = await cli('convert', '-O', 'raw', '--overwrite', '--no-verify', image, out);
  assert.equal(r.code, 0, r.stderr);
  return readFile(out);
}

async function qemuIo(image: string, ...cmds: string[]): Promise<void> {
  await runOk('qemu-io', ['-f', 'qcow2', ...cmds.flatMap((c) => ['-c', c]), image]);
}

describe('qcow2 engine through the CLI vs qemu-img', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await scratchDir()));
  after(async () => cleanup?.());

  const variants: [string, string[]][] = [
    ['v3 default', []],
    ['v2 compat=0.10', ['-o', 'compat=0.10']],
    ['512-byte clusters', ['-o', 'cluster_size=512']],
    ['4 KiB clusters, 1-bit refcounts', ['-o', 'cluster_size=4096,refcount_bits=1']],
    ['2 MiB clusters, 64-bit refcounts', ['-o', 'cluster_size=2M,refcount_bits=64']],
    ['extended L2 + zstd', ['-o', 'cluster_size=16384,extended_l2=on,compression_type=zstd']],
  ];
  for (const [name, args] of variants) {
    test(`reads ${name} like qemu-img`, async () => {
      const img = join(dir, `v-${name.replace(/\W+/g, '_')}.qcow2`);
      await runOk('qemu-img', ['create', '-f', 'qcow2', ...args, img, '24M']);
      await qemuIo(img, 'write -P 0xab 1M 64k', 'write -P 0x11 3M 5k', 'write -P 0x22 20M 100k');
      if (!name.startsWith('v2')) await qemuIo(img, 'write -z 1M 16k');
      assert.deepEqual(await ourRaw(dir, img, 'ours.raw'), await qemuRaw(dir, img, 'theirs.raw'));
      const info = JSON.parse((await cli('info', '--json', img)).stdout);
      assert.equal(info.format, 'qcow2');
      assert.equal(info['virtual-size'], 24 * 1024 * 1024);
    });
  }

  test('reads compressed clusters (zlib and zstd) like qemu-img', async () => {
    const src = join(dir, 'c.raw');
    const data = Buffer.alloc(8 << 20);
    data.set(Buffer.from('compressible text '.repeat(20000)), 0);
    data.set(patternBytes(300000, 7), 3 << 20);
    await writeFile(src, data);
    for (const type of ['zlib', 'zstd']) {
      const img = join(dir, `c-${type}.qcow2`);
      await runOk('qemu-img', [
        'convert',
        '-c',
        '-O',
        'qcow2',
        '-o',
        `compression_type=${type}`,
        src,
        img,
      ]);
      assert.deepEqual(await ourRaw(dir, img, `c-${type}.raw`), data);
    }
  });

  test('reads a backing chain of depth 2 (raw base, relative names)', async () => {
    const base = join(dir, 'base.raw');
    await writeFile(base, Buffer.concat([patternBytes(3 << 20, 3), Buffer.alloc(1 << 20)]));
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
    await qemuIo(join(dir, 'mid.qcow2'), 'write -P 0x33 1M 64k');
    await runOk('qemu-img', [
      'create',
      '-f',
      'qcow2',
      '-b',
      'mid.qcow2',
      '-F',
      'qcow2',
      join(dir, 'top.qcow2'),
      '8M',
    ]);
    await qemuIo(join(dir, 'top.qcow2'), 'write -P 0x44 0 4k', 'write -z 2M 64k');
    const top = join(dir, 'top.qcow2');
    assert.deepEqual(await ourRaw(dir, top, 'chain.raw'), await qemuRaw(dir, top, 'chain-q.raw'));
    const info = JSON.parse((await cli('info', '--json', top)).stdout);
    assert.equal(info['backing-filename'], 'mid.qcow2');
    assert.deepEqual(
      info['backing-chain'].map((b: { format: string }) => b.format),
      ['qcow2', 'raw']
    );
  });

  test('lists snapshots and leaves them untouched', async () => {
    const img = join(dir, 'snap.qcow2');
    await runOk('qemu-img', ['create', '-f', 'qcow2', img, '8M']);
    await qemuIo(img, 'write -P 0x55 0 64k');
    await runOk('qemu-img', ['snapshot', '-c', 'before-upgrade', img]);
    await qemuIo(img, 'write -P 0x66 0 4k');
    const before = await readFile(img);
    const info = JSON.parse((await cli('info', '--json', img)).stdout);
    assert.equal(info.snapshots[0].name, 'before-upgrade');
    assert.deepEqual(await ourRaw(dir, img, 'snap.raw'), await qemuRaw(dir, img, 'snap-q.raw'));
    assert.deepEqual(await readFile(img), before);
  });

  for (const [label, createOpts] of [
    ['v3', []],
    ['v2, 4 KiB clusters', ['-o', 'compat=0.10,cluster-size=4096']],
  ] as [string, string[]][]) {
    test(`our qcow2 output (${label}) passes qemu-img check and compare`, async () => {
      const src = join(dir, `p-${label.length}.raw`);
      const data = Buffer.alloc(20 << 20);
      data.set(patternBytes(1 << 20, 11), 0);
      data.set(patternBytes(70000, 12), 5 << 20);
      data.set(patternBytes(4096, 13), (20 << 20) - 4096);
      await writeFile(src, data);
      const out = join(dir, `p-${label.length}.qcow2`);
      const r = await cli('convert', '-O', 'qcow2', ...createOpts, src, out);
      assert.equal(r.code, 0, r.stderr);
      // Only the non-zero 64 KiB units: 1 MiB + 2 units at 5 MiB + the last unit.
      assert.match(r.stderr, /\(qcow2, 1\.19 MiB written, verified\)/);
      await runOk('qemu-img', ['check', out]);
      await runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', src, out]);
      assert.ok((await stat(out)).size < 4 << 20, 'sparse output: zero clusters are not allocated');
      assert.equal((await cli('check', out)).code, 0);
    });
  }

  test('images we create stay valid after qemu-io writes, and read back identically', async () => {
    const img = join(dir, 'ours-then-qemu.qcow2');
    assert.equal((await cli('create', '-f', 'qcow2', img, '64M')).code, 0);
    await qemuIo(img, 'write -P 0x77 0 64k', 'write -P 0x78 33M 1M', 'write -z 40M 64k');
    await runOk('qemu-img', ['check', img]);
    assert.deepEqual(await ourRaw(dir, img, 'otq.raw'), await qemuRaw(dir, img, 'otq-q.raw'));
    assert.equal((await cli('check', img)).code, 0);
  });

  test('check reports corruption (2) and leaks (3) like qemu-img', async () => {
    const img = join(dir, 'broken.qcow2');
    await runOk('qemu-img', ['create', '-f', 'qcow2', img, '8M']);
    await qemuIo(img, 'write -P 0x12 0 64k');
    const bytes = await readFile(img);
    // refcount block at 0x20000: entry 4 (the data cluster) → 0 = corruption
    const broken = Buffer.from(bytes);
    broken.writeUInt16BE(0, 0x20000 + 2 * 5);
    await writeFile(img, broken);
    const q = await run('qemu-img', ['check', img]);
    const ours = await cli('check', '--json', img);
    assert.equal(ours.code, q.code);
    assert.equal(ours.code, 2);
    // an extra refcount on an unused cluster inside the file = leak only
    const leaky = Buffer.concat([bytes, Buffer.alloc(0x10000)]);
    leaky.writeUInt16BE(1, 0x20000 + 2 * 6);
    await writeFile(img, leaky);
    const q2 = await run('qemu-img', ['check', img]);
    const ours2 = await cli('check', img);
    assert.equal(q2.code, 3);
    assert.equal(ours2.code, 3);
  });

  test('hostile and wrong files fail with a typed one-line error', async () => {
    const good = await readFile(join(dir, 'snap.qcow2'));
    const cases: [string, Buffer, RegExp][] = [
      ['truncated header', good.subarray(0, 50), /TRUNCATED|NOT_AN_IMAGE|CORRUPT/],
      ['truncated tables', good.subarray(0, 0x10000 + 100), /TRUNCATED|CORRUPT/],
      ['absurd l1_size', patch(good, 36, 4, 0x7fffffff), /CORRUPT|TRUNCATED/],
      ['absurd refcount table', patch(good, 56, 4, 0x7fffffff), /CORRUPT|TRUNCATED/],
      ['misaligned L1 offset', patch(good, 44, 4, 0x30001), /CORRUPT/],
      ['unknown incompatible bit', patch(good, 72 + 4, 4, 0x80), /UNSUPPORTED_FEATURE/],
      ['bad version', patch(good, 4, 4, 9), /UNSUPPORTED_FEATURE|NOT_AN_IMAGE/],
    ];
    for (const [name, bytes, code] of cases) {
      const p = join(dir, `hostile-${name.replace(/\W+/g, '_')}.qcow2`);
      await writeFile(p, bytes);
      const r = await cli('convert', '-O', 'raw', p, join(dir, 'never.raw'));
      assert.notEqual(r.code, 0, name);
      assert.match(r.stderr, code, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
    }
    const names = await readdir(dir);
    assert.ok(!names.some((n) => n.startsWith('never.raw')), 'no output left behind');
  });

  test('a backing file that is the image itself is a BACKING_LOOP', async () => {
    const img = join(dir, 'self.qcow2');
    await runOk('qemu-img', [
      'create',
      '-f',
      'qcow2',
      '-u',
      '-b',
      'self.qcow2',
      '-F',
      'qcow2',
      img,
      '8M',
    ]);
    const r = await cli('convert', '-O', 'raw', img, join(dir, 'self.raw'));
    assert.match(r.stderr, /BACKING_LOOP/);
  });
});

function patch(buf: Buffer, offset: number, size: 4 | 8, value: number): Buffer {
  const b = Buffer.from(buf);
  if (size === 4) b.writeUInt32BE(value >>> 0, offset);
  else b.writeBigUInt64BE(BigInt(value), offset);
  return b;
}
