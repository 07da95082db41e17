/**
 * Issue #13: a conversion never empties or replaces its own source (`convert X.partial X`,
 * the output equal to the source under any name); `--overwrite` keeps the replaced file's
 * mode and owner; new images are created as qemu-img creates them (0644 minus the umask).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, copyFile, link, readFile, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { peerTestOptions, runOk, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');

describe('outputs never replace their source; modes and owners', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let img: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-outsafe-'));
    img = join(dir, 'a.qcow2');
    await runOk('qemu-img', ['create', '-f', 'qcow2', img, '4M']);
    await runOk('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x42 0 1M', img]);
  });
  after(async () => cleanup?.());

  test('convert X.partial X: refused, X.partial untouched, no X', async () => {
    const x = join(dir, 'x.qcow2');
    await copyFile(img, `${x}.partial`);
    const before = await readFile(`${x}.partial`);
    const r = await cli('convert', '-O', 'raw', `${x}.partial`, x);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /own partial file.*\[INVALID_ARGUMENT\]$/);
    assert.deepEqual(await readFile(`${x}.partial`), before);
    await assert.rejects(stat(x), { code: 'ENOENT' });
  });

  test('the output is the source (same path, ./, symlink, hard link): refused', async () => {
    const before = await readFile(img);
    await symlink(img, join(dir, 'sym.qcow2'));
    await link(img, join(dir, 'hard.qcow2'));
    const cases: [string, string][] = [
      [img, img],
      [img, join(dir, '.', 'a.qcow2')],
      [join(dir, 'sym.qcow2'), img],
      [img, join(dir, 'hard.qcow2')],
    ];
    for (const [src, dst] of cases) {
      const r = await cli('convert', '--overwrite', '-O', 'qcow2', src, dst);
      assert.equal(r.code, 1, `${src} → ${dst}: ${r.stderr}`);
      assert.match(r.stderr, /is the source itself.*\[INVALID_ARGUMENT\]$/);
    }
    assert.deepEqual(await readFile(img), before);
  });

  test('--overwrite keeps the replaced file mode and owner', async () => {
    const dst = join(dir, 'kept.raw');
    await runOk('qemu-img', ['create', '-f', 'raw', dst, '1M']);
    await chmod(dst, 0o640);
    await chown(dst, 65534, 65534);
    const r = await cli('convert', '--overwrite', '-O', 'raw', img, dst);
    assert.equal(r.code, 0, r.stderr);
    const st = await stat(dst);
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.uid, 65534);
    assert.equal(st.gid, 65534);
    assert.equal(st.size, 4 << 20);
  });

  test('new outputs are 0644 minus the umask (convert and create)', async () => {
    const old = process.umask(0o027);
    try {
      const conv = join(dir, 'new.qcow2');
      assert.equal((await cli('convert', '-O', 'qcow2', img, conv)).code, 0);
      assert.equal((await stat(conv)).mode & 0o777, 0o640);
      const made = join(dir, 'made.qcow2');
      assert.equal((await cli('create', '-f', 'qcow2', made, '1M')).code, 0);
      assert.equal((await stat(made)).mode & 0o777, 0o640);
      process.umask(0o022);
      const conv2 = join(dir, 'new2.raw');
      assert.equal((await cli('convert', '-O', 'raw', img, conv2)).code, 0);
      assert.equal((await stat(conv2)).mode & 0o777, 0o644);
    } finally {
      process.umask(old);
    }
  });
});
