/**
 * Issue #2: Ctrl-C during `convert` leaves neither DST nor DST.partial, exits 130, and the
 * source is untouched; the output of an uninterrupted run opens in qemu-img.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { spawnCli } from '../testing/cli.js';
import { peerTestOptions, runOk, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img');
let dir: string;
let cleanup: () => Promise<void>;
let src: string;

before(async () => {
  ({ dir, cleanup } = await scratchDir('iv-int-'));
  src = join(dir, 'big.raw');
  // 768 MiB of random data: long enough to be interrupted mid-copy.
  const fh = await open(src, 'w');
  const buf = Buffer.alloc(8 << 20);
  for (let off = 0; off < 768 << 20; off += buf.length) {
    randomFillSync(buf);
    await fh.write(buf, 0, buf.length, off);
  }
  await fh.close();
});
after(async () => cleanup?.());

test('SIGINT mid-copy leaves no DST and no .partial', opts, async () => {
  const dst = join(dir, 'out.qcow2');
  let seen = 0;
  const r = await spawnCli(['convert', '--progress=json', '-O', 'qcow2', src, dst], {
    onStdoutLine: (line, kill) => {
      if (line.includes('"copying"') && ++seen === 2) kill('SIGINT');
    },
  });
  assert.ok(seen >= 2, 'the copy had started');
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /CANCELLED/);
  assert.deepEqual((await readdir(dir)).sort(), ['big.raw']);
});

test('the same conversion, uninterrupted, passes qemu-img check and compare', opts, async () => {
  const dst = join(dir, 'done.qcow2');
  const r = await spawnCli(['convert', '-O', 'qcow2', src, dst]);
  assert.equal(r.code, 0, r.stderr);
  await runOk('qemu-img', ['check', dst]);
  await runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', src, dst]);
});
