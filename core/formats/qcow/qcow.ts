/**
 * qcow version 1, read only (docs/spec/legacy-aes.md §3), with legacy AES data decryption
 * (docs/spec/legacy-aes.md §1: IV = guest offset / 512).
 */
import { dirname, isAbsolute, join } from 'node:path';
import { inflateRawSync, constants } from 'node:zlib';
import { fail } from '../../api/errors.js';
import type { ImageInfo } from '../../api/types.js';
import { readExact, readOrZero, type BlockDevice } from '../../io/block-device.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import type { Extent, GuestReader } from '../image.js';

export interface QcowOpenOptions {
  openBacking?: (path: string, format: string | undefined) => Promise<GuestReader>;
  unlock?: (kind: 'aes') => Promise<DataCipher>;
}

export interface QcowHeader {
  size: number;
  clusterBits: number;
  l2Bits: number;
  cryptMethod: 0 | 1;
  l1TableOffset: number;
  l1Size: number;
  backingFile?: string;
}

const TWO32 = 4294967296;
const u64 = (v: DataView, p: number) => v.getUint32(p) * TWO32 + v.getUint32(p + 4);

/** Parses and validates the 48-byte header against QEMU's limits and the file length. */
export async function readQcowHeader(dev: BlockDevice): Promise<QcowHeader> {
  const fileSize = await dev.size();
  if (fileSize < 48) throw fail('TRUNCATED', 'The file is too short for a qcow header');
  const b = await readExact(dev, 48, 0, 'qcow header');
  const v = new DataView(b.buffer);
  if (v.getUint32(0) !== 0x514649fb || v.getUint32(4) !== 1) {
    throw fail('NOT_AN_IMAGE', 'Not a qcow version 1 image');
  }
  const backingOffset = u64(v, 8);
  const backingLen = v.getUint32(16);
  const size = u64(v, 24);
  const clusterBits = v.getUint8(32);
  const l2Bits = v.getUint8(33);
  const crypt = v.getUint32(36);
  const l1TableOffset = u64(v, 40);
  if (clusterBits < 9 || clusterBits > 16) throw fail('CORRUPT', 'qcow cluster_bits out of range');
  if (l2Bits < 6 || l2Bits > 13) throw fail('CORRUPT', 'qcow l2_bits out of range');
  if (crypt > 1) throw fail('UNSUPPORTED_FEATURE', `Unknown qcow crypt_method ${crypt}`);
  if (!Number.isSafeInteger(size) || size > 2 ** 62) throw fail('CORRUPT', 'qcow size is invalid');
  const l1Size = Math.ceil(size / 2 ** (clusterBits + l2Bits));
  if (l1Size * 8 > 32 * 1024 * 1024) throw fail('CORRUPT', 'qcow L1 table is too large');
  if (
    l1Size > 0 &&
    (!Number.isSafeInteger(l1TableOffset) || l1TableOffset + l1Size * 8 > fileSize)
  ) {
    throw fail('TRUNCATED', 'qcow L1 table lies past the end of the file');
  }
  const h: QcowHeader = {
    size,
    clusterBits,
    l2Bits,
    cryptMethod: crypt as 0 | 1,
    l1TableOffset,
    l1Size,
  };
  if (backingOffset !== 0) {
    if (backingLen > 1023 || backingOffset + backingLen > fileSize) {
      throw fail('CORRUPT', 'qcow backing file name is invalid');
    }
    h.backingFile = new TextDecoder().decode(
      await readExact(dev, backingLen, backingOffset, 'backing name')
    );
  }
  return h;
}

/** An opened qcow v1 image. `close()` also closes the backing reader, cipher and `dev`. */
export class QcowImage implements GuestReader {
  readonly format = 'qcow' as const;
  readonly virtualSize: number;
  readonly granularity: number;
  readonly backingPath: string | undefined;
  private l2Cache: { off: number; table: DataView } | undefined;

  constructor(
    private readonly dev: BlockDevice,
    readonly header: QcowHeader,
    private readonly l1: DataView,
    private readonly fileSize: number,
    private readonly backing: GuestReader | undefined,
    private readonly cipher: DataCipher | undefined
  ) {
    this.virtualSize = header.size;
    this.granularity = 2 ** header.clusterBits;
    const b = header.backingFile;
    this.backingPath =
      b === undefined || isAbsolute(b) || !dev.path ? b : join(dirname(dev.path), b);
  }

  info(): Partial<ImageInfo> {
    const i: Partial<ImageInfo> = {
      format: 'qcow',
      virtualSize: this.virtualSize,
      fileSize: this.fileSize,
      clusterSize: this.granularity,
      encrypted: this.header.cryptMethod === 1,
      snapshots: [],
      warnings: ['qcow version 1 is a legacy format; convert it to qcow2.'],
    };
    if (this.header.backingFile !== undefined) i.backingFile = this.header.backingFile;
    if (i.encrypted)
      i.warnings?.push('Legacy AES encryption is insecure; migrate the image to LUKS.');
    return i;
  }

