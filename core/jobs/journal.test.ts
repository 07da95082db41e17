import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchDir } from '../testing/peers.js';
import {
  checkJournal,
  identifySource,
  readJournal,
  writeJournal,
  type ResumeJournal,
} from './journal.js';

test('journals round-trip atomically and refuse secrets', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const src = join(dir, 'src.img');
    await writeFile(src, new Uint8Array(3 * 1024 * 1024).fill(7));
    const id = await identifySource(src);
    assert.equal(id.size, 3 * 1024 * 1024);
    const j: ResumeJournal = {
      version: 1,
      source: id,
      target: {
        format: 'qcow2',
        clusterSize: 65536,
        cipher: 'aes-256-xts-plain64',
        encrypted: true,
      },
      chunkSize: 1024 * 1024,
      checkpoint: 64 * 1024 * 1024,
      updatedAt: new Date(0).toISOString(),
    };
    const path = join(dir, 'out.partial.journal');
    await writeJournal(path, j);
    assert.deepEqual(await readJournal(path), j);
    assert.deepEqual((await readdir(dir)).sort(), ['out.partial.journal', 'src.img']);
    checkJournal(j, id, { ...j.target });
    await assert.rejects(
      writeJournal(path, { ...j, target: { ...j.target, passphrase: 'abc123' } }),
      { code: 'INTERNAL' }
    );
    assert.doesNotMatch(await readFile(path, 'utf8'), /abc123/);
    assert.equal(await readJournal(join(dir, 'none')), undefined);
    await writeFile(path, '{"version":1');
    await assert.rejects(readJournal(path), { code: 'JOURNAL_MISMATCH' });
    await writeFile(path, JSON.stringify({ ...j, checkpoint: -1 }));
    await assert.rejects(readJournal(path), { code: 'JOURNAL_MISMATCH' });

    // A touched source (same bytes, new mtime) no longer matches.
    await utimes(src, new Date(), new Date(Date.now() + 5000));
    assert.throws(() => checkJournal(j, { ...id, mtimeMs: id.mtimeMs + 1 }, j.target), {
      code: 'JOURNAL_MISMATCH',
      message: /modification time/,
    });
    const touched = await identifySource(src);
    assert.equal(touched.headSha256, id.headSha256);
    assert.throws(() => checkJournal(j, touched, j.target), { code: 'JOURNAL_MISMATCH' });
  } finally {
    await cleanup();
  }
});
