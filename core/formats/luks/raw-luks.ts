/**
 * Raw LUKS containers (header at the device start, data after the payload offset):
 * reading (LUKS1 and LUKS2) and creating (LUKS1 and LUKS2, cryptsetup geometry).
 *
 * IVs are payload-relative: unit at payload byte x uses IV sector ivTweak + x / 512
 * (docs/spec/luks1.md §7, docs/spec/luks2.md §4, docs/spec/qcow2-luks.md §3 "Contrast").
 */
import { fail } from '../../api/errors.js';
import type { EncryptionInfo } from '../../api/types.js';
import { readInto, type BlockDevice } from '../../io/block-device.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import { encryptThenWrite, type HeaderIO } from '../encryption.js';
import { isShared, sharedBuffer } from '../../crypto/crypto-pool.js';
import type { Extent, GuestReader, GuestWriter } from '../image.js';
import { dataCipherFor } from './data-cipher.js';
import { headerIOForDevice } from './header-io.js';
import { inspectLuks } from './inspect.js';
import { unlockLuks } from './keyslots.js';
import { formatLuks1, luksHeaderLength } from './luks1-format.js';
import { LUKS_SECTOR } from './luks1-header.js';
import { segmentCipher } from './luks2-unlock.js';
import { readLuks2Volume } from './luks2-volume.js';
import { formatLuks2, LUKS2_DEFAULT_DATA_OFFSET, type Luks2CreateOptions } from './luks2-format.js';
import type { LuksCreateOptions, UnlockedLuks } from './unlocked.js';

/** LUKS2 choices for {@link createRawLuks}: version 2 and cryptsetup-like KDF and sector size. */
export type RawLuks2Options = Omit<Luks2CreateOptions, 'cipher'> & { luksVersion?: 1 | 2 };

/** Largest buffer decrypted/encrypted at once. */
const CHUNK = 1024 * 1024;
const GRANULARITY = 64 * 1024;

/** An opened raw LUKS device: readable once unlocked. */
export interface RawLuksImage extends GuestReader {
  readonly info: EncryptionInfo;
  readonly headerIO: HeaderIO;
  readonly locked: boolean;
  /** Unlocks with a passphrase (WRONG_PASSPHRASE / UNSUPPORTED_CIPHER). */
  unlock(passphrase: Uint8Array, opts?: { slot?: number; threads?: number }): Promise<number>;
}

/** Payload start and length in bytes, from the header alone. */
async function payloadGeometry(
  io: HeaderIO,
  info: EncryptionInfo,
  deviceSize: number
): Promise<{ offset: number; size: number; sectorSize: number }> {
  let offset = info.payloadOffset ?? 0;
  let sectorSize = info.sectorSize ?? LUKS_SECTOR;
  let size = deviceSize - offset;
  if (info.version === 2) {
    const { segment } = segmentCipher(await readLuks2Volume(io));
    offset = segment.offset;
    sectorSize = segment.sectorSize;
    size = segment.size ?? deviceSize - offset;
  }
  if (offset === 0) {
    throw fail(
      'UNSUPPORTED_FEATURE',
      'Detached-header LUKS volumes (payload offset 0) are not supported'
    );
  }
  size = Math.max(0, Math.floor(Math.min(size, deviceSize - offset) / sectorSize) * sectorSize);
  return { offset, size, sectorSize };
}

/**
 * Opens a raw LUKS1/LUKS2 device. Without a passphrase only `info` and `virtualSize` are
 * available; reads need `unlock()` first (NEEDS_PASSPHRASE). `close()` closes `dev`.
 */
