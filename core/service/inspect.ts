/**
 * `inspect`: everything we can tell about an image without a passphrase — format, sizes,
 * backing chain, snapshots, and the encryption header (LUKS keyslots or legacy AES).
 */
import { realpath } from 'node:fs/promises';
import { fail, isVaultError } from '../api/errors.js';
import type {
  BackingInfo,
  EncryptionInfo,
  ImageFormat,
  ImageInfo,
  ImageInUse,
} from '../api/types.js';
import { FileDevice } from '../io/file-device.js';
import { probeFormat } from '../formats/probe.js';
import { openQcow2 } from '../formats/qcow2/index.js';
import { openQcow } from '../formats/qcow/index.js';
import { inspectLuks, headerIOForDevice } from '../formats/luks/index.js';
import { hasHeaderJournal, headerJournalPath } from './header-journal.js';
import { LEGACY_AES_WARNING } from './legacy-aes.js';
import { MAX_BACKING_DEPTH, resolveBackingPath } from './open-image.js';
import { rawDiskWarnings } from './raw-sanity.js';

/** Header-level facts about one layer. */
interface LayerInfo {
  info: ImageInfo;
  backingPath?: string;
}

export interface InspectOptions {
  /** Read even while a writer holds the image (`-U` / `--force-share`, like qemu-img). */
  forceShare?: boolean;
  /**
   * For the app: never refuse an image because a writer holds it: read it shared and report
   * the holder in `inUse` (README "Image locks"). Without it a held image is refused with
   * `IMAGE_IN_USE`, as `qemu-img info` refuses it.
   */
  reportUse?: boolean;
}

/** Opens one layer for inspection, locked as `opts` says; `use` only with `reportUse`. */
async function openLayer(path: string, opts: InspectOptions) {
  if (!opts.reportUse) return { dev: await FileDevice.open(path, opts), use: undefined };
  let dev: FileDevice;
  try {
    dev = await FileDevice.open(path, { forceShare: opts.forceShare, waitMs: 0 });
  } catch (e) {
    if (!isVaultError(e, 'IMAGE_IN_USE')) throw e;
    dev = await FileDevice.open(path, { forceShare: true });
  }
  try {
    const use = await dev.imageUse({ ignoreOwnReaders: true });
    if (!use) return { dev, use: undefined };
    const inUse: ImageInUse = { writer: use.writer };
    if (use.pid !== undefined) inUse.pid = use.pid;
    if (use.holder !== undefined) inUse.holder = use.holder;
    return { dev, use: inUse };
  } catch (e) {
    await dev.close().catch(() => undefined);
    throw e;
  }
}

async function inspectLayer(path: string, opts: InspectOptions = {}): Promise<LayerInfo> {
  const { dev, use } = await openLayer(path, opts);
  try {
    const fileSize = await dev.size();
    const actualSize = await dev.allocatedBytes();
    const format = await probeFormat(dev);
    const base: ImageInfo = {
      path,
      format: format as ImageFormat,
      virtualSize: fileSize,
      actualSize,
      fileSize,
      backingChain: [],
      snapshots: [],
      encrypted: false,
      warnings: [],
      ...(use ? { inUse: use } : {}),
    };
    if (format === 'luks') {
      const encryption = await withJournalHint(path, inspectLuks(headerIOForDevice(dev, fileSize)));
      await noteJournal(path, encryption);
      const payload = encryption.payloadOffset ?? 0;
      return {
        info: {
          ...base,
          virtualSize: encryption.detachedHeader ? 0 : Math.max(0, fileSize - payload),
          encrypted: true,
          encryption,
          warnings: luksWarnings(encryption),
        },
      };
    }
    if (format === 'raw') {
      if (await hasHeaderJournal(path)) base.warnings.push(JOURNAL_MESSAGE);
      else base.warnings.push(...(await rawDiskWarnings(dev, fileSize)));
      return { info: base };
    }
    const img = format === 'qcow2' ? await openQcow2(dev) : await openQcow(dev);
    const meta = img.info();
    const info: ImageInfo = { ...base, ...meta, path, format, actualSize, fileSize, warnings: [] };
    info.backingChain = [];
    info.snapshots = meta.snapshots ?? [];
    if (format === 'qcow2' && 'cryptMethod' in img && img.cryptMethod === 2) {
      const region = img.luksRegion();
      if (!region) throw fail('CORRUPT', 'Missing LUKS header region for crypt method 2');
      info.encrypted = true;
      info.encryption = await withJournalHint(path, inspectLuks(region));
      await noteJournal(path, info.encryption);
      info.warnings.push(...luksWarnings(info.encryption));
    } else if (meta.encrypted) {
      info.encrypted = true;
      info.encryption = legacyAesInfo();
      info.warnings.push(LEGACY_AES_WARNING);
    }
    if (info.corrupt)
      info.warnings.push('The image is marked corrupt by QEMU; it can only be read.');
    if (info.dirty) info.warnings.push('The image was not closed cleanly (dirty bit set).');
    const backingPath = info.backingFile ? resolveBackingPath(path, info.backingFile) : undefined;
    return { info, backingPath };
  } finally {
    await dev.close();
  }
}

