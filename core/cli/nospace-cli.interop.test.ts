/**
 * Issue #13: a full disk during convert (every output kind), migrate and create ends with the
 * one-line NO_SPACE error and exit status 7 that names what was left (DST.partial, its
 * journal, their size) and the two ways on; `--resume` completes once there is space and
 * `image-vault clean DST` removes the leftovers; no `.journal.tmp` is ever left. In `serve`
 * the job fails with the same message and the server keeps answering. Judged on an 8 MiB
 * tmpfs with 24 MiB of incompressible guest data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cli, type CliRun } from '../testing/cli.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  scratchDir,
} from '../testing/peers.js';
import { smallTmpfs } from '../testing/small-fs.js';
import { startServe } from '../testing/serve-process.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');
const FAST = ['-o', 'iterations=1000'];

/** The one line: code, what was left, the two ways on; no stack trace. */
function assertNoSpaceLine(r: CliRun, target: string, kept: boolean) {
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(r.stderr, /No space left.*\[NO_SPACE\]$/);
  if (kept) {
    assert.ok(
      r.stderr.includes(`left ${target}.partial and its journal ${target}.partial.journal (`),
      r.stderr
    );
    assert.match(r.stderr, /\d+(\.\d)? (MiB|KiB|bytes)\)/);
    assert.ok(r.stderr.includes('--resume'), r.stderr);
    assert.ok(r.stderr.includes(`image-vault clean ${target}`), r.stderr);
  } else {
    assert.match(r.stderr, /nothing was left behind/);
  }
}

