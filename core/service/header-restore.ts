/**
 * `header restore`: writes a header backup back into its image (docs/decisions.md "Header
 * backup and restore"). Before anything is written the backup is verified (cryptsetup's
 * format: a valid LUKS1/LUKS2 header and keyslot areas, LUKS2 checksums; our qcow2 wrapper:
 * its SHA-256 too), and, when a passphrase is given, opened with it; its identity is compared
 * with the image's. Geometry differences (data offset, key size, header span, qcow2 region
 * and cluster size) are always refused; identity differences (LUKS UUID, master key, LUKS
 * version, qcow2 virtual size, no readable header in the image) need `force`. The replaced
 * header is kept in `IMAGE.header.bak` (a backup in the same format, so a restore of it undoes
 * this one), then the write goes through the header journal (header-journal.ts) and the
 * result is read back.
 */
import { fail, isVaultError } from '../api/errors.js';
import type { HeaderRestoreRequest, HeaderRestoreResult } from '../api/types.js';
import {
  memoryHeaderIO,
  readBackupIdentity,
  readLuksIdentity,
  type LuksIdentity,
} from '../formats/luks/header-backup.js';
import { testPassphrase } from '../formats/luks/index.js';
import { decodeWrapper, isWrapper, MAX_WRAPPER_BYTES } from './header-backup-wrapper.js';
import {
  backupBytesOf,
  withHeaderTarget,
  writeNewFile,
  type HeaderTarget,
} from './header-backup.js';
import { applyJournaled } from './header-journal.js';
import { readSmallFile } from '../io/small-file.js';

interface LoadedBackup {
  wrapped: boolean;
  /** The bytes a restore writes from offset 0 (of the file, or of the qcow2 LUKS region). */
  payload: Uint8Array;
  identity: LuksIdentity;
  qcow2?: ReturnType<typeof decodeWrapper>['meta'];
}

function readBackupFile(file: string): Promise<Uint8Array> {
  return readSmallFile(file, MAX_WRAPPER_BYTES, 'a LUKS header backup');
}

/** Reads and verifies a backup file of either format. */
export async function loadBackup(file: string): Promise<LoadedBackup> {
  const bytes = await readBackupFile(file);
  if (!isWrapper(bytes)) {
    return { wrapped: false, payload: bytes, identity: await readBackupIdentity(bytes) };
  }
  const w = decodeWrapper(bytes);
  const identity = await readBackupIdentity(w.region);
  const l = w.meta.luks;
  if (!l || l.uuid !== identity.uuid || l.keyFingerprint !== identity.keyFingerprint) {
    throw fail('CORRUPT', 'The qcow2+LUKS header backup does not describe the header it holds');
  }
  return { wrapped: true, payload: w.region, identity, qcow2: w.meta };
}

/** Differences between backup and image: `hard` are never overridden, `soft` need force. */
function compare(b: LoadedBackup, t: HeaderTarget, cur: LuksIdentity | undefined, why: string) {
  const hard: string[] = [];
  const soft: string[] = [];
  const id = b.identity;
  if (t.kind === 'luks') {
    if (id.span > t.fileSize) {
      hard.push(`the backup's ${id.span} header bytes do not fit the ${t.fileSize}-byte image`);
    }
    if (cur && cur.dataOffset !== id.dataOffset) {
      hard.push(`data offset differs (image ${cur.dataOffset}, backup ${id.dataOffset} bytes)`);
    } else if (cur && cur.version === id.version && id.version === 1) {
      if (cur.keyBytes !== id.keyBytes) hard.push('key size differs on the image and the backup');
    } else if (cur && cur.version === id.version && cur.span !== id.span) {
      hard.push('the LUKS2 header and keyslot area sizes differ on the image and the backup');
    }
  } else {
    const q = b.qcow2!;
    if (q.qcow2.clusterSize !== t.qcow2.clusterSize) hard.push('cluster size differs');
    if (q.region.offset !== t.region.offset || q.region.length !== t.region.length) {
      hard.push('the LUKS region of the image is not where or as long as the backup says');
    }
    if (q.qcow2.virtualSize !== t.qcow2.virtualSize) {
      soft.push(
        `virtual size differs (image ${t.qcow2.virtualSize}, backup ${q.qcow2.virtualSize})`
      );
    }
  }
  if (!cur) {
    soft.push(`the image has no readable LUKS header (${why})`);
  } else {
    if (cur.version !== id.version)
      soft.push(`LUKS version differs (image ${cur.version}, backup ${id.version})`);
    if (cur.uuid !== id.uuid) soft.push(`LUKS UUID differs (image ${cur.uuid}, backup ${id.uuid})`);
    if (cur.keyFingerprint !== id.keyFingerprint) {
      soft.push('the backup is of another master key: its data would not decrypt');
    }
  }
  return { hard, soft };
}

