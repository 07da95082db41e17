/**
 * `header backup`: copies the LUKS header of an image to a file (docs/decisions.md "Header
 * backup and restore"). A raw LUKS1/LUKS2 image gives exactly the file `cryptsetup
 * luksHeaderBackup` writes (formats/luks/header-backup.ts); a qcow2+LUKS image gives the LUKS
 * region in our wrapper (header-backup-wrapper.ts), which records the image's identity.
 */
import { link, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail, toVaultError } from '../api/errors.js';
import type { HeaderBackupRequest, HeaderBackupResult } from '../api/types.js';
import type { HeaderIO } from '../formats/encryption.js';
import { headerIOForDevice } from '../formats/luks/header-io.js';
import {
  luksHeaderBackup,
  readLuksIdentity,
  type LuksIdentity,
} from '../formats/luks/header-backup.js';
import { readHeaderBytes } from '../formats/luks/header-io.js';
import { probeFormat } from '../formats/probe.js';
import { openQcow2 } from '../formats/qcow2/index.js';
import { FileDevice } from '../io/file-device.js';
import { fsyncPath } from '../jobs/atomic-output.js';
import { encodeWrapper, type QcowLuksBackupMeta } from './header-backup-wrapper.js';
import { headerJournalPath, readHeaderJournal } from './header-journal.js';
import { testHoldPoint } from './test-hold.js';

/** Where an image's LUKS header lives, as a backup or restore sees it. */
export type HeaderTarget =
  | { kind: 'luks'; io: HeaderIO; fileSize: number }
  | {
      kind: 'qcow2';
      io: HeaderIO;
      qcow2: QcowLuksBackupMeta['qcow2'];
      region: QcowLuksBackupMeta['region'];
    };

/**
 * Opens `path` (locked for reading or writing, README "Image locks") and runs `fn` on its LUKS
 * header: a raw LUKS file, or the LUKS region of a qcow2 image. `rawAsLuks` lets a forced
 * restore reach a raw file whose LUKS header is destroyed (it probes as raw). Writing refuses
 * an image with an interrupted header operation (NEEDS_REPAIR).
 */
export async function withHeaderTarget<T>(
  path: string,
  opts: { write: boolean; forceShare?: boolean; rawAsLuks?: boolean },
  fn: (t: HeaderTarget) => Promise<T>
): Promise<T> {
  const dev = await FileDevice.open(path, {
    write: opts.write,
    forceShare: !opts.write && opts.forceShare,
  });
  try {
    if (opts.write) {
      if (await readHeaderJournal(path)) {
        throw fail(
          'NEEDS_REPAIR',
          `An interrupted header operation left ${headerJournalPath(path)}: roll it back first (image-vault header repair)`
        );
      }
      await testHoldPoint();
    }
    const format = await probeFormat(dev);
    const fileSize = await dev.size();
    if (format === 'luks' || (format === 'raw' && opts.rawAsLuks)) {
      return await fn({ kind: 'luks', io: headerIOForDevice(dev, fileSize), fileSize });
    }
    if (format === 'qcow2') {
      const img = await openQcow2(dev);
      const ch = img.header.cryptoHeader;
      const io = img.luksRegion();
      if (img.cryptMethod !== 2 || !ch || !io) {
        throw fail('NOT_ENCRYPTED', `${path} is a qcow2 image without LUKS encryption`);
      }
      return await fn({
        kind: 'qcow2',
        io,
        qcow2: {
          version: img.header.version,
          virtualSize: img.virtualSize,
          clusterSize: img.header.clusterSize,
        },
        region: { offset: ch.offset, length: ch.length },
      });
    }
    throw fail('NOT_ENCRYPTED', `${path} is a ${format} image without a LUKS header`);
  } finally {
    await dev.close();
  }
}

/** The identity fields a wrapper records (no geometry: the region says it). */
export function wrapperLuks(id: LuksIdentity): QcowLuksBackupMeta['luks'] {
  const { span: _span, dataOffset: _dataOffset, ...rest } = id;
  return rest;
}

/**
 * The backup bytes of a target: cryptsetup's for raw LUKS, our wrapper for qcow2. With
 * `lenient` (the `.bak` of a header a forced restore replaces) an unreadable header still
 * gives its bytes: the wrapper with `luks: null`, or `rawLength` bytes from the start.
 */
export async function backupBytesOf(
  t: HeaderTarget,
  createdAt: string,
  lenient?: { rawLength: number }
): Promise<{ bytes: Uint8Array; identity?: LuksIdentity }> {
  if (t.kind === 'luks') {
    try {
      return await luksHeaderBackup(t.io);
    } catch (e) {
      if (!lenient) throw e;
      const n = Math.min(lenient.rawLength, t.io.length);
      return { bytes: await readHeaderBytes(t.io, 0, n, 'header') };
    }
  }
  let identity: LuksIdentity | undefined;
  try {
    identity = await readLuksIdentity(t.io);
  } catch (e) {
    if (!lenient) throw e;
  }
  const region = await readHeaderBytes(t.io, 0, t.region.length, 'region');
  const meta: QcowLuksBackupMeta = {
    kind: 'image-vault qcow2+LUKS header backup',
    createdAt,
    qcow2: t.qcow2,
    region: t.region,
    luks: identity ? wrapperLuks(identity) : null,
  };
  return { bytes: encodeWrapper({ meta, region }), identity };
}

/**
 * Writes `bytes` to `file`, which must not exist (EXISTS, as cryptsetup refuses): into
 * `file.partial` (mode 0400, fsynced), then linked to `file` (atomic, never replacing a file
 * that appeared meanwhile), then the folder fsynced.
 */
export async function writeNewFile(file: string, bytes: Uint8Array): Promise<void> {
  const partial = `${file}.partial`;
  let fh;
  try {
    fh = await open(partial, 'wx', 0o400);
  } catch (e) {
    throw toVaultError(e);
  }
  try {
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(partial, file);
    } catch (e) {
      if ((e as { code?: string }).code === 'EEXIST') {
        throw fail('EXISTS', `Requested header backup file ${file} already exists`);
      }
      throw toVaultError(e);
    }
  } finally {
    await rm(partial, { force: true });
  }
  await fsyncPath(dirname(file), true);
}

/** Backs up the LUKS header of `req.path` to the new file `req.file`. */
export async function headerBackup(req: HeaderBackupRequest): Promise<HeaderBackupResult> {
  const createdAt = new Date().toISOString();
  const { bytes, identity, format } = await withHeaderTarget(
    req.path,
    { write: false, forceShare: req.forceShare },
    async (t) => ({ ...(await backupBytesOf(t, createdAt)), format: t.kind })
  );
  const id = identity as LuksIdentity;
  await writeNewFile(req.file, bytes);
  const kind = format === 'luks' ? 'cryptsetup' : 'qcow2-luks';
  const slots = id.activeSlots.join(', ') || 'none';
  return {
    file: req.file,
    format: kind,
    bytes: bytes.length,
    luksVersion: id.version,
    uuid: id.uuid,
    activeSlots: id.activeSlots,
    createdAt,
    description:
      `Backed up the LUKS${id.version} header (UUID ${id.uuid}, keyslots ${slots}) to ${req.file}: ` +
      `${bytes.length} bytes, ` +
      (kind === 'cryptsetup'
        ? 'the format of cryptsetup luksHeaderBackup'
        : 'the LUKS region of the qcow2 image in image-vault’s wrapper'),
  };
}
