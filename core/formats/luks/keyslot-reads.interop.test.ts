/**
 * Interop (issue #12): a LUKS2 passphrase change on a cryptsetup-made volume reads the header
 * once and derives the old passphrase's key once (its key material is read once), and
 * cryptsetup then opens the new passphrase and refuses the old one.
 */
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileDevice } from '../../io/file-device.js';
import { cryptsetupLuksFormat } from '../../testing/luks-peers.js';
import { passphraseFile, peerTestOptions, run, scratchDir } from '../../testing/peers.js';
import type { HeaderIO } from '../encryption.js';
import { headerIOForDevice } from './header-io.js';
import { inspectLuks } from './inspect.js';
import { changePassphrase } from './keyslots.js';

const te = (s: string) => new TextEncoder().encode(s);

/** `io` with a log of every read (position, length). */
function counting(io: HeaderIO): { io: HeaderIO; reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    reads,
    io: {
      length: io.length,
      read: (buf, pos) => (reads.push([pos, buf.length]), io.read(buf, pos)),
      write: (buf, pos) => io.write(buf, pos),
      flush: () => io.flush(),
    },
  };
}

test(
  'LUKS2 change: one header read, one derivation of the old key',
  peerTestOptions('cryptsetup'),
  async (t) => {
    const { dir, cleanup } = await scratchDir();
    t.after(cleanup);
    const image = join(dir, 'v.luks2');
    await writeFile(image, new Uint8Array(0));
    await truncate(image, 20 * 1024 * 1024);
    const pw = await passphraseFile(dir, 'pw', 'old passphrase');
    const pw2 = await passphraseFile(dir, 'pw2', 'new passphrase');
    await cryptsetupLuksFormat(image, pw, [], 'luks2');

    const dev = await FileDevice.open(image, { write: true });
    try {
      const base = headerIOForDevice(dev, await dev.size());
      const oldArea = (await inspectLuks(base)).slots[0]!.keyOffset * 512;
      const { io, reads } = counting(base);
      const r = await changePassphrase(io, te('old passphrase'), te('new passphrase'), {
        iterations: 1000,
      });
      assert.deepEqual(r, { slot: 1, removed: [0] });
      // The binary header (4096 bytes and more at offset 0) is read once.
      assert.equal(reads.filter(([pos, len]) => pos === 0 && len >= 4096).length, 1);
      // The old slot's key material is read once: its key is derived once.
      assert.equal(reads.filter(([pos]) => pos === oldArea).length, 1);
    } finally {
      await dev.close();
    }
    const open = (key: string) =>
      run('cryptsetup', ['open', '--test-passphrase', '--key-file', key, image]);
    assert.equal((await open(pw2)).code, 0, 'cryptsetup opens the new passphrase');
    assert.notEqual((await open(pw)).code, 0, 'cryptsetup refuses the old passphrase');
  }
);
