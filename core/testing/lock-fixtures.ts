/**
 * Images and openers shared by the lock suites (core/cli/locks*-cli.interop.test.ts): qcow2+LUKS
 * made by qemu-img or by our CLI, and whether qemu-io or our keyslot test opens one with a
 * given passphrase file.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVaultError } from '../api/errors.js';
import { keyslotTest } from '../service/keyslots.js';
import { spawnCli } from './cli.js';
import { run, runQemuRetrying } from './peers.js';

/** Cheap keyslots for our CLI: the tests cost CLI runs, not PBKDF2. */
export const ITER = ['--iterations', '1000'];

/** The fixtures over the scratch folder `dirOf()` (read lazily: set in `before`). */
export function lockFixtures(dirOf: () => string) {
  const pw = (name: string) => join(dirOf(), `${name}.pw`);

  /** Writes a passphrase file `passphrase NAME` for each name. */
  async function writePassphrases(names: string[]): Promise<void> {
    for (const name of names) await writeFile(pw(name), `passphrase ${name}`, { mode: 0o600 });
  }

  /** qcow2+LUKS made by qemu-img, passphrase A in slot 0. */
  async function qemuImage(name: string): Promise<string> {
    const img = join(dirOf(), name);
    await runQemuRetrying('qemu-img', [
      'create',
      '-f',
      'qcow2',
      '--object',
      `secret,id=s,file=${pw('A')}`,
      '-o',
      'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
      img,
      '16M',
    ]);
    return img;
  }

  /** qcow2+LUKS made by our CLI with 1000-iteration keyslots: A in 0 (and C in 1). */
  async function ourImage(name: string, second = false): Promise<string> {
    const img = join(dirOf(), name);
    const made = await spawnCli([
      'create',
      '-f',
      'qcow2',
      '--encrypt',
      '-o',
      'iterations=1000',
      '--passphrase-file',
      pw('A'),
      img,
      '16M',
    ]);
    assert.equal(made.code, 0, made.stderr);
    if (second) {
      const r = await spawnCli([
        'keyslot',
        'add',
        img,
        '--passphrase-file',
        pw('A'),
        '--new-passphrase-file',
        pw('C'),
        ...ITER,
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
    return img;
  }

  /** `--image-opts` arguments for qemu to open `img` with passphrase `name`. */
  const qemuArgs = (img: string, name: string, driver = 'qcow2') => [
    '--object',
    `secret,id=k,file=${pw(name)}`,
    '--image-opts',
    driver === 'qcow2'
      ? `driver=qcow2,file.filename=${img},encrypt.key-secret=k`
      : `driver=luks,file.filename=${img},key-secret=k`,
  ];

  /** Whether qemu-io opens `img` with passphrase `name` and reads from it. */
  async function qemuOpens(img: string, name: string): Promise<boolean> {
    const r = await run('qemu-io', ['-r', ...qemuArgs(img, name), '-c', 'read 0 4k']);
    if (r.code === 0 && !/error|failed/i.test(r.stdout + r.stderr)) return true;
    assert.match(r.stderr + r.stdout, /Invalid password|cannot unlock/i); // nothing else may fail
    return false;
  }

  /** Whether our own keyslot test opens `img` with passphrase `name` (in this process). */
  async function weOpen(img: string, name: string): Promise<boolean> {
    try {
      await keyslotTest(img, await readFile(pw(name)));
      return true;
    } catch (e) {
      if (isVaultError(e, 'WRONG_PASSPHRASE')) return false;
      throw e;
    }
  }

  return { pw, writePassphrases, qemuImage, ourImage, qemuArgs, qemuOpens, weOpen };
}