function legacyAesInfo(): EncryptionInfo {
  return {
    format: 'aes',
    cipherAlg: 'aes-128',
    cipherMode: 'cbc',
    ivgenAlg: 'plain64',
    slots: [],
    insecure: true,
  };
}

const JOURNAL_MESSAGE =
  'An interrupted header operation left a journal; run header repair to roll it back before using this image.';

/** A header that cannot be read while a journal exists is most likely mid-operation. */
async function withJournalHint<T>(path: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (isVaultError(e) && (await hasHeaderJournal(path))) {
      throw fail('NEEDS_REPAIR', `${e.message}. ${JOURNAL_MESSAGE}`);
    }
    throw e;
  }
}

/** Marks the header as needing repair when an interrupted header operation left a journal. */
async function noteJournal(path: string, enc: EncryptionInfo): Promise<void> {
  if (!enc.headerState || !(await hasHeaderJournal(path))) return;
  enc.headerState.journal = headerJournalPath(path);
  enc.headerState.needsRepair = true;
  enc.headerState.message = JOURNAL_MESSAGE;
}

function luksWarnings(enc: EncryptionInfo): string[] {
  const out: string[] = [];
  if (enc.headerState?.message) out.push(enc.headerState.message);
  if (enc.detachedHeader) {
    out.push(
      'Detached LUKS header: this file holds only the header; the encrypted data is stored elsewhere and is not behind it.'
    );
  }
  if (enc.unsupportedReason) out.push(enc.unsupportedReason);
  for (const s of enc.slots) {
    if (s.active && s.unusableReason) {
      out.push(`Keyslot ${s.slot} cannot be opened here: ${s.unusableReason}`);
    }
  }
  if (enc.version === 2)
    out.push('LUKS2: QEMU 7.2 cannot open LUKS2 images (cryptsetup/dm-crypt can).');
  if (enc.slots.filter((s) => s.active).length === 1) {
    out.push('Only one passphrase can unlock this image; consider adding a second one.');
  }
  return out;
}

/** Inspects `path` and its whole backing chain (each layer locked for reading while read). */
export async function inspectImage(path: string, opts: InspectOptions = {}): Promise<ImageInfo> {
  const top = await inspectLayer(path, opts);
  const seen = [await realpath(path)];
  const chain: BackingInfo[] = [];
  let next = top.backingPath;
  let nextFormat = top.info.backingFormat;
  while (next !== undefined) {
    let real: string;
    try {
      real = await realpath(next);
    } catch {
      top.info.warnings.push(`Backing file not found: ${next}`);
      break;
    }
    if (seen.includes(real)) throw fail('BACKING_LOOP', `Backing chain loops back to ${next}`);
    if (seen.length > MAX_BACKING_DEPTH) throw fail('CORRUPT', 'Backing chain too deep');
    seen.push(real);
    try {
      const layer = await inspectLayer(next, { forceShare: opts.forceShare || opts.reportUse });
      const format = (nextFormat === 'raw' ? 'raw' : layer.info.format) as ImageFormat;
      chain.push({ path: next, format });
      if (format === 'raw') break;
      next = layer.backingPath;
      nextFormat = layer.info.backingFormat;
    } catch (e) {
      if (isVaultError(e, 'BACKING_LOOP')) throw e;
      top.info.warnings.push(`Backing file ${next} could not be read: ${(e as Error).message}`);
      break;
    }
  }
  top.info.backingChain = chain;
  return top.info;
}
