/**
 * Sparse raw sources and raw outputs against qemu-img (issue #15): converting a sparse raw to
 * qcow2, qcow2+LUKS and raw, and back to raw, gives the same guest bytes (`qemu-img compare`)
 * and the same allocation as `qemu-img convert` (`qemu-img map --output=json`, st_blocks).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const opts = peerTestOptions('qemu-img');

interface MapEntry {
  start: number;
  length: number;
  data: boolean;
  zero: boolean;
}

/** `qemu-img map` as (start, length, data, zero), host offsets left out. */
async function allocation(args: string[]): Promise<MapEntry[]> {
  const out = JSON.parse(await runOk('qemu-img', ['map', '--output=json', ...args])) as MapEntry[];
  return out.map(({ start, length, data, zero }) => ({ start, length, data, zero }));
}

describe('sparse raw conversions match qemu-img', opts, async () => {
  const { dir, cleanup } = await scratchDir('iv-sparse-interop-');
  after(cleanup);
  const src = join(dir, 'src.raw');
  const size = 256 * MiB;
  const fh = await open(src, 'w');
  await fh.truncate(size);
  await fh.write(randomBytes(MiB), 0, MiB, 3 * MiB); // a data run
  await fh.write(randomBytes(4 * KiB), 0, 4 * KiB, 100 * MiB + 12 * KiB); // 4 KiB in a cluster
  await fh.write(Buffer.alloc(256 * KiB), 0, 256 * KiB, 150 * MiB); // allocated zeros
  await fh.write(randomBytes(8 * KiB), 0, 8 * KiB, size - 8 * KiB); // data at the very end
  await fh.close();
  const pw = await passphraseFile(dir, 'pw', 'sparse pass');
  const secret = await qemuSecret(dir, 's', 'sparse pass');

  it('raw → qcow2: same bytes, same clusters', async () => {
    const ours = join(dir, 'ours.qcow2');
    const theirs = join(dir, 'theirs.qcow2');
    const r = await cli('convert', '-O', 'qcow2', src, ours);
    assert.equal(r.code, 0, r.stderr);
    await runOk('qemu-img', ['convert', '-O', 'qcow2', src, theirs]);
    await runOk('qemu-img', ['compare', src, ours]);
    assert.deepEqual(await allocation([ours]), await allocation([theirs]));
  });

  it('raw → qcow2+LUKS → raw: same bytes and clusters, raw output as sparse as theirs', async () => {
    const ours = join(dir, 'ours-luks.qcow2');
    const theirs = join(dir, 'theirs-luks.qcow2');
    const r = await cli(
      'convert',
      '-O',
      'qcow2',
      '--encrypt',
      '-o',
      'iter-time=10',
      '--passphrase-file',
      pw,
      src,
      ours
    );
    assert.equal(r.code, 0, r.stderr);
    await runQemuRetrying('qemu-img', [
      'convert',
      ...secret,
      '-O',
      'qcow2',
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
      src,
      theirs,
    ]);
    const imageOpts = (f: string) => [
      ...secret,
      '--image-opts',
      `driver=qcow2,file.filename=${f},encrypt.key-secret=s`,
    ];
    assert.deepEqual(await allocation(imageOpts(ours)), await allocation(imageOpts(theirs)));

    const oursRaw = join(dir, 'ours-back.raw');
    const theirsRaw = join(dir, 'theirs-back.raw');
    const back = await cli('convert', '-O', 'raw', '--source-passphrase-file', pw, ours, oursRaw);
    assert.equal(back.code, 0, back.stderr);
    await runOk('qemu-img', ['convert', ...imageOpts(ours), '-O', 'raw', theirsRaw]);
    await runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, oursRaw]);
    assert.deepEqual(await allocation([oursRaw]), await allocation([theirsRaw]));
    assert.equal((await stat(oursRaw)).blocks, (await stat(theirsRaw)).blocks);
  });

  it('raw → raw: the output keeps the holes and drops zero blocks as qemu-img does', async () => {
    const ours = join(dir, 'ours.raw');
    const theirs = join(dir, 'theirs.raw');
    const r = await cli('convert', '-O', 'raw', src, ours);
    assert.equal(r.code, 0, r.stderr);
    await runOk('qemu-img', ['convert', '-O', 'raw', src, theirs]);
    await runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, ours]);
    const st = await stat(ours);
    assert.equal(st.size, size);
    assert.equal(st.blocks, (await stat(theirs)).blocks);
    assert.equal(st.blocks * 512, 4 * KiB + MiB + 4 * KiB + 8 * KiB, 'first block, data only');
    assert.deepEqual(await allocation([ours]), await allocation([theirs]));
  });
});