/** Writes the replaced header to IMAGE.header.bak, or IMAGE.header.N.bak when that exists. */
async function keepReplaced(image: string, bytes: Uint8Array): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const path = n === 0 ? `${image}.header.bak` : `${image}.header.${n}.bak`;
    try {
      await writeNewFile(path, bytes);
      return path;
    } catch (e) {
      if (!isVaultError(e, 'EXISTS')) throw e;
    }
  }
  throw fail('EXISTS', `Too many ${image}.header.N.bak files: remove old ones`);
}

const list = (s: number[]) => (s.length ? s.join(', ') : 'none');

/** Restores `req.file` into `req.path` (or, with `dryRun`, says what that would do). */
export async function headerRestore(req: HeaderRestoreRequest): Promise<HeaderRestoreResult> {
  const b = await loadBackup(req.file);
  const id = b.identity;
  let passphraseSlot: number | undefined;
  if (req.passphrase)
    passphraseSlot = await testPassphrase(memoryHeaderIO(b.payload), req.passphrase);
  const write = !req.dryRun;
  return withHeaderTarget(req.path, { write, rawAsLuks: !b.wrapped }, async (t) => {
    if (b.wrapped !== (t.kind === 'qcow2')) {
      throw fail(
        'WRONG_IMAGE',
        b.wrapped
          ? 'This backup is of the LUKS header inside a qcow2 image; the image is raw LUKS'
          : 'This backup is of a raw LUKS header (cryptsetup format); the image is qcow2'
      );
    }
    let cur: LuksIdentity | undefined;
    let why = '';
    try {
      cur = await readLuksIdentity(t.io);
    } catch (e) {
      if (!isVaultError(e)) throw e;
      why = e.message;
    }
    const { hard, soft } = compare(b, t, cur, why);
    if (hard.length > 0) {
      throw fail(
        'WRONG_IMAGE',
        `The backup cannot be restored into this image: ${hard.join('; ')}`
      );
    }
    const result: HeaderRestoreResult = {
      restored: false,
      format: b.wrapped ? 'qcow2-luks' : 'cryptsetup',
      luksVersion: id.version,
      uuid: id.uuid,
      backupSlots: id.activeSlots,
      ...(cur ? { imageSlots: cur.activeSlots } : {}),
      ...(passphraseSlot !== undefined ? { passphraseSlot } : {}),
      mismatches: soft,
      description: '',
    };
    const effect =
      `passphrases of the backup's keyslots (${list(id.activeSlots)}) open the image again; ` +
      'passphrases added or changed since the backup stop working';
    if (!write) {
      result.description = `Restoring would replace the LUKS header: ${effect}`;
      return result;
    }
    if (soft.length > 0 && !req.force) {
      throw fail(
        'WRONG_IMAGE',
        `The backup does not match this image: ${soft.join('; ')} (restore anyway with --force)`
      );
    }
    const writeLength = b.wrapped ? b.payload.length : id.span;
    const replaced = await backupBytesOf(t, new Date().toISOString(), { rawLength: writeLength });
    const bak = await keepReplaced(req.path, replaced.bytes);
    await applyJournaled(
      req.path,
      t.io,
      'header restore',
      [{ offset: 0, bytes: b.payload.subarray(0, writeLength) }],
      t.kind
    );
    const after = await readLuksIdentity(t.io);
    if (after.uuid !== id.uuid || after.keyFingerprint !== id.keyFingerprint) {
      throw fail('INTERNAL', 'The restored header does not read back as the backup');
    }
    result.restored = true;
    result.replacedHeader = bak;
    result.description = `Restored the LUKS${id.version} header from ${req.file}: ${effect}. The replaced header is kept in ${bak}.`;
    return result;
  });
}
