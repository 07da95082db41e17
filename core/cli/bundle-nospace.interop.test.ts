/**
 * Issue #13: a full disk during `bundle export` or `bundle import` ends with the one-line
 * NO_SPACE error (no stack trace) and leaves no partial output behind. Judged on a 12 MiB
 * tmpfs with a bundle whose image needs more.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../testing/cli.js';
import { patternBytes } from '../testing/bytes.js';
import { peerTestOptions, runOk, scratchDir } from '../testing/peers.js';
import { smallTmpfs } from '../testing/small-fs.js';

const opts = peerTestOptions('ssh-keygen');

describe('bundle export/import on a full disk', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let full: { dir: string; cleanup: () => Promise<void> };
  let raw: string;
  let key: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-nospace-'));
    full = await smallTmpfs(12);
    raw = join(dir, 'plain.raw');
    const data = Buffer.alloc(32 << 20);
    for (let i = 0; i < 4; i++) data.set(patternBytes(4 << 20, i + 7), i * (8 << 20));
    await writeFile(raw, data);
    key = join(dir, 'id');
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  });
  after(async () => {
    await full?.cleanup();
    await cleanup?.();
  });

  const oneLineNoSpace = (r: { code: number; stderr: string }) => {
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No space left.*\[NO_SPACE\]$/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  };

  test('export into a full file system: NO_SPACE, nothing left', async () => {
    for (const out of ['b.tar', 'folder']) {
      const r = await cli(
        'bundle',
        'export',
        '--to',
        `${key}.pub`,
        '-o',
        'iterations=1000',
        raw,
        join(full.dir, out)
      );
      oneLineNoSpace(r);
      const left = await readdir(full.dir);
      assert.ok(
        !left.some((n) => n.includes('.partial') || n.endsWith('.image') || n === 'b.tar'),
        left.join(',')
      );
    }
  });

  test('import into a full file system: NO_SPACE before writing, nothing left', async () => {
    const bundle = join(dir, 'b.tar');
    const r0 = await cli(
      'bundle',
      'export',
      '--to',
      `${key}.pub`,
      '-o',
      'iterations=1000',
      raw,
      bundle
    );
    assert.equal(r0.code, 0, r0.stderr);
    const r = await cli('bundle', 'import', '--identity', key, bundle, join(full.dir, 'vm.qcow2'));
    oneLineNoSpace(r);
    assert.deepEqual(
      (await readdir(full.dir)).filter((n) => n.startsWith('vm.qcow2')),
      []
    );
  });
});
