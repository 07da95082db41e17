/**
 * qcow2 header and header-extension parsing with QEMU 7.2's open-time validation
 * (docs/spec/qcow2.md §2, §3, §4, §15). Every size is checked against the file length and QEMU's
 * limits before anything is allocated from it.
 */
import { fail } from '../../api/errors.js';
import { readExact, type BlockDevice } from '../../io/block-device.js';
import { readU64 } from './entries.js';

export const QCOW_MAGIC = 0x514649fb;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

/** Incompatible feature bits (§3). */
export const INCOMPAT_DIRTY = 1;
export const INCOMPAT_CORRUPT = 2;
export const INCOMPAT_DATA_FILE = 4;
export const INCOMPAT_COMPRESSION = 8;
export const INCOMPAT_EXTL2 = 16;
const INCOMPAT_KNOWN = 0x1f;

/** QEMU limits (§5). */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  clusterSize: number;
  /** Virtual size in bytes. */
  size: number;
  cryptMethod: 0 | 1 | 2;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  /** Feature masks as bigints (all 64 bits kept). */
  incompatible: bigint;
  compatible: bigint;
  autoclear: bigint;
  refcountOrder: number;
  refcountBits: number;
  headerLength: number;
  compressionType: 0 | 1;
  extendedL2: boolean;
  /** Bytes per L2 entry (8, or 16 with extended L2). */
  l2EntrySize: number;
  l2Entries: number;
  backingFileOffset: number;
  backingFile?: string;
  backingFormat?: string;
  /** The LUKS region pointer (extension 0x0537BE77). */
  cryptoHeader?: { offset: number; length: number };
  bitmaps?: { nbBitmaps: number; directorySize: number; directoryOffset: number };
  /** Feature names from the feature-name table, keyed `type:bit`. */
  featureNames: Map<string, string>;
  /** Types of extensions we do not know (kept for information). */
  unknownExtensions: number[];
  fileSize: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function isAligned(v: number, cs: number): boolean {
  return v % cs === 0;
}

function u64Field(view: DataView, pos: number, what: string): number {
  const v = readU64(view, pos);
  if (!Number.isSafeInteger(v)) throw fail('CORRUPT', `qcow2 ${what} is out of range`);
  return v;
}

/** Names the unknown incompatible bits like QEMU does ("Unknown incompatible feature: …"). */
function unknownIncompat(bits: bigint, names: Map<string, string>): string {
  const parts: string[] = [];
  for (let b = 0n; b < 64n; b++) {
    if (bits & (1n << b)) parts.push(names.get(`0:${b}`) ?? `bit ${b}`);
  }
  return `Unsupported qcow2 feature(s): ${parts.join(', ')} (unknown incompatible mask 0x${bits.toString(16)})`;
}

/**
 * Reads and validates the header at offset 0 of `dev`.
 * Throws `NOT_AN_IMAGE` (bad magic), `UNSUPPORTED_FEATURE` (version, unknown incompatible
 * bits, external data file), `TRUNCATED` or `CORRUPT` for every inconsistent field.
 */