export async function openRawLuks(
  dev: BlockDevice,
  opts: { passphrase?: Uint8Array; threads?: number } = {}
): Promise<RawLuksImage> {
  const deviceSize = await dev.size();
  const io = headerIOForDevice(dev, deviceSize);
  const info = await inspectLuks(io);
  const geo = await payloadGeometry(io, info, deviceSize);
  let unlocked: UnlockedLuks | undefined;
  let cipher: DataCipher | undefined;

  const image: RawLuksImage = {
    format: 'luks',
    info,
    headerIO: io,
    virtualSize: geo.size,
    granularity: GRANULARITY,
    get locked() {
      return cipher === undefined;
    },
    async unlock(passphrase, o = {}) {
      const u = await unlockLuks(io, passphrase, o.slot !== undefined ? { slot: o.slot } : {});
      const threads = o.threads ?? opts.threads;
      try {
        cipher = await dataCipherFor(u, threads !== undefined ? { threads } : {});
      } catch (e) {
        u.dispose();
        throw e;
      }
      unlocked?.dispose();
      unlocked = u;
      return u.slot;
    },
    async read(buf, guestOffset) {
      if (!cipher || !unlocked) throw fail('NEEDS_PASSPHRASE', 'The LUKS volume is locked');
      const end = guestOffset + buf.length;
      if (guestOffset < 0 || end > geo.size)
        throw fail('INVALID_ARGUMENT', 'Read beyond the end of the disk');
      const ss = geo.sectorSize;
      if (isShared(buf) && guestOffset % ss === 0 && buf.length % ss === 0) {
        // Zero-copy path: read straight into the caller's shared buffer, decrypt in place.
        await readInto(dev, buf, geo.offset + guestOffset, 'LUKS payload');
        await cipher.decrypt(buf, unlocked.ivTweak + guestOffset / LUKS_SECTOR);
        return;
      }
      let pos = Math.floor(guestOffset / ss) * ss;
      while (pos < end) {
        const chunkEnd = Math.min(Math.ceil(end / ss) * ss, pos + CHUNK);
        const data = new Uint8Array(chunkEnd - pos);
        await readInto(dev, data, geo.offset + pos, 'LUKS payload');
        const plain = await cipher.decrypt(data, unlocked.ivTweak + pos / LUKS_SECTOR);
        const from = Math.max(guestOffset, pos);
        const to = Math.min(end, chunkEnd);
        buf.set(plain.subarray(from - pos, to - pos), from - guestOffset);
        pos = chunkEnd;
      }
    },
    async map(offset, length): Promise<Extent[]> {
      const len = Math.max(0, Math.min(length, geo.size - offset));
      return len > 0 ? [{ offset, length: len, kind: 'data' }] : [];
    },
    async close() {
      try {
        await cipher?.dispose();
      } finally {
        unlocked?.dispose();
        cipher = undefined;
        await dev.close();
      }
    },
  };
  if (opts.passphrase) {
    try {
      await image.unlock(opts.passphrase);
    } catch (e) {
      await image.close();
      throw e;
    }
  }
  return image;
}

/** Sorted, merged list of written byte ranges [start, end). */
class RangeSet {
  private ranges: [number, number][] = [];

