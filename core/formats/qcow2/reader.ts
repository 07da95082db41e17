/**
 * Read access to qcow2 v2/v3 images (docs/spec/qcow2.md), including backing chains, compressed
 * clusters, extended L2, and encrypted data (docs/spec/qcow2-luks.md §3, docs/spec/legacy-aes.md §2).
 */
import { dirname, isAbsolute, join } from 'node:path';
import { fail } from '../../api/errors.js';
import type { ImageInfo } from '../../api/types.js';
import { readExact, readOrZero, type BlockDevice } from '../../io/block-device.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import type { HeaderIO } from '../encryption.js';
import type { Extent, GuestReader } from '../image.js';
import { decompressCluster } from './compressed.js';
import { coarsen, pushExtent } from './extents.js';
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, readQcow2Header, type Qcow2Header } from './header.js';
import { L2Resolver, type Segment } from './resolve.js';
import { readSnapshots, type Qcow2Snapshot } from './snapshots.js';
import { COMPRESSED_HI, ZERO_LO, entryOffset } from './entries.js';
import { isShared } from '../../crypto/crypto-pool.js';

export interface Qcow2OpenOptions {
  /** Opens the backing image; the path is already resolved relative to the image like QEMU. */
  openBacking?: (path: string, format: string | undefined) => Promise<GuestReader>;
  /**
   * For crypt_method 2 ('luks', with the LUKS region) or 1 ('aes', region undefined): returns
   * the unlocked data cipher. Without it, reads of allocated data fail with NEEDS_PASSPHRASE.
   */
  unlock?: (kind: 'luks' | 'aes', region: HeaderIO | undefined) => Promise<DataCipher>;
}

/** Resolves a backing file name relative to the image's directory, as QEMU does. */
export function resolveBackingPath(imagePath: string | undefined, backing: string): string {
  if (isAbsolute(backing) || imagePath === undefined || /^[a-z]+:/i.test(backing)) return backing;
  return join(dirname(imagePath), backing);
}

/** An opened qcow2 image. `close()` also closes the backing reader, the cipher and `dev`. */
export class Qcow2Image implements GuestReader {
  readonly format = 'qcow2' as const;
  readonly virtualSize: number;
  readonly granularity: number;
  readonly cryptMethod: 0 | 1 | 2;
  /** The backing file name as stored in the header (for loop detection / display). */
  readonly backingFile: string | undefined;
  /** `backingFile` resolved relative to this image (what `openBacking` received). */
  readonly backingPath: string | undefined;
  readonly backingFormat: string | undefined;
  private compressedCache: { offset: number; data: Uint8Array } | undefined;
  private allocatedExact: number | undefined;

  constructor(
    private readonly dev: BlockDevice,
    readonly header: Qcow2Header,
    private readonly resolver: L2Resolver,
    readonly snapshots: Qcow2Snapshot[],
    private readonly backing: GuestReader | undefined,
    private readonly cipher: DataCipher | undefined
  ) {
    this.virtualSize = header.size;
    this.granularity = header.clusterSize;
    this.cryptMethod = header.cryptMethod;
    this.backingFile = header.backingFile;
    this.backingFormat = header.backingFormat;
    this.backingPath =
      header.backingFile === undefined
        ? undefined
        : resolveBackingPath(dev.path, header.backingFile);
  }

  /** `qemu-img info`-like summary. */
  info(): Partial<ImageInfo> {
    const h = this.header;
    const i: Partial<ImageInfo> = {
      format: 'qcow2',
      virtualSize: h.size,
      fileSize: h.fileSize,
      clusterSize: h.clusterSize,
      compat: h.version === 2 ? '0.10' : '1.1',
      refcountBits: h.refcountBits,
      compressionType: h.compressionType === 1 ? 'zstd' : 'zlib',
      extendedL2: h.extendedL2,
      snapshots: this.snapshots.map(({ id, name, vmStateSize, dateSeconds, vmClockNs }) => ({
        id,
        name,
        vmStateSize,
        dateSeconds,
        vmClockNs,
      })),
      encrypted: h.cryptMethod !== 0,
      dirty: (h.incompatible & BigInt(INCOMPAT_DIRTY)) !== 0n,
      corrupt: (h.incompatible & BigInt(INCOMPAT_CORRUPT)) !== 0n,
      warnings: [],
    };
    if (h.backingFile !== undefined) i.backingFile = h.backingFile;
    if (h.backingFormat !== undefined) i.backingFormat = h.backingFormat;
    if (i.corrupt) i.warnings?.push('The image is marked corrupt; it was opened read-only.');
    if (h.cryptMethod === 1) {
      i.warnings?.push('Legacy AES encryption is insecure; migrate the image to LUKS.');
    }
    return i;
  }