  /** Entry for guest cluster `ci`: 0 unallocated, else the raw 64-bit value (as hi/lo). */
  private async entry(ci: number): Promise<[number, number]> {
    const h = this.header;
    const l1i = Math.floor(ci / 2 ** h.l2Bits);
    const l2off = u64(this.l1, l1i * 8);
    if (l2off === 0) return [0, 0];
    const l2Bytes = 8 * 2 ** h.l2Bits;
    if (this.l2Cache?.off !== l2off) {
      if (l2off + l2Bytes > this.fileSize) throw fail('CORRUPT', 'qcow L2 table lies past the end');
      const t = await readExact(this.dev, l2Bytes, l2off, 'qcow L2 table');
      this.l2Cache = { off: l2off, table: new DataView(t.buffer) };
    }
    const at = (ci % 2 ** h.l2Bits) * 8;
    return [this.l2Cache.table.getUint32(at), this.l2Cache.table.getUint32(at + 4)];
  }

  async read(buf: Uint8Array, guestOffset: number): Promise<void> {
    if (guestOffset < 0 || guestOffset + buf.length > this.virtualSize) {
      throw fail('INVALID_ARGUMENT', 'Read outside the disk');
    }
    const cs = this.granularity;
    let pos = guestOffset;
    while (pos < guestOffset + buf.length) {
      const ci = Math.floor(pos / cs);
      const stop = Math.min(guestOffset + buf.length, (ci + 1) * cs);
      const dst = buf.subarray(pos - guestOffset, stop - guestOffset);
      const [hi, lo] = await this.entry(ci);
      const inC = pos - ci * cs;
      if (hi === 0 && lo === 0) await this.readBacking(dst, pos);
      else if (hi & 0x80000000) {
        const c = await this.decompress(hi, lo);
        dst.set(c.subarray(inC, inC + dst.length));
      } else {
        const host = hi * TWO32 + lo;
        if (host >= this.fileSize) throw fail('CORRUPT', 'qcow data cluster lies past the end');
        if (this.header.cryptMethod === 0) await readOrZero(this.dev, dst, host + inC);
        else {
          if (!this.cipher) throw fail('NEEDS_PASSPHRASE', 'The image is encrypted');
          const head = inC % 512;
          const tmp = new Uint8Array(Math.ceil((head + dst.length) / 512) * 512);
          await readOrZero(this.dev, tmp, host + inC - head);
          const plain = await this.cipher.decrypt(tmp, (pos - head) / 512);
          dst.set(plain.subarray(head, head + dst.length));
        }
      }
      pos = stop;
    }
  }

  private async decompress(hi: number, lo: number): Promise<Uint8Array> {
    const cb = this.header.clusterBits;
    const entry = (BigInt(hi) << 32n) | BigInt(lo);
    const shift = BigInt(63 - cb);
    const csize = Number((entry >> shift) & BigInt(this.granularity - 1));
    const off = Number(entry & ((1n << shift) - 1n));
    if (off >= this.fileSize) throw fail('CORRUPT', 'qcow compressed cluster lies past the end');
    const raw = new Uint8Array(csize);
    await readOrZero(this.dev, raw, off);
    try {
      const out = inflateRawSync(raw, {
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: this.granularity,
      });
      if (out.length !== this.granularity) throw new Error('short');
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    } catch (e) {
      throw fail('CORRUPT', 'A qcow compressed cluster is not valid', e);
    }
  }

  private async readBacking(dst: Uint8Array, guest: number): Promise<void> {
    if (this.header.backingFile === undefined) {
      dst.fill(0);
      return;
    }
    if (!this.backing)
      throw fail('INVALID_ARGUMENT', 'The backing file of this image was not opened');
    const avail = Math.max(0, Math.min(dst.length, this.backing.virtualSize - guest));
    if (avail > 0) await this.backing.read(dst.subarray(0, avail), guest);
    dst.fill(0, avail);
  }

  async map(offset: number, length: number): Promise<Extent[]> {
    const cs = this.granularity;
    const out: Extent[] = [];
    for (let pos = offset; pos < offset + length;) {
      const ci = Math.floor(pos / cs);
      const stop = Math.min(offset + length, (ci + 1) * cs);
      const [hi, lo] = await this.entry(ci);
      const kind = hi === 0 && lo === 0 && !this.backing ? 'zero' : 'data';
      const last = out[out.length - 1];
      if (last && last.kind === kind) last.length += stop - pos;
      else out.push({ offset: pos, length: stop - pos, kind });
      pos = stop;
    }
    return out;
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

/** Opens a qcow v1 image read-only. */
export async function openQcow(dev: BlockDevice, opts: QcowOpenOptions = {}): Promise<QcowImage> {
  const h = await readQcowHeader(dev);
  const fileSize = await dev.size();
  const l1 = new DataView(
    (await readExact(dev, h.l1Size * 8, h.l1TableOffset, 'qcow L1 table')).buffer
  );
  const img0 = { b: undefined as GuestReader | undefined, c: undefined as DataCipher | undefined };
  try {
    if (h.backingFile !== undefined && opts.openBacking) {
      const p =
        isAbsolute(h.backingFile) || !dev.path
          ? h.backingFile
          : join(dirname(dev.path), h.backingFile);
      img0.b = await opts.openBacking(p, undefined);
    }
    if (h.cryptMethod === 1 && opts.unlock) img0.c = await opts.unlock('aes');
  } catch (e) {
    await img0.b?.close();
    throw e;
  }
  return new QcowImage(dev, h, l1, fileSize, img0.b, img0.c);
}
