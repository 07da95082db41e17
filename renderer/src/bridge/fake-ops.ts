/**
 * Operations of the in-memory fake (fake.ts) kept out of it for size: header backup and restore
 * (a backup remembers the image's keyslots; a restore puts them back, with the dry run, the
 * identity check and the `.bak` path of core/service/header-restore.ts), and `preflight` (only
 * the target-name check of core's).
 */
import type { ImageInfo, VaultApi } from '../../../core/api/index.js';
import { ApiError } from './errors.js';

interface FakeImageLike {
  info: ImageInfo;
  slots: (string | null)[];
}

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function fakeHeaderOps(ctx: {
  get(path: string): FakeImageLike;
  files: Map<string, number>;
  refresh(img: FakeImageLike): void;
  delay(ms: number): Promise<unknown>;
}): Pick<VaultApi, 'headerBackup' | 'headerRestore'> {
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

export function fakePreflight(taken: (path: string) => boolean): VaultApi['preflight'] {
  return async (req) => {
    const exists = taken(req.target);
    return {
      ok: !exists || req.overwrite === true,
      problems:
        exists && req.overwrite !== true
          ? [
              {
                field: 'target' as const,
                severity: 'error' as const,
                code: 'EXISTS' as const,
                message: `${req.target} already exists. Choose another name.`,
              },
            ]
          : [],
      bytesNeeded: 0,
      bytesFree: null,
    };
  };
}