  /** The LUKS region (extension 0x0537BE77), bounded to its length (docs/spec/qcow2-luks.md §1). */
  luksRegion(): HeaderIO | undefined {
    const ch = this.header.cryptoHeader;
    return ch ? regionIO(this.dev, ch.offset, ch.length) : undefined;
  }

  /**
   * Guest bytes held by allocated data clusters: exact once `countAllocatedDataBytes()` ran,
   * otherwise an upper bound from the file length (for progress totals).
   */
  allocatedDataBytes(): number {
    return this.allocatedExact ?? Math.min(this.virtualSize, this.header.fileSize);
  }

  /** Counts allocated (normal + compressed) guest clusters by walking the active L2 tables. */
  async countAllocatedDataBytes(): Promise<number> {
    let n = 0;
    const h = this.header;
    for (let i = 0; i < h.l1Size; i++) {
      const t = await this.resolver.table(i);
      if (!t) continue;
      for (let j = 0; j < h.l2Entries; j++) {
        const at = j * h.l2EntrySize;
        const hi = t.getUint32(at);
        const lo = t.getUint32(at + 4);
        if (hi & COMPRESSED_HI) n++;
        else if (h.extendedL2) n += entryOffset(hi, lo) !== 0 && t.getUint32(at + 12) !== 0 ? 1 : 0;
        else if (entryOffset(hi, lo) !== 0 && !(lo & ZERO_LO)) n++;
      }
    }
    this.allocatedExact = Math.min(this.virtualSize, n * h.clusterSize);
    return this.allocatedExact;
  }

  async read(buf: Uint8Array, guestOffset: number): Promise<void> {
    checkRange(guestOffset, buf.length, this.virtualSize);
    const segs = await this.resolver.resolve(guestOffset, buf.length);
    for (const s of segs) {
      const dst = buf.subarray(s.guest - guestOffset, s.guest - guestOffset + s.length);
      await this.readSegment(s, dst);
    }
  }

  private async readSegment(s: Segment, dst: Uint8Array): Promise<void> {
    switch (s.kind) {
      case 'zero':
        dst.fill(0);
        return;
      case 'unallocated':
        return this.readBacking(dst, s.guest);
      case 'compressed': {
        const c = await this.decompressed(s.ref.offset, s.ref.length);
        const at = s.guest - s.clusterGuest;
        dst.set(c.subarray(at, at + s.length));
        return;
      }
      case 'data':
        if (this.cryptMethod === 0) return readOrZero(this.dev, dst, s.host);
        return this.readEncrypted(dst, s.host, s.guest);
    }
  }

  private async readEncrypted(dst: Uint8Array, host: number, guest: number): Promise<void> {
    if (!this.cipher) {
      throw fail('NEEDS_PASSPHRASE', 'The image is encrypted; a passphrase is needed to read it');
    }
    const head = host % 512;
    const iv0 = this.cryptMethod === 2 ? (host - head) / 512 : (guest - head) / 512;
    if (head === 0 && dst.length % 512 === 0 && isShared(dst)) {
      // Zero-copy path: read into the caller's shared buffer and decrypt it in place.
      await readOrZero(this.dev, dst, host);
      await this.cipher.decrypt(dst, iv0);
      return;
    }
    const len = Math.ceil((head + dst.length) / 512) * 512;
    const tmp = new Uint8Array(len);
    await readOrZero(this.dev, tmp, host - head);
    const plain = await this.cipher.decrypt(tmp, iv0);
    dst.set(plain.subarray(head, head + dst.length));
  }