export async function readQcow2Header(dev: BlockDevice): Promise<Qcow2Header> {
  const fileSize = await dev.size();
  if (fileSize < 72) {
    if (fileSize >= 4) {
      const m = await readExact(dev, 4, 0, 'qcow2 magic');
      if (new DataView(m.buffer).getUint32(0) !== QCOW_MAGIC) {
        throw fail('NOT_AN_IMAGE', 'Not a qcow2 image (bad magic)');
      }
    }
    throw fail('TRUNCATED', `The file is too short for a qcow2 header (${fileSize} bytes)`);
  }
  const first = await readExact(dev, Math.min(fileSize, 112), 0, 'qcow2 header');
  const v = new DataView(first.buffer, first.byteOffset, first.length);
  if (v.getUint32(0) !== QCOW_MAGIC) throw fail('NOT_AN_IMAGE', 'Not a qcow2 image (bad magic)');
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) {
    throw fail('UNSUPPORTED_FEATURE', `qcow2 version ${version} is not supported (only 2 and 3)`);
  }
  const clusterBits = v.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21) {
    throw fail('CORRUPT', `qcow2 cluster_bits ${clusterBits} is outside 9..21`);
  }
  const clusterSize = 2 ** clusterBits;
  let incompatible = 0n;
  let compatible = 0n;
  let autoclear = 0n;
  let refcountOrder = 4;
  let headerLength = 72;
  let compressionType: 0 | 1 = 0;
  if (version === 3) {
    if (fileSize < 104) throw fail('TRUNCATED', 'The file ends inside the qcow2 v3 header');
    incompatible = v.getBigUint64(72);
    compatible = v.getBigUint64(80);
    autoclear = v.getBigUint64(88);
    refcountOrder = v.getUint32(96);
    headerLength = v.getUint32(100);
    if (headerLength < 104 || headerLength % 8 !== 0 || headerLength > clusterSize) {
      throw fail('CORRUPT', `qcow2 header_length ${headerLength} is invalid`);
    }
    if (headerLength > 104) {
      if (first.length < 105) throw fail('TRUNCATED', 'The file ends inside the qcow2 header');
      const ct = v.getUint8(104);
      if (ct !== 0 && ct !== 1) {
        throw fail('UNSUPPORTED_FEATURE', `Unknown qcow2 compression type ${ct}`);
      }
      compressionType = ct;
    }
    if (fileSize < headerLength) throw fail('TRUNCATED', 'The file ends inside the qcow2 header');
  }
  if (refcountOrder > 6) throw fail('CORRUPT', `qcow2 refcount_order ${refcountOrder} exceeds 6`);

  const backingFileOffset = u64Field(v, 8, 'backing file offset');
  const backingFileSize = v.getUint32(16);
  const size = u64Field(v, 24, 'virtual size');
  const cryptRaw = v.getUint32(32);
  if (cryptRaw > 2) throw fail('UNSUPPORTED_FEATURE', `Unknown qcow2 crypt_method ${cryptRaw}`);
  const cryptMethod = cryptRaw as 0 | 1 | 2;
  const l1Size = v.getUint32(36);
  const l1TableOffset = u64Field(v, 40, 'L1 table offset');
  const refcountTableOffset = u64Field(v, 48, 'refcount table offset');
  const refcountTableClusters = v.getUint32(56);
  const nbSnapshots = v.getUint32(60);
  const snapshotsOffset = u64Field(v, 64, 'snapshot table offset');

  // Extensions (§4) are read first so the feature-name table can name unknown bits.
  const extEnd = backingFileOffset !== 0 ? backingFileOffset : clusterSize;
  if (backingFileOffset > clusterSize) {
    throw fail('CORRUPT', 'qcow2 backing file name lies outside the header cluster');
  }
  const hdr: Qcow2Header = {
    version,
    clusterBits,
    clusterSize,
    size,
    cryptMethod,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    nbSnapshots,
    snapshotsOffset,
    incompatible,
    compatible,
    autoclear,
    refcountOrder,
    refcountBits: 2 ** refcountOrder,
    headerLength,
    compressionType,
    extendedL2: (incompatible & BigInt(INCOMPAT_EXTL2)) !== 0n,
    l2EntrySize: 8,
    l2Entries: clusterSize / 8,
    backingFileOffset,
    featureNames: new Map(),
    unknownExtensions: [],
    fileSize,
  };
  await readExtensions(dev, hdr, extEnd);

  const unknown = incompatible & ~BigInt(INCOMPAT_KNOWN);
  if (unknown !== 0n) throw fail('UNSUPPORTED_FEATURE', unknownIncompat(unknown, hdr.featureNames));
  if (incompatible & BigInt(INCOMPAT_DATA_FILE)) {
    throw fail('UNSUPPORTED_FEATURE', 'qcow2 images with an external data file are not supported');
  }
  const compBit = (incompatible & BigInt(INCOMPAT_COMPRESSION)) !== 0n;
  if (compBit !== (compressionType !== 0)) {
    throw fail('CORRUPT', 'qcow2 compression type and incompatible bit 3 disagree');
  }
  if (hdr.extendedL2) {
    if (clusterBits < 14)
      throw fail('CORRUPT', 'Extended L2 entries need clusters of 16 KiB or more');
    hdr.l2EntrySize = 16;
    hdr.l2Entries = clusterSize / 16;
  }

  if (backingFileOffset !== 0) {
    if (backingFileSize > 1023 || backingFileOffset + backingFileSize > clusterSize) {
      throw fail('CORRUPT', 'qcow2 backing file name is too long');
    }
    const name = await readExact(dev, backingFileSize, backingFileOffset, 'backing file name');
    hdr.backingFile = utf8.decode(name);
  }

  validateTables(hdr);
  return hdr;
}