  add(start: number, end: number): void {
    const out: [number, number][] = [];
    let s = start;
    let e = end;
    for (const [a, b] of this.ranges) {
      if (b < s || a > e) out.push([a, b]);
      else {
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    out.push([s, e]);
    this.ranges = out.sort((x, y) => x[0] - y[0]);
  }

  gaps(total: number): [number, number][] {
    const gaps: [number, number][] = [];
    let pos = 0;
    for (const [a, b] of this.ranges) {
      if (a > pos) gaps.push([pos, a]);
      pos = Math.max(pos, b);
    }
    if (pos < total) gaps.push([pos, total]);
    return gaps;
  }
}

/**
 * Creates a raw LUKS volume on `dev` with cryptsetup geometry — LUKS1 (payload aligned to
 * 1 MiB) or, with `luksVersion: 2`, LUKS2 (data at 16 MiB, luks2-format.ts) — and returns a
 * writer for `virtualSize` guest bytes. The file length is payload + virtualSize.
 * Writes must be aligned to the data sector size. Every sector the guest can read holds ciphertext: ranges
 * never written are filled with encrypted zeros on `flush()`/`close()`. `close()` closes `dev`.
 */
export async function createRawLuks(
  dev: BlockDevice,
  virtualSize: number,
  passphrase: Uint8Array,
  opts: Omit<LuksCreateOptions, 'layout'> & RawLuks2Options & { threads?: number }
): Promise<GuestWriter> {
  const v2 = opts.luksVersion === 2;
  const unit = v2 ? (opts.sectorSize ?? LUKS_SECTOR) : LUKS_SECTOR;
  if (!Number.isSafeInteger(virtualSize) || virtualSize < 0 || virtualSize % unit !== 0) {
    throw fail(
      'INVALID_ARGUMENT',
      `The size of this LUKS volume must be a multiple of ${unit} bytes`
    );
  }
  const createOpts: LuksCreateOptions = { ...opts, layout: 'cryptsetup' };
  const payload = v2 ? LUKS2_DEFAULT_DATA_OFFSET : luksHeaderLength(createOpts);
  await dev.truncate(0);
  const hio = headerIOForDevice(dev, payload);
  const u = v2
    ? await formatLuks2(hio, passphrase, opts)
    : await formatLuks1(hio, passphrase, createOpts);
  let cipher: DataCipher;
  try {
    await dev.truncate(payload + virtualSize);
    cipher = await dataCipherFor(u, opts.threads !== undefined ? { threads: opts.threads } : {});
  } finally {
    u.dispose();
  }
  const written = new RangeSet();
  let closed = false;
  /** End of the highest write so far: `flush()` makes everything below it valid. */
  let highWater = 0;
  const zeros = sharedBuffer(CHUNK);

  const encryptAndWrite = (plain: Uint8Array, guestOffset: number): Promise<void> =>
    encryptThenWrite(cipher, plain, guestOffset / LUKS_SECTOR, (enc, off) =>
      dev.write(enc, payload + guestOffset + off)
    );
  /** Encrypted zeros for every never-written range below `limit` (holes would decrypt to noise). */
  const fillGaps = async (limit: number): Promise<void> => {
    for (const [a, b] of written.gaps(limit)) {
      for (let pos = a; pos < b; pos += CHUNK) {
        const piece = zeros.subarray(0, Math.min(CHUNK, b - pos));
        piece.fill(0);
        await encryptAndWrite(piece, pos);
      }
      written.add(a, b);
    }
  };

  return {
    virtualSize,
    granularity: GRANULARITY,
    // Writes touch only their own range (and the range set, updated synchronously).
    concurrentWrites: 2,
    async write(buf, guestOffset) {
      if (closed) throw fail('INVALID_ARGUMENT', 'The LUKS writer is closed');
      const end = guestOffset + buf.length;
      if (guestOffset < 0 || end > virtualSize)
        throw fail('INVALID_ARGUMENT', 'Write beyond the end of the disk');
      if (guestOffset % unit !== 0 || buf.length % unit !== 0) {
        throw fail('INVALID_ARGUMENT', `Writes to this LUKS volume must be ${unit}-byte aligned`);
      }
      if (isShared(buf)) {
        // The caller's shared buffer is encrypted in place (GuestWriter.write may use it as
        // scratch): no copy, the pool works on it directly.
        await encryptAndWrite(buf, guestOffset);
      } else {
        for (let pos = 0; pos < buf.length; pos += CHUNK) {
          const piece = buf.slice(pos, Math.min(buf.length, pos + CHUNK));
          await encryptAndWrite(piece, guestOffset + pos);
        }
      }
      written.add(guestOffset, end);
      highWater = Math.max(highWater, end);
    },
    async flush() {
      // A checkpoint: everything below the highest write is valid; the rest is still to come.
      await fillGaps(highWater);
      await dev.flush();
    },
    async close() {
      if (closed) return;
      try {
        await fillGaps(virtualSize);
        await dev.flush();
      } finally {
        closed = true;
        await cipher.dispose();
        await dev.close();
      }
    },
  };
}
