/**
 * Interop (CLI): `header convert` against `cryptsetup convert --type` on copies of the same
 * cryptsetup-made volume: the same LUKS2 metadata and LUKS1 header, the same moved keyslot
 * bytes, passphrases and data intact (read back by qemu-io's luks driver for LUKS1, by us for
 * LUKS2); and what cannot be converted is refused by both, our file unchanged.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../testing/cli.js';
import { cryptsetupAddKey, cryptsetupLuksFormat, qemuIoLuks } from '../testing/luks-peers.js';
import { cryptsetupVerdict, fileSha256, readLuks2Json } from '../testing/luks2-edit.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  run,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';

describe(
  'header convert vs cryptsetup convert (CLI)',
  peerTestOptions('cryptsetup', 'qemu-io'),
  () => {
    let dir = '';
    let cleanup: () => Promise<void> = async () => {};
    let pw = '';
    let pw2 = '';
    let secret: string[] = [];
    let n = 0;
    const name = () => join(dir, `c${n++}.img`);

    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-luksconv-'));
      pw = await passphraseFile(dir, 'pw', 'abc123');
      pw2 = await passphraseFile(dir, 'pw2', 'second');
      secret = await qemuSecret(dir, 's', 'abc123');
    });
    after(() => cleanup());

    async function blank(size = '8M'): Promise<string> {
      const p = name();
      await writeFile(p, '');
      await runOk('truncate', ['-s', size, p]);
      return p;
    }

    /** Reads 64 KiB at 0 and 4 KiB at 1 MiB through qemu-io's luks driver (LUKS1 only). */
    async function qemuSeesData(path: string): Promise<void> {
      await qemuIoLuks(path, secret, ['read -P 0x6b 0 64k', 'read -P 0x21 1M 4k']);
    }

    async function weSeeData(path: string): Promise<void> {
      const out = join(dir, `out${n++}.raw`);
      const r = await cli('convert', '-O', 'raw', '--source-passphrase-file', pw, path, out);
      assert.equal(r.code, 0, r.stderr);
      const data = await readFile(out);
      assert.ok(data.subarray(0, 65536).every((b) => b === 0x6b));
      assert.ok(data.subarray(1 << 20, (1 << 20) + 4096).every((b) => b === 0x21));
    }

    it('LUKS1 → LUKS2 → LUKS1: the same as cryptsetup convert, passphrases and data intact', async () => {
      const ours = await blank();
      await cryptsetupLuksFormat(ours, pw);
      await cryptsetupAddKey(ours, pw, pw2);
      await qemuIoLuks(ours, secret, ['write -P 0x6b 0 64k', 'write -P 0x21 1M 4k']);
      const theirs = name();
      await copyFile(ours, theirs);

      const up = await cli('header', 'convert', ours, '--luks-version', '2');
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stdout, /Converted LUKS1 to LUKS2 \(keyslots 0, 1 kept\)/);
      await runOk('cryptsetup', ['convert', '--batch-mode', '--type', 'luks2', theirs]);
      assert.deepEqual(await readLuks2Json(ours), await readLuks2Json(theirs));
      const [a, b] = [await readFile(ours), await readFile(theirs)];
      assert.equal(a.readBigUInt64BE(16), b.readBigUInt64BE(16), 'seqid');
      assert.ok(a.subarray(32768, 2 << 20).equals(b.subarray(32768, 2 << 20)), 'moved keyslots');
      for (const f of [pw, pw2]) assert.equal((await cryptsetupVerdict(ours, f)).opens, true);
      await weSeeData(ours);

      const down = await cli('header', 'convert', ours, '--luks-version', '1');
      assert.equal(down.code, 0, down.stderr);
      await runOk('cryptsetup', ['convert', '--batch-mode', '--type', 'luks1', theirs]);
      const [c, d] = [await readFile(ours), await readFile(theirs)];
      assert.ok(c.subarray(0, 592).equals(d.subarray(0, 592)), 'LUKS1 header byte for byte');
      assert.ok(c.subarray(4096, 2 << 20).equals(d.subarray(4096, 2 << 20)), 'keyslots moved back');
      for (const f of [pw, pw2]) assert.equal((await cryptsetupVerdict(ours, f)).opens, true);
      await qemuSeesData(ours);
    });

    const refusals: [string, () => Promise<string>, RegExp][] = [
      [
        'an argon2id keyslot to LUKS1',
        async () => {
          const p = await blank('20M');
          await runOk('cryptsetup', [
            'luksFormat',
            '--batch-mode',
            '--type',
            'luks2',
            '--pbkdf',
            'argon2id',
            '--pbkdf-force-iterations',
            '4',
            '--pbkdf-memory',
            '32768',
            '--pbkdf-parallel',
            '1',
            '--sector-size',
            '512',
            '--key-file',
            pw,
            p,
          ]);
          return p;
        },
        /keyslot 0 uses argon2id; LUKS1 supports only PBKDF2/,
      ],
      [
        'a token to LUKS1',
        async () => {
          const p = await blank('20M');
          await cryptsetupLuksFormat(p, pw, ['--sector-size', '512'], 'luks2');
          const tok = join(dir, `t${n++}.json`);
          await writeFile(tok, JSON.stringify({ type: 'clevis', keyslots: ['0'], jwe: {} }));
          await runOk('cryptsetup', ['token', 'import', '--json-file', tok, p]);
          return p;
        },
        /1 token\(s\) \(clevis\)/,
      ],
      [
        '4096-byte sectors to LUKS1',
        async () => {
          const p = await blank('20M');
          await cryptsetupLuksFormat(p, pw, ['--sector-size', '4096'], 'luks2');
          return p;
        },
        /4096-byte sectors/,
      ],
    ];
    for (const [what, make, message] of refusals) {
      it(`refused by both: ${what}`, async () => {
        const p = await make();
        const theirs = name();
        await copyFile(p, theirs);
        assert.notEqual(
          (await run('cryptsetup', ['convert', '--batch-mode', '--type', 'luks1', theirs])).code,
          0
        );
        const before = await fileSha256(p);
        const r = await cli('header', 'convert', p, '--luks-version', '1');
        assert.equal(r.code, 1);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /\[UNSUPPORTED_FEATURE\]/);
        assert.equal(await fileSha256(p), before);
      });
    }

    it('a QEMU-made LUKS1 (payload right after slot 7) has no room for LUKS2: refused by both, ours unchanged', async () => {
      const p = name();
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'luks',
        ...secret,
        '-o',
        'key-secret=s,iter-time=10',
        p,
        '4M',
      ]);
      const theirs = name();
      await copyFile(p, theirs);
      const cs = await run('cryptsetup', ['convert', '--batch-mode', '--type', 'luks2', theirs]);
      assert.notEqual(cs.code, 0, 'cryptsetup refuses it too');
      const before = await fileSha256(p);
      const r = await cli('header', 'convert', p, '--luks-version', '2');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no room to move them.*\[UNSUPPORTED_FEATURE\]/);
      assert.equal(await fileSha256(p), before);
    });

    it('LUKS inside qcow2 stays LUKS1', async () => {
      const p = join(dir, 'q.qcow2');
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...secret,
        '-o',
        'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
        p,
        '4M',
      ]);
      const r = await cli('header', 'convert', p, '--luks-version', '2');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /QEMU cannot open LUKS2/);
    });
  }
);
