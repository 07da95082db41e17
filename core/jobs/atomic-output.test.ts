import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../api/errors.js';
import { scratchDir } from '../testing/peers.js';
import { journalPathFor, withPartialOutput } from './atomic-output.js';

test('success writes to .partial and renames it to the target', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const target = join(dir, 'out.img');
    let seen = '';
    const r = await withPartialOutput(target, async (partial) => {
      seen = partial;
      await writeFile(partial, 'hello');
      await writeFile(journalPathFor(partial), '{}');
      return 42;
    });
    assert.equal(r, 42);
    assert.equal(seen, `${target}.partial`);
    assert.equal(await readFile(target, 'utf8'), 'hello');
    assert.deepEqual(await readdir(dir), ['out.img']);
  } finally {
    await cleanup();
  }
});

test('an existing target is refused with EXISTS unless overwrite', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const target = join(dir, 'out.img');
    await writeFile(target, 'old');
    let ran = false;
    await assert.rejects(
      withPartialOutput(target, async () => {
        ran = true;
      }),
      { code: 'EXISTS' }
    );
    assert.equal(ran, false);
    assert.equal(await readFile(target, 'utf8'), 'old');
    await withPartialOutput(target, (p) => writeFile(p, 'new'), { overwrite: true });
    assert.equal(await readFile(target, 'utf8'), 'new');
  } finally {
    await cleanup();
  }
});

test('failure and cancel leave neither target nor .partial nor journal', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const target = join(dir, 'out.img');
    await assert.rejects(
      withPartialOutput(target, async (p) => {
        await writeFile(p, 'half');
        throw fail('VERIFY_FAILED', 'differs');
      }),
      { code: 'VERIFY_FAILED' }
    );
    assert.deepEqual(await readdir(dir), []);

    // An explicit cancel removes everything, even a resumable output after an I/O error.
    const ac = new AbortController();
    await assert.rejects(
      withPartialOutput(
        target,
        async (p) => {
          await writeFile(p, 'half');
          await writeFile(journalPathFor(p), '{}');
          ac.abort();
          throw fail('IO', 'aborted write');
        },
        { signal: ac.signal, resumable: true }
      ),
      { code: 'CANCELLED' }
    );
    assert.deepEqual(await readdir(dir), []);

    // Cancel after fn finished but before the rename.
    const ac2 = new AbortController();
    await assert.rejects(
      withPartialOutput(
        target,
        async (p) => {
          await writeFile(p, 'done');
          ac2.abort();
        },
        { signal: ac2.signal }
      ),
      { code: 'CANCELLED' }
    );
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await cleanup();
  }
});

test('a resumable output interrupted by an I/O failure keeps .partial and journal', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const target = join(dir, 'out.img');
    await assert.rejects(
      withPartialOutput(
        target,
        async (p) => {
          await writeFile(p, 'half');
          await writeFile(journalPathFor(p), '{}');
          throw fail('IO', 'simulated kill');
        },
        { resumable: true }
      ),
      { code: 'IO' }
    );
    assert.deepEqual((await readdir(dir)).sort(), ['out.img.partial', 'out.img.partial.journal']);
    // Resuming keeps the partial for fn, and success publishes it.
    let content = '';
    await withPartialOutput(
      target,
      async (p) => {
        content = await readFile(p, 'utf8');
      },
      { resume: true, resumable: true }
    );
    assert.equal(content, 'half');
    assert.deepEqual(await readdir(dir), ['out.img']);
  } finally {
    await cleanup();
  }
});

test('a fresh start empties a stale partial and removes its journal', async () => {
  const { dir, cleanup } = await scratchDir();
  try {
    const target = join(dir, 'out.img');
    await writeFile(`${target}.partial`, 'stale');
    await writeFile(`${target}.partial.journal`, '{}');
    let seen: string[] = [];
    let staleBytes = -1;
    await withPartialOutput(target, async (p) => {
      // The partial stays, claimed and empty: the job's own output open creates nothing new.
      seen = await readdir(dir);
      staleBytes = (await readFile(p)).length;
      await writeFile(p, 'x');
    });
    assert.deepEqual(seen, ['out.img.partial']);
    assert.equal(staleBytes, 0);
    assert.deepEqual(await readdir(dir), ['out.img']);
  } finally {
    await cleanup();
  }
});
