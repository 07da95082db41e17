/**
 * Files for the UI-shell e2e suites (issue #14): a plain qcow2, a qcow2+LUKS image with two
 * keyslots, a legacy AES image, a text file, a folder holding only files, and a `.tar` bundle
 * made by the service itself (as `bundle export --tar` makes it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobInfo, VaultApi } from '../core/api/index.js';
import { createVaultService } from '../core/service/index.js';
import { qemuSecret, runOk, runQemuRetrying } from '../core/testing/peers.js';

export const FIRST = 'first-Quartz-Harbor-42';
export const SECOND = 'second-Maple-Lantern-77';
export const LEGACY = 'legacy-Old-Secret-1';
export const HANDED = 'handed-Over-Birch-Canal-93';

export interface UiFiles {
  plain: string;
  vault: string;
  legacy: string;
  notes: string;
  onlyFiles: string;
  tar: string;
}

const enc = (s: string) => new TextEncoder().encode(s);

/** Waits for a job of `api` to end; throws unless it succeeded. */
async function finished(api: VaultApi, started: JobInfo): Promise<JobInfo> {
  for (;;) {
    const job = (await api.listJobs()).find((j) => j.id === started.id);
    if (job && job.state !== 'running') {
      if (job.state !== 'succeeded') throw new Error(`${job.kind}: ${job.error?.message}`);
      return job;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Makes the files in `dir`. */
export async function makeUiFiles(dir: string): Promise<UiFiles> {
  const files: UiFiles = {
    plain: join(dir, 'plain.qcow2'),
    vault: join(dir, 'vault.qcow2'),
    legacy: join(dir, 'legacy.qcow2'),
    notes: join(dir, 'notes.txt'),
    onlyFiles: join(dir, 'only-files'),
    tar: join(dir, 'for-sam.tar'),
  };
  await runOk('qemu-img', ['create', '-f', 'qcow2', files.plain, '16M']);
  const a = await qemuSecret(dir, 'a', FIRST);
  const b = await qemuSecret(dir, 'b', SECOND);
  await runQemuRetrying('qemu-img', [
    'create',
    '-f',
    'qcow2',
    ...a,
    '-o',
    'encrypt.format=luks,encrypt.key-secret=a,encrypt.iter-time=10',
    files.vault,
    '16M',
  ]);
  await runOk('qemu-img', [
    'amend',
    ...a,
    ...b,
    '--image-opts',
    `driver=qcow2,file.filename=${files.vault},encrypt.key-secret=a`,
    '-o',
    'encrypt.state=active,encrypt.new-secret=b,encrypt.iter-time=10',
  ]);
  const l = await qemuSecret(dir, 'l', LEGACY);
  await runOk('qemu-img', [
    'create',
    '-f',
    'qcow2',
    ...l,
    '-o',
    'encrypt.format=aes,encrypt.key-secret=l',
    files.legacy,
    '16M',
  ]);
  await writeFile(files.notes, 'Shopping list\n- milk\n- bread\n'.repeat(20));
  await mkdir(files.onlyFiles);
  await writeFile(join(files.onlyFiles, 'disk-a.img'), new Uint8Array(64 * 1024));
  await writeFile(join(files.onlyFiles, 'readme.txt'), 'hello\n');

  // The .tar bundle, as `bundle export --tar` writes it.
  const api = createVaultService({ threads: 1 });
  const started = await api.startExport({
    source: files.vault,
    bundleDir: files.tar,
    recipient: 'Sam',
    sourcePassphrase: enc(FIRST),
    recipientPassphrase: enc(HANDED),
    tar: true,
    encryption: { iterations: 1000 },
  });
  await finished(api, started);
  return files;
}