async function readExtensions(dev: BlockDevice, hdr: Qcow2Header, extEnd: number): Promise<void> {
  const start = hdr.headerLength;
  if (extEnd <= start) return;
  const avail = Math.min(extEnd, hdr.fileSize) - start;
  if (avail <= 0) return;
  const buf = await readExact(dev, avail, start, 'qcow2 header extensions');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const seen = new Set<number>();
  let pos = 0;
  while (pos + 8 <= buf.length) {
    const type = v.getUint32(pos);
    const len = v.getUint32(pos + 4);
    if (type === 0) return;
    pos += 8;
    if (len > buf.length - pos) throw fail('CORRUPT', 'qcow2 header extension runs past its area');
    if (seen.has(type))
      throw fail('CORRUPT', `qcow2 header extension 0x${type.toString(16)} repeated`);
    seen.add(type);
    const data = buf.subarray(pos, pos + len);
    const dv = new DataView(data.buffer, data.byteOffset, data.length);
    switch (type) {
      case EXT_BACKING_FORMAT:
        hdr.backingFormat = utf8.decode(data);
        break;
      case EXT_FEATURE_TABLE:
        for (let i = 0; i + 48 <= len; i += 48) {
          const raw = data.subarray(i + 2, i + 48);
          const nul = raw.indexOf(0);
          hdr.featureNames.set(
            `${data[i]}:${data[i + 1]}`,
            utf8.decode(nul < 0 ? raw : raw.subarray(0, nul))
          );
        }
        break;
      case EXT_CRYPTO: {
        if (len !== 16) throw fail('CORRUPT', 'qcow2 encryption header extension has a bad length');
        const offset = readU64(dv, 0);
        const length = readU64(dv, 8);
        if (hdr.cryptMethod !== 2) {
          throw fail('CORRUPT', 'qcow2 encryption header extension without crypt_method 2');
        }
        if (!Number.isSafeInteger(offset) || offset % hdr.clusterSize !== 0 || offset === 0) {
          throw fail('CORRUPT', 'qcow2 encryption header offset is not cluster aligned');
        }
        if (!Number.isSafeInteger(length) || offset + length > hdr.fileSize) {
          throw fail('TRUNCATED', 'qcow2 encryption header lies past the end of the file');
        }
        hdr.cryptoHeader = { offset, length };
        break;
      }
      case EXT_BITMAPS:
        if (len !== 24) throw fail('CORRUPT', 'qcow2 bitmaps extension has a bad length');
        hdr.bitmaps = {
          nbBitmaps: dv.getUint32(0),
          directorySize: readU64(dv, 8),
          directoryOffset: readU64(dv, 16),
        };
        break;
      case EXT_DATA_FILE:
        break;
      default:
        hdr.unknownExtensions.push(type);
    }
    pos += Math.ceil(len / 8) * 8;
  }
}

/** Table placement and size checks (§15), all against the file length. */
function validateTables(h: Qcow2Header): void {
  const cs = h.clusterSize;
  if (h.cryptMethod === 2 && !h.cryptoHeader) {
    throw fail('CORRUPT', 'Missing CRYPTO header for crypt method 2');
  }
  if (h.l1Size * 8 > MAX_L1_BYTES)
    throw fail('CORRUPT', `qcow2 L1 table is too large (${h.l1Size} entries)`);
  const coverage = cs * h.l2Entries;
  const needed = Math.ceil(h.size / coverage);
  if (h.l1Size < needed) {
    throw fail('CORRUPT', `qcow2 L1 table is too small (${h.l1Size} entries, ${needed} needed)`);
  }
  if (!isAligned(h.l1TableOffset, cs))
    throw fail('CORRUPT', 'qcow2 L1 table offset is not cluster aligned');
  if (h.l1Size > 0 && (h.l1TableOffset === 0 || h.l1TableOffset + h.l1Size * 8 > h.fileSize)) {
    throw fail('TRUNCATED', 'qcow2 L1 table lies past the end of the file');
  }
  if (h.refcountTableClusters === 0)
    throw fail('CORRUPT', 'qcow2 refcount table has zero clusters');
  if (h.refcountTableClusters * cs > MAX_REFTABLE_BYTES) {
    throw fail('CORRUPT', 'qcow2 refcount table is too large');
  }
  if (!isAligned(h.refcountTableOffset, cs) || h.refcountTableOffset === 0) {
    throw fail('CORRUPT', 'qcow2 refcount table offset is not cluster aligned');
  }
  if (h.refcountTableOffset + h.refcountTableClusters * cs > h.fileSize + cs) {
    // QEMU tolerates a last table cluster that is only partly present; we need the bytes.
    throw fail('TRUNCATED', 'qcow2 refcount table lies past the end of the file');
  }
  if (h.nbSnapshots > MAX_SNAPSHOTS) throw fail('CORRUPT', 'qcow2 has too many snapshots');
  if (h.nbSnapshots > 0) {
    if (!isAligned(h.snapshotsOffset, cs) || h.snapshotsOffset === 0) {
      throw fail('CORRUPT', 'qcow2 snapshot table offset is not cluster aligned');
    }
    if (h.snapshotsOffset + h.nbSnapshots * 40 > h.fileSize) {
      throw fail('TRUNCATED', 'qcow2 snapshot table lies past the end of the file');
    }
  }
}
