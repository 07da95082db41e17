/**
 * Interop (CLI): LUKS2 volumes cryptsetup made at test time, then damaged or flagged, behave
 * as cryptsetup says they should (docs/spec/luks2.md §2–§4, issue 18):
 * - one damaged copy: info says so, the data reads from the valid copy, header writes are
 *   refused until `header repair`, after which `cryptsetup luksDump --debug` finds both copies
 *   valid and the result equals `cryptsetup repair`'s;
 * - an unknown mandatory requirement: `keyslot test` works (0 / 4), data access and header
 *   writes fail with UNSUPPORTED_FEATURE naming it, the file unchanged;
 * - a segment cipher we lack under an AES keyslot: `keyslot test` works, reading fails with
 *   UNSUPPORTED_CIPHER naming the segment cipher.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { patternBytes } from '../testing/bytes.js';
import { cli } from '../testing/cli.js';
import {
  breakLuks2Checksum,
  cryptsetupVerdict,
  editLuks2Binary,
  editLuks2Json,
  fileSha256,
  luks2HdrSize,
} from '../testing/luks2-edit.js';
import { passphraseFile, peerTestOptions, run, runOk, scratchDir } from '../testing/peers.js';

const MiB = 1024 * 1024;

/** What `cryptsetup luksDump --debug` says about the two copies (auto-recovery off). */
async function copiesValidForCryptsetup(path: string): Promise<boolean> {
  const r = await run('cryptsetup', ['luksDump', '--debug', '--disable-locks', path]);
  assert.equal(r.code, 0, r.stderr);
  return !/checksum error|requires recovery|validation failed/i.test(r.stdout + r.stderr);
}

