/**
 * Interop: LUKS1 volumes we create and modify, checked by cryptsetup 2.6 and qemu-img 7.2.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileDevice } from '../../io/file-device.js';
import { patternBytes } from '../../testing/bytes.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  run,
  runOk,
  scratchDir,
} from '../../testing/peers.js';
import { headerIOForDevice } from './header-io.js';
import { addKeyslot, changePassphrase, removeKeyslots } from './keyslots.js';
import { createRawLuks } from './raw-luks.js';

const enc = (s: string) => new TextEncoder().encode(s);
const PASS = 'abc123';
const SIZE = 1024 * 1024;

const CIPHERS = [
  'aes-256-xts-plain64',
  'aes-128-xts-plain64',
  'aes-256-cbc-essiv:sha256',
  'aes-256-cbc-plain64',
  'aes-128-cbc-plain',
  'aes-256-xts-plain',
  'aes-256-cbc-plain64be',
];
const HASHES = ['sha1', 'sha256', 'sha512'];

describe(
  'our LUKS1 volumes in cryptsetup and QEMU',
  peerTestOptions('cryptsetup', 'qemu-img'),
  () => {
    let dir = '';
    let cleanup: () => Promise<void> = async () => {};
    let pw = '';
    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-luks-ours-'));
      pw = await passphraseFile(dir, 'pw', PASS);
    });
    after(() => cleanup());

    async function make(
      name: string,
      cipher: string,
      hash: string,
      data?: Uint8Array
    ): Promise<string> {
      const path = join(dir, name);
      const dev = await FileDevice.open(path, { createTruncate: true });
      const w = await createRawLuks(dev, SIZE, enc(PASS), {
        cipher,
        hash,
        iterations: 1000,
        threads: 0,
      });
      if (data) await w.write(data, 65536);
      await w.close();
      return path;
    }

    async function opens(path: string, keyFile: string): Promise<boolean> {
      return (
        (await run('cryptsetup', ['open', '--test-passphrase', '--key-file', keyFile, path]))
          .code === 0
      );
    }

    for (const cipher of CIPHERS) {
      for (const hash of HASHES) {
        it(`${cipher} / ${hash}: luksDump and --test-passphrase`, async () => {
          const path = await make(`${cipher.replace(':', '_')}-${hash}.luks`, cipher, hash);
          const dump = await runOk('cryptsetup', ['luksDump', path]);
          const [, bits, mode] = /^aes-(\d+)-(.*)$/.exec(cipher)!;
          const keyBits = Number(bits) * (mode!.startsWith('xts') ? 2 : 1);
          assert.match(dump, /Version:\s+1/);
          assert.match(dump, new RegExp(`Cipher mode:\\s+${mode!.replace(/[:]/g, '.')}\\n`));
          assert.match(dump, new RegExp(`Hash spec:\\s+${hash}\\n`));
          assert.match(dump, new RegExp(`MK bits:\\s+${keyBits}\\n`));
          assert.match(dump, /Key Slot 0: ENABLED/);
          assert.match(dump, /Key Slot 1: DISABLED/);
          assert.equal(await opens(path, pw), true);
          assert.equal(await opens(path, await passphraseFile(dir, 'bad', 'abc124')), false);
        });
      }
    }

    for (const cipher of CIPHERS.filter((c) => !c.endsWith('plain64be'))) {
      it(`${cipher}: data we write reads back identically through qemu-img convert`, async () => {
        const data = patternBytes(128 * 1024, 3);
        const path = await make(`data-${cipher.replace(':', '_')}.luks`, cipher, 'sha256', data);
        const out = join(dir, `out-${cipher.replace(':', '_')}.raw`);
        await runOk('qemu-img', [
          'convert',
          ...(await qemuSecret(dir, 's', PASS)),
          '--image-opts',
          `driver=luks,file.filename=${path},key-secret=s`,
          '-O',
          'raw',
          out,
        ]);
        const got = new Uint8Array(await readFile(out));
        assert.equal(got.length, SIZE);
        assert.deepEqual(got.subarray(65536, 65536 + data.length), data);
        assert.ok(
          got.subarray(0, 65536).every((b) => b === 0),
          'unwritten range reads as zeros'
        );
        assert.ok(got.subarray(65536 + data.length).every((b) => b === 0));
      });
    }

    it('after our add / remove / change, cryptsetup accepts exactly the right passphrases', async () => {
      const path = await make('slots.luks', 'aes-256-xts-plain64', 'sha256');
      const files = {
        a: pw,
        b: await passphraseFile(dir, 'b', 'bravo'),
        c: await passphraseFile(dir, 'c', 'charlie\n'),
        d: await passphraseFile(dir, 'd', 'delta'),
      };
      const dev = await FileDevice.open(path, { write: true });
      const io = headerIOForDevice(dev, await dev.size());
      try {
        assert.equal(await addKeyslot(io, enc(PASS), enc('bravo'), { iterations: 1000 }), 1);
        assert.equal(
          await addKeyslot(io, enc('bravo'), enc('charlie\n'), { slot: 6, iterations: 1000 }),
          6
        );
      } finally {
        await dev.close();
      }
      for (const f of [files.a, files.b, files.c]) assert.equal(await opens(path, f), true);
      assert.equal(await opens(path, files.d), false);
      const slot6 = await run('cryptsetup', [
        'open',
        '--test-passphrase',
        '--key-slot',
        '6',
        '--key-file',
        files.c,
        path,
      ]);
      assert.equal(slot6.code, 0);

      const dev2 = await FileDevice.open(path, { write: true });
      const io2 = headerIOForDevice(dev2, await dev2.size());
      try {
        assert.deepEqual(await removeKeyslots(io2, { passphrase: enc(PASS) }), [0]);
        assert.deepEqual(
          await changePassphrase(io2, enc('bravo'), enc('delta'), { iterations: 1000 }),
          {
            slot: 0,
            removed: [1],
          }
        );
      } finally {
        await dev2.close();
      }
      assert.equal(await opens(path, files.a), false);
      assert.equal(await opens(path, files.b), false);
      assert.equal(await opens(path, files.c), true);
      assert.equal(await opens(path, files.d), true);
      const dump = await runOk('cryptsetup', ['luksDump', path]);
      assert.match(dump, /Key Slot 0: ENABLED/);
      assert.match(dump, /Key Slot 1: DISABLED/);
      assert.match(dump, /Key Slot 6: ENABLED/);
      // QEMU agrees too.
      const info = JSON.parse(await runOk('qemu-img', ['info', '--output=json', path]));
      const slots = info['format-specific'].data.slots as { active: boolean }[];
      assert.deepEqual(
        slots.map((s) => s.active),
        [true, false, false, false, false, false, true, false]
      );
    });
  }
);
