/**
 * Issue #13: absurd KDF costs. A keyslot whose PBKDF2 count is 2^31 or more (which
 * `node:crypto` cannot compute) or whose derivation would take over the bound (180 s at this
 * machine's measured speed) is skipped with a warning, and the other keyslots still open;
 * `--allow-slow-keyslots` tries it, and SIGTERM/SIGINT then stop the derivation at once,
 * leaving no output (without the fix the process ran on for minutes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, spawnCli } from '../testing/cli.js';
import { passphraseFile, peerTestOptions, scratchDir } from '../testing/peers.js';

const opts = peerTestOptions();

/** LUKS1 keyslot `slot`'s iteration count lives at 208 + 48 × slot + 4 (docs/spec/luks1.md). */
async function setIterations(path: string, slot: number, iterations: number) {
  const fh = await open(path, 'r+');
  const b = Buffer.alloc(4);
  b.writeUInt32BE(iterations);
  await fh.write(b, 0, 4, 208 + 48 * slot + 4);
  await fh.close();
}

describe('absurd KDF costs', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let base: string;
  let pw: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-kdfbound-'));
    pw = await passphraseFile(dir, 'pw', 'slow slots');
    base = join(dir, 'base.luks');
    const r = await cli(
      'create',
      '-f',
      'luks',
      '--passphrase-file',
      pw,
      '-o',
      'iterations=1000',
      base,
      '4M'
    );
    assert.equal(r.code, 0, r.stderr);
    const add = await cli(
      'keyslot',
      'add',
      '--passphrase-file',
      pw,
      '--new-passphrase-file',
      pw,
      '-o',
      'iterations=1000',
      base
    );
    assert.equal(add.code, 0, add.stderr);
  });
  after(async () => cleanup?.());

  for (const iterations of [2 ** 31, 2 ** 32 - 1, 2 ** 31 - 1]) {
    test(`slot 0 with ${iterations} iterations is skipped with a warning; slot 1 opens`, async () => {
      const img = join(dir, `it-${iterations}.luks`);
      await copyFile(base, img);
      await setIterations(img, 0, iterations);
      const r = await cli('keyslot', 'test', '--passphrase-file', pw, img);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^warning: skipped keyslot 0: /);
      assert.match(r.stderr, iterations >= 2 ** 31 ? /at most 2\^31-1/ : /over the 180 s bound/);
      assert.doesNotMatch(r.stderr, /ERR_OUT_OF_RANGE|\[IO\]|\[INTERNAL\]/);
      // Only slot 0 left: a one-line typed error naming the skip.
      await setIterations(img, 1, iterations);
      const none = await cli('keyslot', 'test', '--passphrase-file', pw, img);
      assert.equal(none.code, 4);
      assert.match(none.stderr, /not tried: keyslot 0: .*keyslot 1: .*\[WRONG_PASSPHRASE\]$/m);
    });
  }

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    test(`--allow-slow-keyslots tries it, and ${sig} stops the derivation`, async () => {
      const img = join(dir, `slow-${sig}.luks`);
      await copyFile(base, img);
      await setIterations(img, 0, 2 ** 31 - 1);
      await setIterations(img, 1, 2 ** 31 - 1);
      const out = join(dir, `out-${sig}.raw`);
      let killed = false;
      const r = await spawnCli(
        [
          'convert',
          '--allow-slow-keyslots',
          '--progress=json',
          '-O',
          'raw',
          '--source-passphrase-file',
          pw,
          img,
          out,
        ],
        {
          onStdoutLine: (line, kill) => {
            if (killed || !line.includes('"preparing"')) return;
            killed = true;
            setTimeout(() => kill(sig), 500);
          },
        }
      );
      assert.ok(killed, r.stderr);
      // Ended by the signal (or exit 130), long before the derivation (minutes) could finish.
      assert.ok(r.signal === sig || r.code === 130, `${r.code} ${r.signal} ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /warning: skipped/);
      assert.ok(!(await readdir(dir)).some((n) => n.startsWith(`out-${sig}`)));
    });
  }
});
