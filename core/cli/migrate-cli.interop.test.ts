/**
 * Issue #4 acceptance: legacy AES qcow2/qcow images made by qemu-img migrate to qcow2+LUKS
 * that qemu-img opens with the new passphrase, checks clean and compares identical to the
 * legacy image; a wrong old passphrase is refused before any output; killed runs leave the
 * source untouched and no final file, and --resume completes them; cancel leaves nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { cli, spawnCli } from '../testing/cli.js';
import {
  passphraseFile,
  peerTestOptions,
  qemuSecret,
  runOk,
  scratchDir,
} from '../testing/peers.js';
import { patternBytes } from '../testing/bytes.js';
import { createVaultService } from '../service/vault-service.js';

const opts = peerTestOptions('qemu-img', 'qemu-io');

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('legacy AES migration vs qemu-img', opts, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let oldPw: string;
  let newPw: string;
  let wrongPw: string;
  before(async () => {
    ({ dir, cleanup } = await scratchDir());
    oldPw = await passphraseFile(dir, 'old', 'abc123');
    newPw = await passphraseFile(dir, 'new', 'a much better passphrase');
    wrongPw = await passphraseFile(dir, 'wrong', 'abc124');
  });
  after(async () => cleanup?.());

  /** Runs `image-vault migrate` with a fast KDF and the new passphrase. */
  function migrate(legacy: string, out: string, oldPassphrase: string, ...flags: string[]) {
    const args = ['--old-passphrase-file', oldPassphrase, '--passphrase-file', newPw];
    return cli('migrate', ...flags, ...args, '-o', 'iter-time=10', legacy, out);
  }

  async function legacyImage(
    name: string,
    driver: 'qcow2' | 'qcow',
    size: string,
    writes: string[],
    extra: string[] = []
  ) {
    const img = join(dir, name);
    const s = await qemuSecret(dir, 's', 'abc123');
    await runOk('qemu-img', [
      'create',
      '-f',
      driver,
      ...s,
      '-o',
      'encrypt.format=aes,encrypt.key-secret=s',
      ...extra,
      img,
      size,
    ]);
    await runOk('qemu-io', [
      ...s,
      '--image-opts',
      `driver=${driver},file.filename=${img},encrypt.key-secret=s`,
      ...writes.flatMap((w) => ['-c', w]),
    ]);
    return img;
  }

  async function assertMigratedEqual(legacy: string, driver: 'qcow2' | 'qcow', migrated: string) {
    const s = await qemuSecret(dir, 's', 'abc123');
    const n = await qemuSecret(dir, 'n', 'a much better passphrase');
    await runOk('qemu-img', [
      'check',
      ...n,
      '--image-opts',
      `driver=qcow2,file.filename=${migrated},encrypt.key-secret=n`,
    ]);
    await runOk('qemu-img', [
      'compare',
      ...s,
      ...n,
      '--image-opts',
      `driver=${driver},file.filename=${legacy},encrypt.key-secret=s`,
      `driver=qcow2,file.filename=${migrated},encrypt.key-secret=n`,
    ]);
    const info = JSON.parse(await runOk('qemu-img', ['info', '--output=json', migrated]));
    assert.equal(info['format-specific'].data.encrypt.format, 'luks');
  }

  const writes = ['write -P 0x42 1M 1k', 'write -P 0x43 5M 64k', 'write -P 0x44 0 512'];

  test('qcow2 AES → qcow2+LUKS: qemu-img opens, checks and compares identical', async () => {
    const legacy = await legacyImage('aes.qcow2', 'qcow2', '16M', writes);
    const before = await fileSha(legacy);
    const info = JSON.parse((await cli('info', '--json', legacy)).stdout);
    assert.equal(info.encrypted, true);
    assert.equal(info['format-specific'].data.encrypt.format, 'aes');
    assert.match(info.warnings.join(' '), /insecure/i);
    const out = join(dir, 'aes-migrated.qcow2');
    const r = await migrate(legacy, out, oldPw);
    assert.equal(r.code, 0, r.stderr);
    await assertMigratedEqual(legacy, 'qcow2', out);
    assert.equal(await fileSha(legacy), before, 'the source is never modified');
  });

  test('qcow v1 AES → qcow2+LUKS', async () => {
    const legacy = await legacyImage('aes.qcow', 'qcow', '16M', writes);
    const out = join(dir, 'qcow1-migrated.qcow2');
    const r = await migrate(legacy, out, oldPw);
    assert.equal(r.code, 0, r.stderr);
    await assertMigratedEqual(legacy, 'qcow', out);
  });

  test('AES overlay on a raw backing file is flattened', async () => {
    const base = join(dir, 'base.raw');
    await writeFile(base, Buffer.concat([patternBytes(2 << 20, 5), Buffer.alloc(6 << 20)]));
    const legacy = await legacyImage(
      'overlay.qcow2',
      'qcow2',
      '8M',
      ['write -P 0x61 1M 64k'],
      ['-b', 'base.raw', '-F', 'raw']
    );
    const out = join(dir, 'overlay-migrated.qcow2');
    const r = await migrate(legacy, out, oldPw);
    assert.equal(r.code, 0, r.stderr);
    await assertMigratedEqual(legacy, 'qcow2', out);
    const info = JSON.parse((await cli('info', '--json', out)).stdout);
    assert.equal(info['backing-filename'], undefined, 'flattened: no backing reference');
  });

  test('--keep-backing keeps the raw backing reference, valid from another folder', async () => {
    const legacy = join(dir, 'overlay.qcow2');
    const outDir = join(dir, 'elsewhere');
    await mkdir(outDir);
    const out = join(outDir, 'kept.qcow2');
    const r = await migrate(legacy, out, oldPw, '--keep-backing');
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse((await cli('info', '--json', out)).stdout);
    assert.equal(info['backing-filename'], '../base.raw');
    await assertMigratedEqual(legacy, 'qcow2', out);
  });

  test('a wrong old passphrase on real-looking data is refused before any output', async () => {
    const legacy = await legacyImage('wrongpw.qcow2', 'qcow2', '16M', writes);
    const out = join(dir, 'never.qcow2');
    const r = await migrate(legacy, out, wrongPw);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /WRONG_PASSPHRASE/);
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('never.qcow2')));
  });

  test('killed at random points: source intact, no final file, --resume completes', async () => {
    const legacy = await legacyImage(
      'big.qcow2',
      'qcow2',
      '1G',
      Array.from({ length: 8 }, (_, i) => `write -P ${0x20 + i} ${i * 128}M 48M`)
    );
    const before = await fileSha(legacy);
    const out = join(dir, 'big-migrated.qcow2');
    const args = [
      'migrate',
      '--old-passphrase-file',
      oldPw,
      '--passphrase-file',
      newPw,
      '-o',
      'iter-time=10',
      '--progress=json',
    ];
    let kills = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const killAfter = 2 + Math.floor(Math.random() * 6);
      let seen = 0;
      const r = await spawnCli([...args, ...(attempt > 0 ? ['--resume'] : []), legacy, out], {
        onStdoutLine: (line, kill) => {
          if (line.includes('"copying"') && ++seen === killAfter) kill('SIGKILL');
        },
      });
      if (r.signal === 'SIGKILL') kills++;
      else assert.equal(r.code, 0, r.stderr);
      const names = await readdir(dir);
      if (r.signal === 'SIGKILL')
        assert.ok(!names.includes('big-migrated.qcow2'), 'no file under the final name');
      assert.equal(await fileSha(legacy), before, 'source unchanged');
      if (r.code === 0) break;
    }
    assert.ok(kills > 0, 'at least one run was killed mid-copy');
    const names = await readdir(dir);
    if (!names.includes('big-migrated.qcow2')) {
      const r = await spawnCli([...args, '--resume', legacy, out]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.ok(
      !(await readdir(dir)).some((n) => n.startsWith('big-migrated.qcow2.')),
      'no partial or journal left'
    );
    await assertMigratedEqual(legacy, 'qcow2', out);
  });

  test('cancel through the job API leaves no output files', async () => {
    const legacy = join(dir, 'big.qcow2');
    const service = createVaultService();
    const target = join(dir, 'cancelled.qcow2');
    const job = await service.startMigrate({
      source: legacy,
      target,
      oldPassphrase: new Uint8Array(await readFile(oldPw)),
      passphrase: new Uint8Array(await readFile(newPw)),
      encryption: { iterTimeMs: 10 },
    });
    const unsubscribe = service.subscribe((e) => {
      if (
        e.type === 'job' &&
        e.job.id === job.id &&
        e.job.progress.phase === 'copying' &&
        e.job.progress.bytesDone > 0
      ) {
        void service.cancelJob(job.id);
      }
    });
    const done = await service.waitForJob(job.id);
    unsubscribe();
    assert.equal(done.state, 'cancelled');
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('cancelled.qcow2')));
  });
});
