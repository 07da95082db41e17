/**
 * The in-memory fake's header backup and restore (fake.ts): backups remember the keyslots the
 * image had, and a restore brings them back, as core's header backup does (README "Header
 * backup and restore").
 */
import type { VaultApi } from '../../../core/api/index.js';
import { ApiError } from './errors.js';
import type { FakeImage } from './fake-images.js';

interface FakeContext {
  get(path: string): FakeImage;
  files: Map<string, number>;
  refresh(img: FakeImage): void;
  delay(ms: number): Promise<unknown>;
}

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function fakeHeaderOps(ctx: FakeContext): Pick<VaultApi, 'headerBackup' | 'headerRestore'> {
  const { get, files, refresh, delay } = ctx;
  /** Header backups the fake has written: the image they came from and its keyslots then. */
  const headerBackups = new Map<string, { image: string; slots: (string | null)[] }>();
  return {
    async headerBackup(req) {
      await delay(150);
      const img = get(req.path);
      if (img.info.encryption?.format !== 'luks')
        throw new ApiError('NOT_ENCRYPTED', 'This image has no LUKS header');
      if (files.has(req.file)) throw new ApiError('EXISTS', `${req.file} already exists`);
      headerBackups.set(req.file, { image: req.path, slots: [...img.slots] });
      files.set(req.file, 2_134_016);
      const activeSlots = img.slots.flatMap((s, i) => (s !== null ? [i] : []));
      return {
        file: req.file,
        format: img.info.format === 'qcow2' ? 'qcow2-luks' : 'cryptsetup',
        bytes: 2_134_016,
        luksVersion: 1,
        uuid: img.info.encryption.uuid ?? '',
        activeSlots,
        createdAt: new Date().toISOString(),
        description: `Backed up the LUKS1 header to ${req.file}`,
      };
    },
    async headerRestore(req) {
      await delay(200);
      const img = get(req.path);
      const b = headerBackups.get(req.file);
      if (!b) throw new ApiError('CORRUPT', 'The file is not a valid LUKS header backup');
      const mismatches = b.image === req.path ? [] : ['LUKS UUID differs'];
      if (req.passphrase && !b.slots.includes(dec(req.passphrase)))
        throw new ApiError('WRONG_PASSPHRASE', 'The passphrase opens no keyslot of the backup');
      const backupSlots = b.slots.flatMap((s, i) => (s !== null ? [i] : []));
      const imageSlots = img.slots.flatMap((s, i) => (s !== null ? [i] : []));
      const base = {
        format: 'qcow2-luks' as const,
        luksVersion: 1 as const,
        uuid: img.info.encryption?.uuid ?? '',
        backupSlots,
        imageSlots,
        mismatches,
      };
      if (req.dryRun)
        return { ...base, restored: false, description: 'Restoring would replace the header' };
      if (mismatches.length && !req.force)
        throw new ApiError('WRONG_IMAGE', `The backup does not match this image: ${mismatches}`);
      img.slots = [...b.slots];
      refresh(img);
      const bak = `${req.path}.header.bak`;
      files.set(bak, 2_134_016);
      return { ...base, restored: true, replacedHeader: bak, description: 'Restored the header' };
    },
  };
}