  private async readBacking(dst: Uint8Array, guest: number): Promise<void> {
    if (this.header.backingFile === undefined) {
      dst.fill(0);
      return;
    }
    if (!this.backing) {
      throw fail('INVALID_ARGUMENT', 'The backing file of this image was not opened');
    }
    const avail = Math.max(0, Math.min(dst.length, this.backing.virtualSize - guest));
    if (avail > 0) await this.backing.read(dst.subarray(0, avail), guest);
    dst.fill(0, avail);
  }

  private async decompressed(offset: number, length: number): Promise<Uint8Array> {
    if (this.compressedCache?.offset === offset) return this.compressedCache.data;
    const raw = new Uint8Array(length);
    await readOrZero(this.dev, raw, offset);
    const data = decompressCluster(raw, this.header.clusterSize, this.header.compressionType);
    this.compressedCache = { offset, data };
    return data;
  }

  async map(offset: number, length: number): Promise<Extent[]> {
    checkRange(offset, length, this.virtualSize);
    const segs = await this.resolver.mapSegments(offset, length);
    const fine: Extent[] = [];
    for (const s of segs) {
      if (s.kind === 'data' || s.kind === 'compressed') pushExtent(fine, s.guest, s.length, 'data');
      else if (s.kind === 'zero' || !this.backing) pushExtent(fine, s.guest, s.length, 'zero');
      else {
        const avail = Math.max(0, Math.min(s.length, this.backing.virtualSize - s.guest));
        if (avail > 0) {
          for (const e of await this.backing.map(s.guest, avail)) {
            pushExtent(fine, e.offset, e.length, e.kind);
          }
        }
        pushExtent(fine, s.guest + avail, s.length - avail, 'zero');
      }
    }
    return coarsen(fine, this.granularity, offset, offset + length);
  }

  async close(): Promise<void> {
    try {
      await this.backing?.close();
      await this.cipher?.dispose();
    } finally {
      await this.dev.close();
    }
  }
}

function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > size) {
    throw fail(
      'INVALID_ARGUMENT',
      `Guest range ${offset}+${length} lies outside the disk (${size})`
    );
  }
}

/** A `HeaderIO` over `[offset, offset + length)` of `dev` (writes only when writable). */
export function regionIO(dev: BlockDevice, offset: number, length: number): HeaderIO {
  const bound = (buf: Uint8Array, pos: number): void => {
    if (pos < 0 || pos + buf.length > length) {
      throw fail('CORRUPT', `Access beyond the encryption header region (${pos}+${buf.length})`);
    }
  };
  return {
    length,
    read: async (buf, pos) => {
      bound(buf, pos);
      await readOrZero(dev, buf, offset + pos);
    },
    write: async (buf, pos) => {
      bound(buf, pos);
      if (!dev.writable) throw fail('INVALID_ARGUMENT', 'The image was opened read-only');
      await dev.write(buf, offset + pos);
    },
    flush: () => dev.flush(),
  };
}

/** Opens a qcow2 image for reading (docs/spec/qcow2.md §15 validation first). */
export async function openQcow2(
  dev: BlockDevice,
  opts: Qcow2OpenOptions = {}
): Promise<Qcow2Image> {
  const h = await readQcow2Header(dev);
  const l1Bytes = await readExact(dev, h.l1Size * 8, h.l1TableOffset, 'L1 table');
  const l1 = new DataView(l1Bytes.buffer);
  const snapshots = await readSnapshots(dev, h);
  let backing: GuestReader | undefined;
  let cipher: DataCipher | undefined;
  try {
    if (h.backingFile !== undefined && opts.openBacking) {
      backing = await opts.openBacking(
        resolveBackingPath(dev.path, h.backingFile),
        h.backingFormat
      );
    }
    if (h.cryptMethod !== 0 && opts.unlock) {
      const kind = h.cryptMethod === 2 ? 'luks' : 'aes';
      const region = h.cryptoHeader
        ? regionIO(dev, h.cryptoHeader.offset, h.cryptoHeader.length)
        : undefined;
      cipher = await opts.unlock(kind, region);
      if (cipher.sectorSize !== 512) {
        throw fail('UNSUPPORTED_FEATURE', 'qcow2 encryption needs a 512-byte sector cipher');
      }
    }
  } catch (e) {
    await backing?.close();
    await cipher?.dispose();
    throw e;
  }
  return new Qcow2Image(dev, h, new L2Resolver(dev, h, l1), snapshots, backing, cipher);
}
