/**
 * The header journal (header-journal.ts): an operation interrupted between its writes leaves a
 * journal; until `header repair` rolls it back, info says so and header writes are refused;
 * the rollback restores every byte. A journal torn before it was committed is discarded.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import { headerIOForDevice } from '../formats/luks/header-io.js';
import { planLuksConvert } from '../formats/luks/luks-convert.js';
import { FileDevice } from '../io/file-device.js';
import { scratchDir } from '../testing/peers.js';
import { createImage } from './create.js';
import { applyJournaled, hasHeaderJournal, headerJournalPath } from './header-journal.js';
import { headerRepair } from './header.js';
import { inspectImage } from './inspect.js';
import { keyslotAdd, keyslotTest } from './keyslots.js';

const enc = (s: string) => new TextEncoder().encode(s);

async function luksImage(dir: string, version: 1 | 2): Promise<string> {
  const path = join(dir, `v${version}.luks`);
  await createImage(
    {
      path,
      format: 'luks',
      virtualSize: 1 << 20,
      passphrase: enc('abc123'),
      encryption: { luksVersion: version, pbkdf: 'pbkdf2', iterations: 1000 },
    },
    0
  );
  return path;
}

/** Applies the conversion of `path` to `to`, failing at its second write (a power cut). */
async function interruptedConvert(path: string, from: 1 | 2, to: 1 | 2): Promise<void> {
  const dev = await FileDevice.open(path, { write: true });
  try {
    const io = headerIOForDevice(dev, await dev.size());
    const plan = await planLuksConvert(io, from, to);
    let writes = 0;
    const failing = {
      ...io,
      write: async (buf: Uint8Array, pos: number) => {
        if (++writes === 2) throw new Error('power cut');
        await io.write(buf, pos);
      },
    };
    await assert.rejects(
      applyJournaled(path, failing, `conversion to LUKS${to}`, plan.writes),
      /power cut/
    );
  } finally {
    await dev.close();
  }
}

describe('header journal', () => {
  for (const [from, to] of [
    [2, 1],
    [1, 2],
  ] as const) {
    it(`an interrupted conversion to LUKS${to} blocks writes until header repair rolls it back`, async () => {
      const { dir, cleanup } = await scratchDir('iv-hj-');
      try {
        const path = await luksImage(dir, from);
        const original = await readFile(path);
        await interruptedConvert(path, from, to);
        assert.equal(await hasHeaderJournal(path), true);
        assert.equal((await stat(headerJournalPath(path))).mode & 0o777, 0o600);
        assert.ok(!(await readFile(path)).equals(original), 'the first write landed');
        if (from === 2) {
          // The keyslots moved over both LUKS2 copies: info points at the journal.
          await assert.rejects(inspectImage(path), (e) => isVaultError(e, 'NEEDS_REPAIR'));
        } else {
          const info = await inspectImage(path);
          assert.equal(info.encryption?.headerState?.needsRepair, true);
          assert.equal(info.encryption?.headerState?.journal, headerJournalPath(path));
          assert.ok(info.warnings.some((w) => /interrupted header operation/.test(w)));
        }
        await assert.rejects(
          keyslotAdd({
            path,
            passphrase: enc('abc123'),
            newPassphrase: enc('x'),
            iterations: 1000,
          }),
          (e) => isVaultError(e, 'NEEDS_REPAIR')
        );
        const r = await headerRepair(path);
        assert.equal(r.action, 'rolled-back');
        assert.match(
          r.description,
          new RegExp(`Rolled back an interrupted conversion to LUKS${to}`)
        );
        assert.ok((await readFile(path)).equals(original), 'every byte restored');
        assert.equal(await hasHeaderJournal(path), false);
        assert.deepEqual(await keyslotTest(path, enc('abc123')), { slot: 0 });
      } finally {
        await cleanup();
      }
    });
  }

  it('a torn header write (no magic left) is still rolled back from the journal', async () => {
    const { dir, cleanup } = await scratchDir('iv-hj-');
    try {
      const path = await luksImage(dir, 1);
      const original = await readFile(path);
      await interruptedConvert(path, 1, 2);
      const torn = await readFile(path);
      torn.fill(0x5a, 0, 4096); // half of the LUKS2 primary copy landed
      await writeFile(path, torn);
      assert.equal((await inspectImage(path)).format, 'raw');
      assert.equal((await headerRepair(path)).action, 'rolled-back');
      assert.ok((await readFile(path)).equals(original));
    } finally {
      await cleanup();
    }
  });

  it('a journal torn before it was committed is discarded (the image was never touched)', async () => {
    const { dir, cleanup } = await scratchDir('iv-hj-');
    try {
      const path = await luksImage(dir, 2);
      await writeFile(headerJournalPath(path), 'IVLUKSJ1 half a journal');
      assert.equal(await hasHeaderJournal(path), false);
      assert.equal((await inspectImage(path)).encryption?.headerState?.needsRepair, false);
      const r = await keyslotAdd({
        path,
        passphrase: enc('abc123'),
        newPassphrase: enc('second'),
        pbkdf: 'pbkdf2',
        iterations: 1000,
      });
      assert.equal(r.slot, 1);
      await assert.rejects(stat(headerJournalPath(path)), /ENOENT/);
    } finally {
      await cleanup();
    }
  });
});
