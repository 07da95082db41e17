/**
 * Interop (CLI): master-key rotation killed with SIGKILL at random moments, then finished with
 * `rekey --resume` (itself killed at random too) — issue #17 "Crash-safe at every point".
 * After every kill that left the image half rotated, the peers must refuse it rather than
 * read it with a key that no longer fits: `qemu-img info` and `qemu-img convert` (qcow2
 * v3: the incompatible feature bit; v2 and raw: the replaced LUKS magic), cryptsetup
 * (`isLuks`, `open --test-passphrase`). At the end the image is judged as in the plain runs:
 * guest data equal, `qemu-img check` clean, the new key everywhere, the old key nowhere.
 * The number of kills is printed (`# kills: …`).
 */
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { qemuIoLuks } from '../testing/luks-peers.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  run,
  runOk,
  runQemuRetrying,
  scratchDir,
} from '../testing/peers.js';
import {
  dumpVolumeKey,
  judgeUnits,
  qcow2DataRanges,
  rekeyWithKills,
} from '../testing/rekey-peers.js';

const ZONE = ['--zone-size', '65536'];
const MAX_DELAY_MS = 5000;

describe(
  'rekey killed and resumed (CLI)',
  peerTestOptions('qemu-img', 'qemu-io', 'cryptsetup'),
  () => {
    let dir = '';
    let cleanup: () => Promise<void> = async () => {};
    let pw = '';
    let sec: string[] = [];
    let n = 0;
    let totalKills = 0;
    const name = (ext: string) => join(dir, `k${n++}.${ext}`);

    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-rekey-k-'));
      pw = await passphraseFile(dir, 'pw', 'abc123');
      sec = await qemuSecret(dir, 's', 'abc123');
    });
    after(async () => {
      console.log(
        `# kills: ${totalKills} in all; half-rotated images refused by the peers ${refusals} times, ` +
          `read as before (killed before being marked) ${unmarked} times`
      );
      await cleanup();
    });

    const driverOpts = (driver: 'qcow2' | 'luks', img: string, key = 's') =>
      driver === 'qcow2'
        ? `driver=qcow2,file.filename=${img},encrypt.key-secret=${key}`
        : `driver=luks,file.filename=${img},key-secret=${key}`;

    async function guest(driver: 'qcow2' | 'luks', img: string): Promise<Buffer> {
      const out = name('raw');
      await runOk('qemu-img', [
        'convert',
        ...sec,
        '--image-opts',
        driverOpts(driver, img),
        '-O',
        'raw',
        out,
      ]);
      return readFile(out);
    }

    let refusals = 0;
    let unmarked = 0;

    /**
     * What the peers make of an interrupted image: refused while it is marked as rotating; in the
     * short window before it is marked (journal written, nothing else), all of it is still under
     * the old key and reads as before. Never anything else.
     */
    async function peersSafe(driver: 'qcow2' | 'luks', img: string, data: Buffer): Promise<void> {
      const out = join(dir, 'half.raw');
      const conv = await run('qemu-img', [
        'convert',
        ...sec,
        '--image-opts',
        driverOpts(driver, img),
        '-O',
        'raw',
        out,
      ]);
      if (conv.code === 0) {
        assert.deepEqual(await readFile(out), data, 'an unmarked image reads as before');
        unmarked++;
        return;
      }
      refusals++;
      assert.match(conv.stderr, /Unsupported qcow2 feature|not in LUKS format/);
      const info = await run('qemu-img', ['info', img]);
      if (driver === 'qcow2') {
        assert.notEqual(info.code, 0, 'qemu-img info refuses a half-rotated qcow2');
        assert.match(info.stderr, /Unsupported qcow2 feature|not in LUKS format/);
      } else {
        assert.notEqual((await run('cryptsetup', ['isLuks', img])).code, 0, 'cryptsetup: not LUKS');
        const open = await run('cryptsetup', ['open', '--test-passphrase', '--key-file', pw, img]);
        assert.notEqual(open.code, 0, 'cryptsetup refuses the passphrase test');
      }
    }

    async function killAndJudge(
      driver: 'qcow2' | 'luks',
      img: string,
      kills: number,
      geometry: () => Promise<{
        ranges: { start: number; length: number }[];
        unit: number;
        ivOf: (o: number) => number;
      }>
    ) {
      const copy = name('before');
      await copyFile(img, copy);
      const data = await guest(driver, img);
      const oldKey = await dumpVolumeKey(dir, img, pw, `old${n}`);
      const g = await geometry();
      const rep = await rekeyWithKills(img, ['--passphrase-file', pw, ...ZONE], {
        kills,
        maxDelayMs: MAX_DELAY_MS,
        whileHalf: () => peersSafe(driver, img, data),
      });
      totalKills += rep.kills;
      console.log(
        `# ${driver} ${img}: ${rep.kills} kills mid-rotation, ${rep.earlyKills} before it began, ` +
          `${rep.halfChecks} half-rotated checks`
      );
      assert.ok(rep.kills >= 1, 'at least one kill landed');
      assert.deepEqual(await guest(driver, img), data, 'the guest data survived the kills');
      if (driver === 'qcow2')
        await runOk('qemu-img', ['check', ...sec, '--image-opts', driverOpts(driver, img)]);
      else await runOk('cryptsetup', ['open', '--test-passphrase', '--key-file', pw, img]);
      const newKey = await dumpVolumeKey(dir, img, pw, `new${n}`);
      const v = await judgeUnits(
        await readFile(copy),
        await readFile(img),
        g.ranges,
        { old: oldKey, new: newKey },
        g
      );
      assert.equal(v.newKeyMatches, v.units, 'every unit under the new key');
      assert.equal(v.oldKeyMatches, 0, 'the old key decrypts no unit');
    }

    async function qcow2Image(compat: string): Promise<string> {
      const img = name('qcow2');
      await runQemuRetrying('qemu-img', [
        'create',
        '-f',
        'qcow2',
        ...sec,
        '-o',
        `encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10,compat=${compat}`,
        img,
        '16M',
      ]);
      const io = (c: string[]) =>
        runOk('qemu-io', [
          ...sec,
          '--image-opts',
          driverOpts('qcow2', img),
          ...c.flatMap((x) => ['-c', x]),
        ]);
      await io(['write -P 0xab 0 2M', 'write -P 0x5a 6M 1M']);
      if (compat === '1.1') {
        await runOk('qemu-img', [
          'snapshot',
          ...sec,
          '--image-opts',
          driverOpts('qcow2', img),
          '-c',
          's1',
        ]);
        await io(['write -P 0x33 1M 512k']);
      }
      return img;
    }

    it('qcow2 v3 with a snapshot', async () => {
      const img = await qcow2Image('1.1');
      await killAndJudge('qcow2', img, 4, async () => ({
        ranges: await qcow2DataRanges(img),
        unit: 512,
        ivOf: (o) => o / 512,
      }));
    });

    it('qcow2 v2', async () => {
      const img = await qcow2Image('0.10');
      await killAndJudge('qcow2', img, 2, async () => ({
        ranges: await qcow2DataRanges(img),
        unit: 512,
        ivOf: (o) => o / 512,
      }));
    });

    it('raw LUKS1 (cryptsetup geometry)', async () => {
      const img = name('luks');
      await runOk('truncate', ['-s', '6M', img]);
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
      await qemuIoLuks(img, sec, ['write -P 0x77 0 1M', 'write -P 0x12 2M 2M']);
      await killAndJudge('luks', img, 2, async () => ({
        ranges: [{ start: 2 * 1024 * 1024, length: 4 * 1024 * 1024 }],
        unit: 512,
        ivOf: (o) => (o - 2 * 1024 * 1024) / 512,
      }));
    });
  }
);
