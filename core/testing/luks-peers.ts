/**
 * Test-only: LUKS interop helpers shared by the CLI suites — read guest bytes through
 * qemu-img and through our CLI, and ask qemu whether it accepts a passphrase. Secrets are
 * always passed by file.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from './cli.js';
import { passphraseFile, run, runOk, runQemuRetrying, scratchDir } from './peers.js';

export type QemuDriver = 'qcow2' | 'luks';

function keyOpt(driver: QemuDriver): string {
  return driver === 'qcow2' ? 'encrypt.key-secret' : 'key-secret';
}

/** Opens `image` in qemu with passphrase file `pwFile`; true when it accepts it. */
export async function qemuAccepts(
  image: string,
  driver: QemuDriver,
  pwFile: string
): Promise<boolean> {
  // qemu-img info opens without I/O and never checks the passphrase: read a sector instead.
  const r = await run('qemu-io', [
    '--object',
    `secret,id=k,file=${pwFile}`,
    '-r',
    '--image-opts',
    `driver=${driver},file.filename=${image},${keyOpt(driver)}=k`,
    '-c',
    'read 0 512',
  ]);
  if (r.code !== 0) assert.match(r.stderr, /Invalid password|Unable to decrypt|no keyslot/i);
  return r.code === 0;
}

/** Guest bytes as `qemu-img convert -O raw` reads them (written to `dir`). */
export async function qemuRaw(
  dir: string,
  image: string,
  driver: QemuDriver,
  pwFile: string
): Promise<Buffer> {
  const out = join(dir, 'qemu-out.raw');
  await runOk('qemu-img', [
    'convert',
    '--object',
    `secret,id=k,file=${pwFile}`,
    '--image-opts',
    `driver=${driver},file.filename=${image},${keyOpt(driver)}=k`,
    '-O',
    'raw',
    out,
  ]);
  return readFile(out);
}

/** Guest bytes as our `convert -O raw` reads them (written to `dir`). */
export async function ourRaw(dir: string, image: string, pwFile: string): Promise<Buffer> {
  const out = join(dir, 'our-out.raw');
  const r = await cli(
    'convert',
    '-O',
    'raw',
    '--overwrite',
    '--no-verify',
    '--source-passphrase-file',
    pwFile,
    image,
    out
  );
  assert.equal(r.code, 0, r.stderr);
  return readFile(out);
}

/**
 * Runs qemu-io `commands` (one `-c` each, e.g. `write -P 0x77 0 4k`) on the raw LUKS `image`,
 * unlocked with the secret object `s` that `secretArgs` (from `qemuSecret`) define.
 */
export async function qemuIoLuks(image: string, secretArgs: string[], commands: string[]) {
  await runOk('qemu-io', [
    ...secretArgs,
    '--image-opts',
    `driver=luks,file.filename=${image},key-secret=s`,
    ...commands.flatMap((c) => ['-c', c]),
  ]);
}

/** `qemu-img create -f luks` of `size` (fast PBKDF2), then `commands` through qemu-io. */
export async function qemuLuksImage(
  path: string,
  size: string,
  secretArgs: string[],
  commands: string[]
): Promise<void> {
  await runQemuRetrying('qemu-img', [
    'create',
    '-f',
    'luks',
    ...secretArgs,
    '-o',
    'key-secret=s,iter-time=10',
    path,
    size,
  ]);
  await qemuIoLuks(path, secretArgs, commands);
}

/** A scratch folder with the passphrase files the LUKS CLI suites share. */
export interface LuksFixture {
  dir: string;
  /** "abc123" */
  pw: string;
  /** "second passphrase\n" (the trailing newline is part of it) */
  pw2: string;
  /** "abc124", opens nothing */
  bad: string;
  cleanup: () => Promise<void>;
}

export async function luksFixture(): Promise<LuksFixture> {
  const { dir, cleanup } = await scratchDir();
  return {
    dir,
    cleanup,
    pw: await passphraseFile(dir, 'pw', 'abc123'),
    pw2: await passphraseFile(dir, 'pw2', 'second passphrase\n'),
    bad: await passphraseFile(dir, 'bad', 'abc124'),
  };
}

/**
 * `cryptsetup luksFormat` of the existing file `path` with the passphrase in `keyFile` and a
 * fast, forced PBKDF2 (1000 iterations; LUKS2 is told to use PBKDF2 too). `extra` goes before
 * the path (cipher, key size, volume key file, …).
 */
export async function cryptsetupLuksFormat(
  path: string,
  keyFile: string,
  extra: string[] = [],
  type: 'luks1' | 'luks2' = 'luks1'
): Promise<void> {
  await runOk('cryptsetup', [
    'luksFormat',
    '--batch-mode',
    '--type',
    type,
    '--key-file',
    keyFile,
    ...(type === 'luks2' ? ['--pbkdf', 'pbkdf2'] : []),
    '--pbkdf-force-iterations',
    '1000',
    ...extra,
    path,
  ]);
}

/**
 * `cryptsetup luksAddKey`: adds the passphrase in `newKeyFile` to `path`, unlocking with
 * `keyFile`, with a fast forced PBKDF2 (1000 iterations); `extra` goes before the path.
 */
export async function cryptsetupAddKey(
  path: string,
  keyFile: string,
  newKeyFile: string,
  extra: string[] = []
): Promise<void> {
  await runOk('cryptsetup', [
    'luksAddKey',
    '--batch-mode',
    '--key-file',
    keyFile,
    '--pbkdf-force-iterations',
    '1000',
    ...extra,
    path,
    newKeyFile,
  ]);
}