describe('full disks: convert, migrate, create (CLI and serve)', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let full: { dir: string; cleanup: () => Promise<void> };
  let src: string;
  let pw: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir('iv-nospace-cli-'));
    full = await smallTmpfs(8);
    src = join(dir, 'src.raw');
    await writeFile(src, randomBytes(24 << 20));
    pw = await passphraseFile(dir, 'pw', 'full disk passphrase');
  });
  after(async () => {
    await full?.cleanup();
    await cleanup?.();
  });

  const leftovers = async () => (await readdir(full.dir)).sort();
  const empty = async () => {
    for (const n of await readdir(full.dir)) await rm(join(full.dir, n), { force: true });
  };

  // Flags are built when a test runs: the passphrase file exists only after before().
  const kinds: [string, () => string[]][] = [
    ['qcow2', () => ['-O', 'qcow2']],
    ['qcow2+LUKS', () => ['-O', 'qcow2', '--encrypt', '--passphrase-file', pw, ...FAST]],
    ['raw', () => ['-O', 'raw']],
    ['raw LUKS', () => ['-O', 'luks', '--passphrase-file', pw, ...FAST]],
  ];
  for (const [name, flags] of kinds) {
    test(`convert → ${name}: NO_SPACE names the partial and journal; clean removes them`, async () => {
      await empty();
      const dst = join(full.dir, 'out.img');
      const r = await cli('convert', ...flags(), src, dst);
      assertNoSpaceLine(r, dst, true);
      assert.deepEqual(await leftovers(), ['out.img.partial', 'out.img.partial.journal']);
      // Unfinished outputs and journals stay private (issue #13: journals 0600).
      assert.equal((await stat(`${dst}.partial`)).mode & 0o777, 0o600);
      assert.equal((await stat(`${dst}.partial.journal`)).mode & 0o777, 0o600);
      const c = await cli('clean', dst);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /Removed .*out\.img\.partial, .*out\.img\.partial\.journal/);
      assert.deepEqual(await leftovers(), []);
      const again = await cli('clean', dst);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /Nothing to clean.*\[NOT_FOUND\]$/);
    });
  }

  test('a nearly full disk: nothing (no partial, no .journal.tmp) is left', async () => {
    for (const [, flags] of kinds) {
      await empty();
      await writeFile(join(full.dir, 'filler'), Buffer.alloc((8 << 20) - (16 << 10)));
      const dst = join(full.dir, 'out.img');
      const r = await cli('convert', ...flags(), src, dst);
      assert.equal(r.code, 7, r.stderr);
      const left = await leftovers();
      assert.ok(!left.some((n) => n.endsWith('.tmp')), left.join(','));
      if (left.includes('out.img.partial.journal')) assertNoSpaceLine(r, dst, true);
      else {
        assertNoSpaceLine(r, dst, false);
        assert.deepEqual(left, ['filler']);
      }
    }
  });

  test('--resume completes once there is space (qcow2+LUKS, verified by qemu-img)', async () => {
    await empty();
    const dst = join(full.dir, 'res.qcow2');
    const flags = ['-O', 'qcow2', '--encrypt', '--passphrase-file', pw, ...FAST];
    assertNoSpaceLine(await cli('convert', ...flags, src, dst), dst, true);
    await runOk('mount', ['-o', 'remount,size=64m', full.dir]);
    try {
      const r = await cli('convert', '--resume', ...flags, src, dst);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await leftovers(), ['res.qcow2']);
      const s = await qemuSecret(dir, 'k', 'full disk passphrase');
      await runOk('qemu-img', [
        'compare',
        ...s,
        '--image-opts',
        `driver=raw,file.filename=${src}`,
        `driver=qcow2,file.filename=${dst},encrypt.key-secret=k`,
      ]);
    } finally {
      await empty();
      await runOk('mount', ['-o', 'remount,size=8m', full.dir]);
    }
  });

  test('migrate of a legacy AES image: NO_SPACE with what was left', async () => {
    await empty();
    const legacy = join(dir, 'aes.qcow2');
    const s = await qemuSecret(dir, 'old', 'abc123');
    await runOk('qemu-img', [
      'create',
      '-f',
      'qcow2',
      ...s,
      '-o',
      'encrypt.format=aes,encrypt.key-secret=old',
      legacy,
      '24M',
    ]);
    await runOk('qemu-io', [
      ...s,
      '--image-opts',
      `driver=qcow2,file.filename=${legacy},encrypt.key-secret=old`,
      '-c',
      'write -P 0x5a 0 20M',
    ]);
    const old = await passphraseFile(dir, 'oldpw', 'abc123');
    const dst = join(full.dir, 'migrated.qcow2');
    const r = await cli(
      'migrate',
      '--old-passphrase-file',
      old,
      '--passphrase-file',
      pw,
      ...FAST,
      legacy,
      dst
    );
    assertNoSpaceLine(r, dst, true);
    assert.equal((await cli('clean', dst)).code, 0);
    assert.deepEqual(await leftovers(), []);
  });

  test('create on a full disk: NO_SPACE, no file left (raw is sparse and needs none)', async () => {
    await empty();
    await writeFile(join(full.dir, 'filler'), Buffer.alloc((8 << 20) - (8 << 10)));
    const kindsCreate: [string[], boolean][] = [
      [['-f', 'qcow2'], false],
      [['-f', 'qcow2', '--encrypt', '--passphrase-file', pw, ...FAST], false],
      [['-f', 'luks', '--passphrase-file', pw, ...FAST], false],
      [['-f', 'raw'], true],
    ];
    for (const [flags, fits] of kindsCreate) {
      const dst = join(full.dir, 'new.img');
      const r = await cli('create', ...flags, dst, '64M');
      if (fits) {
        assert.equal(r.code, 0, r.stderr);
        assert.ok((await stat(dst)).blocks * 512 <= 64 << 10, 'sparse: at most a page or two');
        await rm(dst);
        continue;
      }
      assertNoSpaceLine(r, dst, false);
      assert.deepEqual(await leftovers(), ['filler']);
    }
  });

  test('serve: the job fails with the NO_SPACE message and the server keeps answering', async () => {
    await empty();
    const srv = await startServe();
    try {
      for (const format of ['qcow2', 'luks'] as const) {
        const dst = join(full.dir, `served-${format}`);
        const started = await srv.call('startConvert', {
          source: src,
          target: dst,
          format,
          ...(format === 'luks'
            ? { passphrase: new TextEncoder().encode('x'), encryption: { iterations: 1000 } }
            : {}),
        });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        const id = (started.body as { result: { id: string } }).result.id;
        let job: { state: string; error?: { code: string; message: string } } | undefined;
        for (let i = 0; i < 300; i++) {
          const jobs = await srv.call('listJobs');
          const list = (jobs.body as { result: (typeof job)[] }).result;
          job = list.find((j) => (j as unknown as { id: string }).id === id);
          if (job && job.state !== 'running') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(job?.state, 'failed');
        assert.equal(job?.error?.code, 'NO_SPACE');
        assert.ok(job?.error?.message.includes(`image-vault clean ${dst}`), job?.error?.message);
        assert.equal(srv.child.exitCode, null, 'serve is still running');
        assert.equal((await cli('clean', dst)).code, 0);
      }
      const still = await srv.call('listJobs');
      assert.equal(still.status, 200);
    } finally {
      await srv.stop();
    }
  });
});
