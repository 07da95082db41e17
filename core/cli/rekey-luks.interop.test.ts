/**
 * Interop (CLI): master-key rotation of raw LUKS1 and LUKS2 images made by cryptsetup and
 * qemu-img (issue #17). Judged by cryptsetup (the new header passes `open --test-passphrase`
 * and keeps its UUID; its `--dump-volume-key` decrypts the payload to what the old key did,
 * unit by unit, and the old key decrypts no unit), by `qemu-img convert` for LUKS1, and for
 * LUKS2 (which QEMU 7.2 cannot open) by decrypting with cryptsetup's volume keys only.
 * LUKS2 data is put in place by encrypting known bytes with cryptsetup's volume key.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDmCipher } from '../crypto/cipher-spec.js';
import { createSectorCipher } from '../crypto/sector-cipher.js';
import { patternBytes } from '../testing/bytes.js';
import { cli } from '../testing/cli.js';
import { qemuIoLuks, qemuRaw } from '../testing/luks-peers.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  run,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';
import { dumpVolumeKey, judgeUnits, rekeyWithKills } from '../testing/rekey-peers.js';

const MiB = 1024 * 1024;
const FAST_ARGON = [
  '--pbkdf-force-iterations',
  '4',
  '--pbkdf-memory',
  '32768',
  '--pbkdf-parallel',
  '1',
];

describe(
  'rekey raw LUKS1/LUKS2 (CLI)',
  peerTestOptions('qemu-img', 'qemu-io', 'cryptsetup'),
  () => {
    let dir = '';
    let cleanup: () => Promise<void> = async () => {};
    let pw = '';
    let sec: string[] = [];
    let n = 0;
    const name = (ext: string) => join(dir, `l${n++}.${ext}`);

    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-rekey-l-'));
      pw = await passphraseFile(dir, 'pw', 'abc123');
      sec = await qemuSecret(dir, 's', 'abc123');
    });
    after(() => cleanup());

    async function luksJson(img: string) {
      return JSON.parse(await runOk('cryptsetup', ['luksDump', '--dump-json-metadata', img])) as {
        keyslots: Record<string, unknown>;
        segments: Record<string, { offset: string; sector_size: number }>;
      };
    }

    /** Rotates (plain, or with kills) and judges by cryptsetup's keys; returns the kill count. */
    async function rotateAndJudge(
      img: string,
      payload: number,
      unit: number,
      o: { kills?: number; qemu?: boolean } = {}
    ): Promise<number> {
      const copy = name('before');
      await copyFile(img, copy);
      const uuid = (await runOk('cryptsetup', ['luksUUID', img])).trim();
      const data = o.qemu ? await qemuRaw(dir, img, 'luks', join(dir, 's.secret')) : undefined;
      const oldKey = await dumpVolumeKey(dir, img, pw, `old${n}`);
      let kills = 0;
      if (o.kills) {
        const rep = await rekeyWithKills(img, ['--passphrase-file', pw, '--zone-size', '65536'], {
          kills: o.kills,
          maxDelayMs: 4000,
          whileHalf: async () => {
            const marked = (await run('cryptsetup', ['isLuks', img])).code !== 0;
            if (!marked) return; // killed before marking, or after the new header went in
            const t = await run('cryptsetup', ['open', '--test-passphrase', '--key-file', pw, img]);
            assert.notEqual(t.code, 0, 'cryptsetup refuses a half-rotated volume');
          },
        });
        kills = rep.kills;
        console.log(`# ${img}: ${rep.kills} kills mid-rotation, ${rep.earlyKills} before it began`);
        assert.ok(rep.kills >= 1, 'at least one kill landed');
      } else {
        const r = await cli('rekey', '--passphrase-file', pw, img);
        assert.equal(r.code, 0, r.stderr);
      }
      await runOk('cryptsetup', ['open', '--test-passphrase', '--key-file', pw, img]);
      assert.equal((await runOk('cryptsetup', ['luksUUID', img])).trim(), uuid, 'same UUID');
      const newKey = await dumpVolumeKey(dir, img, pw, `new${n}`);
      assert.notDeepEqual(newKey, oldKey);
      const size = (await readFile(img)).length;
      const length = Math.floor((size - payload) / unit) * unit;
      const v = await judgeUnits(
        await readFile(copy),
        await readFile(img),
        [{ start: payload, length }],
        { old: oldKey, new: newKey },
        { unit, ivOf: (off) => (off - payload) / 512 }
      );
      assert.equal(v.units, length / unit);
      assert.equal(v.newKeyMatches, v.units, 'the new key decrypts every unit as the old did');
      assert.equal(v.oldKeyMatches, 0, 'the old key decrypts no unit');
      if (data) assert.deepEqual(await qemuRaw(dir, img, 'luks', join(dir, 's.secret')), data);
      return kills;
    }

    /** LUKS2 by cryptsetup with known bytes encrypted under its volume key. */
    async function luks2Image(
      extra: string[],
      sector: number
    ): Promise<{ img: string; payload: number }> {
      const img = name('luks2');
      await runOk('truncate', ['-s', '20M', img]);
      await runOk('cryptsetup', [
        'luksFormat',
        '--batch-mode',
        '--type',
        'luks2',
        '--key-file',
        pw,
        ...extra,
        '--sector-size',
        String(sector),
        img,
      ]);
      const j = await luksJson(img);
      const payload = Number(j.segments['0']!.offset);
      const vk = await dumpVolumeKey(dir, img, pw, `fill${n}`);
      const sc = createSectorCipher(parseDmCipher('aes-xts-plain64', vk.length), vk, sector);
      const bytes = await readFile(img);
      const plain = patternBytes(bytes.length - payload, 7);
      sc.encrypt(plain, 0);
      bytes.set(plain, payload);
      await writeFile(img, bytes);
      return { img, payload };
    }

    it('LUKS1 by cryptsetup (payload at 1 MiB… 2 MiB), read back by qemu-img', async () => {
      const img = name('luks');
      await runOk('truncate', ['-s', '8M', img]);
      await runOk('cryptsetup', [
        'luksFormat',
        '--batch-mode',
        '--type',
        'luks1',
        '--key-file',
        pw,
        '--pbkdf-force-iterations',
        '1000',
        img,
      ]);
      await qemuIoLuks(img, sec, ['write -P 0x77 0 1M', 'write -P 0x12 3M 1M']);
      await rotateAndJudge(img, 2 * MiB, 512, { qemu: true });
    });

    it('LUKS1 by qemu-img (payload at 4040 sectors)', async () => {
      const img = name('luks');
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'luks',
        ...sec,
        '-o',
        'key-secret=s,iter-time=10',
        img,
        '6M',
      ]);
      await qemuIoLuks(img, sec, ['write -P 0x42 0 2M']);
      await rotateAndJudge(img, 4040 * 512, 512, { qemu: true });
    });

    it('LUKS2 (pbkdf2, 4096-byte sectors)', async () => {
      const { img, payload } = await luks2Image(
        ['--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000'],
        4096
      );
      await rotateAndJudge(img, payload, 4096);
      const j = await luksJson(img);
      assert.deepEqual(Object.keys(j.keyslots), ['0']);
    });

    it('LUKS2 (argon2id keyslot), killed and resumed', async () => {
      const { img, payload } = await luks2Image(['--pbkdf', 'argon2id', ...FAST_ARGON], 512);
      const kills = await rotateAndJudge(img, payload, 512, { kills: 2 });
      assert.ok(kills >= 1);
      const ks = (await luksJson(img)).keyslots['0'] as { kdf: { type: string; memory: number } };
      assert.deepEqual([ks.kdf.type, ks.kdf.memory], ['argon2id', 32768], 'same KDF costs');
    });
  }
);
