/**
 * Interop (CLI): LUKS2 as `cryptsetup luksFormat --type luks2` writes it (issue 15 "LUKS2"),
 * judged by cryptsetup (luksDump, open --test-passphrase, its debug view of both header
 * copies) and by reading the data path independently: the volume key comes from
 * `cryptsetup luksDump --dump-volume-key`, and the payload is decrypted with the bare sector
 * cipher, not through our LUKS code. Also: keyslots added to our volumes, and tokens kept
 * consistent by `keyslot remove` exactly as `cryptsetup luksKillSlot` does.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDmCipher } from '../crypto/cipher-spec.js';
import { createSectorCipher } from '../crypto/sector-cipher.js';
import { patternBytes } from '../testing/bytes.js';
import { cli } from '../testing/cli.js';
import { cryptsetupLuksFormat } from '../testing/luks-peers.js';
import { cryptsetupVerdict, readLuks2Json, type Json } from '../testing/luks2-edit.js';
import { passphraseFile, peerTestOptions, run, runOk, scratchDir } from '../testing/peers.js';

const MiB = 1024 * 1024;
const FAST_ARGON = [
  '--pbkdf-force-iterations',
  '4',
  '--pbkdf-memory',
  '32768',
  '--pbkdf-parallel',
  '1',
];

async function dumpJson(path: string): Promise<Json> {
  return JSON.parse(await runOk('cryptsetup', ['luksDump', '--dump-json-metadata', path])) as Json;
}

async function bothCopiesValid(path: string): Promise<boolean> {
  const r = await run('cryptsetup', ['luksDump', '--debug', '--disable-locks', path]);
  return r.code === 0 && !/checksum error|requires recovery/i.test(r.stdout + r.stderr);
}

describe('LUKS2 create, keyslots and tokens (CLI)', peerTestOptions('cryptsetup'), () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let pw = '';
  let pw2 = '';
  let bad = '';
  let n = 0;
  const name = (ext: string) => join(dir, `f${n++}.${ext}`);

  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-luks2c-'));
    pw = await passphraseFile(dir, 'pw', 'abc123');
    pw2 = await passphraseFile(dir, 'pw2', 'second');
    bad = await passphraseFile(dir, 'bad', 'abc124');
  });
  after(() => cleanup());

  /** The volume key as cryptsetup recovers it. */
  async function volumeKey(path: string): Promise<Uint8Array> {
    const vk = name('vk');
    await runOk('cryptsetup', [
      'luksDump',
      '--batch-mode',
      '--dump-volume-key',
      '--volume-key-file',
      vk,
      '--key-file',
      pw,
      path,
    ]);
    return new Uint8Array(await readFile(vk));
  }

  it('create --luks-version 2 (argon2id, forced costs): what luksFormat writes', async () => {
    const img = name('luks');
    const r = await cli(
      'create',
      '-f',
      'luks',
      '--luks-version',
      '2',
      ...FAST_ARGON,
      '--passphrase-file',
      pw,
      img,
      '8M'
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /LUKS2 aes-256-xts-plain64/);
    const j = await dumpJson(img);
    const ks = j.keyslots['0'];
    assert.deepEqual(ks.kdf.type, 'argon2id');
    assert.deepEqual([ks.kdf.time, ks.kdf.memory, ks.kdf.cpus], [4, 32768, 1]);
    assert.deepEqual(
      [ks.key_size, ks.area.encryption, ks.area.key_size],
      [64, 'aes-xts-plain64', 64]
    );
    assert.deepEqual(
      [ks.area.offset, ks.area.size, ks.af.stripes, ks.af.hash],
      ['32768', '258048', 4000, 'sha256']
    );
    assert.deepEqual(j.segments['0'], {
      type: 'crypt',
      offset: String(16 * MiB),
      size: 'dynamic',
      iv_tweak: '0',
      encryption: 'aes-xts-plain64',
      sector_size: 512,
    });
    assert.deepEqual([j.digests['0'].hash, j.digests['0'].iterations], ['sha256', 1000]);
    assert.deepEqual(j.config, { json_size: '12288', keyslots_size: '16744448' });
    assert.equal(await bothCopiesValid(img), true);
    assert.equal((await cryptsetupVerdict(img, pw)).opens, true);
    assert.equal((await cryptsetupVerdict(img, bad)).opens, false);
    const info = JSON.parse((await cli('info', '--json', img)).stdout);
    assert.equal(info['virtual-size'], 8 * MiB);
    assert.equal(info['format-specific'].data['keyslot-positions'], 32);
  });

  for (const sector of [512, 4096]) {
    it(`convert -O luks --luks-version 2 --pbkdf pbkdf2 --sector-size ${sector}: data decrypts with cryptsetup's volume key`, async () => {
      const src = name('raw');
      const plain = patternBytes(3 * MiB, sector);
      await writeFile(src, plain);
      const img = name('luks');
      const r = await cli(
        'convert',
        '-O',
        'luks',
        '--luks-version',
        '2',
        '--pbkdf',
        'pbkdf2',
        '--pbkdf-force-iterations',
        '1000',
        '--sector-size',
        String(sector),
        '--passphrase-file',
        pw,
        src,
        img
      );
      assert.equal(r.code, 0, r.stderr);
      const j = await dumpJson(img);
      assert.deepEqual(
        [j.keyslots['0'].kdf.type, j.keyslots['0'].kdf.iterations],
        ['pbkdf2', 1000]
      );
      assert.equal(j.segments['0'].sector_size, sector);
      assert.equal((await cryptsetupVerdict(img, pw)).opens, true);
      const vk = await volumeKey(img);
      const ct = new Uint8Array((await readFile(img)).subarray(16 * MiB));
      assert.equal(ct.length, plain.length);
      const sc = createSectorCipher(parseDmCipher('aes-xts-plain64', 64), vk, sector);
      sc.decrypt(ct, 0); // IVs count 512-byte units from the segment start (docs/spec/luks2.md §4)
      sc.dispose();
      assert.ok(Buffer.from(ct).equals(Buffer.from(plain)), 'payload decrypts to the source');
    });
  }

  it('create with a benchmarked argon2id keyslot stays within the memory limit and lanes', async () => {
    const img = name('luks');
    const r = await cli(
      'create',
      '-f',
      'luks',
      '--luks-version',
      '2',
      '--iter-time',
      '300',
      '--pbkdf-memory',
      '65536',
      '--passphrase-file',
      pw,
      img,
      '1M'
    );
    assert.equal(r.code, 0, r.stderr);
    const kdf = (await dumpJson(img)).keyslots['0'].kdf;
    assert.equal(kdf.type, 'argon2id');
    assert.ok(kdf.time >= 4 && kdf.memory >= 32 && kdf.memory <= 65536, JSON.stringify(kdf));
    assert.equal(kdf.cpus, Math.min(4, availableParallelism()));
    assert.equal((await cryptsetupVerdict(img, pw)).opens, true);
  });

  it('keyslots added to our argon2id volume are argon2id; --pbkdf pbkdf2 when asked', async () => {
    const img = name('luks');
    await cli(
      'create',
      '-f',
      'luks',
      '--luks-version',
      '2',
      ...FAST_ARGON,
      '--passphrase-file',
      pw,
      img,
      '1M'
    );
    const a = await cli(
      'keyslot',
      'add',
      img,
      '--passphrase-file',
      pw,
      '--new-passphrase-file',
      pw2,
      ...FAST_ARGON
    );
    assert.equal(a.code, 0, a.stderr);
    const b = await cli(
      'keyslot',
      'add',
      img,
      '--passphrase-file',
      pw,
      '--new-passphrase-file',
      bad,
      '--pbkdf',
      'pbkdf2',
      '--iterations',
      '1000'
    );
    assert.equal(b.code, 0, b.stderr);
    const j = await dumpJson(img);
    assert.deepEqual(
      ['0', '1', '2'].map((k) => j.keyslots[k].kdf.type),
      ['argon2id', 'argon2id', 'pbkdf2']
    );
    assert.deepEqual(j.digests['0'].keyslots, ['0', '1', '2']);
    assert.equal((await cryptsetupVerdict(img, pw2)).opens, true);
    assert.equal((await cryptsetupVerdict(img, bad)).opens, true);
    assert.equal(await bothCopiesValid(img), true);
  });

  it('keyslot remove updates a token that names the keyslot, as luksKillSlot does', async () => {
    const img = name('img');
    await writeFile(img, '');
    await runOk('truncate', ['-s', '20M', img]);
    await cryptsetupLuksFormat(img, pw, [], 'luks2');
    await runOk('cryptsetup', [
      'luksAddKey',
      '--batch-mode',
      '--key-file',
      pw,
      '--pbkdf',
      'pbkdf2',
      '--pbkdf-force-iterations',
      '1000',
      img,
      pw2,
    ]);
    const tok = name('json');
    await writeFile(tok, JSON.stringify({ type: 'clevis', keyslots: ['0', '1'], jwe: { x: 1 } }));
    await runOk('cryptsetup', ['token', 'import', '--json-file', tok, img]);
    const theirs = name('img');
    await copyFile(img, theirs);

    const r = await cli('keyslot', 'remove', img, '--slot', '1');
    assert.equal(r.code, 0, r.stderr);
    await runOk('cryptsetup', ['luksKillSlot', '--batch-mode', '--key-file', pw, theirs, '1']);
    const [ours, cs] = [await readLuks2Json(img), await readLuks2Json(theirs)];
    assert.deepEqual(ours.tokens, cs.tokens);
    assert.deepEqual(ours.tokens['0'].keyslots, ['0']);
    assert.deepEqual(ours.digests, cs.digests);
    assert.deepEqual(Object.keys(ours.keyslots), Object.keys(cs.keyslots));
    assert.equal(await bothCopiesValid(img), true);
    assert.equal((await cryptsetupVerdict(img, pw)).opens, true);
    assert.equal((await cryptsetupVerdict(img, pw2)).opens, false);
    const info = JSON.parse((await cli('info', '--json', img)).stdout);
    assert.deepEqual(info['format-specific'].data.tokens, [
      { id: 0, type: 'clevis', keyslots: [0] },
    ]);
  });

  it('qcow2+LUKS stays LUKS1', async () => {
    const r = await cli(
      'create',
      '-f',
      'qcow2',
      '--encrypt',
      '--luks-version',
      '2',
      '--passphrase-file',
      pw,
      name('qcow2'),
      '1M'
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /always LUKS1.*\[UNSUPPORTED_FEATURE\]/);
  });
});