describe(
  'LUKS2 recovery, requirements and segment ciphers (CLI)',
  peerTestOptions('cryptsetup'),
  () => {
    let dir = '';
    let cleanup: () => Promise<void> = async () => {};
    let pw = '';
    let bad = '';
    let base = '';
    const plain = patternBytes(2 * MiB, 18);
    let n = 0;

    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-luks2r-'));
      pw = await passphraseFile(dir, 'pw', 'abc123');
      bad = await passphraseFile(dir, 'bad', 'abc124');
      base = join(dir, 'base.img');
      await writeFile(base, plain);
      await truncate(base, plain.length + 32 * MiB);
      await runOk('cryptsetup', [
        'reencrypt',
        '--encrypt',
        '--type',
        'luks2',
        '--batch-mode',
        '--key-file',
        pw,
        '--pbkdf',
        'pbkdf2',
        '--pbkdf-force-iterations',
        '1000',
        '--reduce-device-size',
        '32M',
        base,
      ]);
    });
    after(() => cleanup());

    async function copy(): Promise<string> {
      const p = join(dir, `img-${n++}.img`);
      await copyFile(base, p);
      return p;
    }

    async function readsPlain(path: string): Promise<void> {
      const out = join(dir, `out-${n++}.raw`);
      const r = await cli('convert', '-O', 'raw', '--source-passphrase-file', pw, path, out);
      assert.equal(r.code, 0, r.stderr);
      const data = await readFile(out);
      assert.ok(data.subarray(0, plain.length).equals(Buffer.from(plain)), 'guest bytes');
    }

    for (const which of ['primary', 'secondary'] as const) {
      it(`a damaged ${which} copy: read from the other, writes refused, header repair as cryptsetup repair`, async () => {
        const path = await copy();
        await breakLuks2Checksum(path, which);
        const theirs = await copy();
        await breakLuks2Checksum(theirs, which);
        assert.equal(await copiesValidForCryptsetup(path), false);

        const info = await cli('info', '--json', path);
        assert.equal(info.code, 0, info.stderr);
        const state = JSON.parse(info.stdout)['format-specific'].data['header-state'];
        assert.equal(state[which].status, 'damaged');
        assert.equal(state['needs-repair'], true);
        const text = await cli('info', path);
        assert.match(text.stdout, new RegExp(`The ${which} LUKS2 header copy is damaged`));
        await readsPlain(path);
        assert.equal((await cli('keyslot', 'test', path, '--passphrase-file', pw)).code, 0);

        const before = await fileSha256(path);
        const add = await cli(
          'keyslot',
          'add',
          path,
          '--passphrase-file',
          pw,
          '--new-passphrase-file',
          bad,
          '--iterations',
          '1000',
          '--pbkdf',
          'pbkdf2'
        );
        assert.equal(add.code, 1);
        assert.match(add.stderr, /NEEDS_REPAIR/);
        assert.equal(await fileSha256(path), before, 'a refused write leaves the file unchanged');

        const rep = await cli('header', 'repair', path);
        assert.equal(rep.code, 0, rep.stderr);
        assert.match(rep.stdout, new RegExp(`Rewrote the damaged ${which} LUKS2 header copy`));
        assert.equal(await copiesValidForCryptsetup(path), true);
        await runOk('cryptsetup', ['repair', '--batch-mode', theirs]);
        assert.equal(await copiesValidForCryptsetup(theirs), true);
        // Same JSON areas and binary fields as cryptsetup's repair (salts and checksums differ).
        const hdr = await luks2HdrSize(path);
        const [a, b] = [await readFile(path), await readFile(theirs)];
        for (const off of [0, hdr]) {
          assert.ok(a.subarray(off + 4096, off + hdr).equals(b.subarray(off + 4096, off + hdr)));
          assert.ok(a.subarray(off, off + 104).equals(b.subarray(off, off + 104)));
          assert.ok(a.subarray(off + 168, off + 448).equals(b.subarray(off + 168, off + 448)));
        }
        const again = JSON.parse((await cli('info', '--json', path)).stdout);
        assert.equal(again['format-specific'].data['header-state']['needs-repair'], false);
        assert.equal(
          (await cli('header', 'repair', path)).stdout,
          'Both LUKS2 header copies are valid: nothing to repair'
        );
      });
    }

    it('an older secondary copy (interrupted update) is stale until repaired', async () => {
      const path = await copy();
      await editLuks2Binary(path, 'secondary', (b) =>
        b.writeBigUInt64BE(b.readBigUInt64BE(16) - 1n, 16)
      );
      assert.equal((await cryptsetupVerdict(path, pw)).opens, true);
      const state = JSON.parse((await cli('info', '--json', path)).stdout)['format-specific'].data[
        'header-state'
      ];
      assert.equal(state.secondary.status, 'stale');
      const rep = await cli('header', 'repair', path);
      assert.match(rep.stdout, /out of date secondary/);
      assert.equal(await copiesValidForCryptsetup(path), true);
    });

    it('a destroyed primary magic: still LUKS, repaired from the secondary', async () => {
      const path = await copy();
      await editLuks2Binary(path, 'primary', (b) => b.fill(0, 0, 8));
      const info = JSON.parse((await cli('info', '--json', path)).stdout);
      assert.equal(info.format, 'luks');
      await readsPlain(path);
      assert.equal((await cli('header', 'repair', path)).code, 0);
      assert.equal((await run('cryptsetup', ['isLuks', '--disable-locks', path])).code, 0);
      assert.equal(await copiesValidForCryptsetup(path), true);
    });

    it('a detached header says there is no data behind it', async () => {
      const hdr = join(dir, 'detached.hdr');
      const data = join(dir, 'detached.data');
      await writeFile(data, new Uint8Array(MiB));
      await runOk('cryptsetup', [
        'luksFormat',
        '--batch-mode',
        '--type',
        'luks2',
        '--pbkdf',
        'pbkdf2',
        '--pbkdf-force-iterations',
        '1000',
        '--header',
        hdr,
        '--key-file',
        pw,
        data,
      ]);
      const info = JSON.parse((await cli('info', '--json', hdr)).stdout);
      assert.equal(info['virtual-size'], 0);
      assert.equal(info['format-specific'].data['detached-header'], true);
      assert.ok(info.warnings.some((w: string) => /Detached LUKS header/.test(w)));
      assert.equal((await cli('keyslot', 'test', hdr, '--passphrase-file', pw)).code, 0);
    });

    it('an unknown mandatory requirement: keyslot test works; data and header writes refused, file unchanged', async () => {
      const path = await copy();
      await editLuks2Json(path, (j) => (j.config.requirements = { mandatory: ['foo-feature'] }));
      assert.equal((await cryptsetupVerdict(path, pw)).opens, true);
      const before = await fileSha256(path);
      assert.equal((await cli('keyslot', 'test', path, '--passphrase-file', pw)).code, 0);
      assert.equal((await cli('keyslot', 'test', path, '--passphrase-file', bad)).code, 4);
      const refused = [
        ['convert', '-O', 'raw', '--source-passphrase-file', pw, path, join(dir, 'req.raw')],
        [
          'keyslot',
          'add',
          path,
          '--passphrase-file',
          pw,
          '--new-passphrase-file',
          bad,
          '--pbkdf',
          'pbkdf2',
          '--iterations',
          '1000',
        ],
        ['keyslot', 'remove', path, '--slot', '0', '--force-last'],
        [
          'keyslot',
          'change',
          path,
          '--passphrase-file',
          pw,
          '--new-passphrase-file',
          bad,
          '--pbkdf',
          'pbkdf2',
          '--iterations',
          '1000',
        ],
        ['header', 'convert', path, '--luks-version', '1'],
      ];
      for (const argv of refused) {
        const r = await cli(...argv);
        assert.equal(r.code, 1, argv.join(' '));
        assert.match(r.stderr, /foo-feature.*\[UNSUPPORTED_FEATURE\]/, argv.join(' '));
      }
      assert.equal(await fileSha256(path), before);
    });

    it('a segment cipher we lack under an AES keyslot: keyslot test works, reading names the cipher', async () => {
      const path = await copy();
      await editLuks2Json(path, (j) => (j.segments['0'].encryption = 'serpent-xts-plain64'));
      assert.equal((await cryptsetupVerdict(path, pw)).opens, true);
      assert.equal((await cli('keyslot', 'test', path, '--passphrase-file', pw)).code, 0);
      const info = await cli('info', path);
      assert.match(info.stdout, /serpent-xts-plain64/);
      const r = await cli(
        'convert',
        '-O',
        'raw',
        '--source-passphrase-file',
        pw,
        path,
        join(dir, 's.raw')
      );
      assert.equal(r.code, 1);
      assert.match(r.stderr, /serpent-xts-plain64.*\[UNSUPPORTED_CIPHER\]/);
    });
  }
);
