/**
 * Creating qcow2 images (docs/spec/qcow2.md §9, docs/spec/qcow2-luks.md §4) and reopening one we created
 * to continue a resumable conversion.
 */
import { fail } from '../../api/errors.js';
import { readExact, type BlockDevice } from '../../io/block-device.js';
import type { DataCipher } from '../../crypto/data-cipher.js';
import type { HeaderIO } from '../encryption.js';
import { ClusterAllocator, WRITER_REFCOUNT_ORDER, initialReftableClusters } from './allocator.js';
import { COMPRESSED_HI, entryOffset, getRefcount } from './entries.js';
import { INCOMPAT_CORRUPT, INCOMPAT_DIRTY, readQcow2Header } from './header.js';
import { regionIO } from './reader.js';
import { Qcow2Writer } from './writer.js';

export { Qcow2Writer } from './writer.js';

export interface Qcow2CreateOptions {
  virtualSize: number;
  /** Default 65536; a power of two in 512..2 MiB. */
  clusterSize?: number;
  /** '1.1' (v3, default) or '0.10' (v2). */
  compat?: '0.10' | '1.1';
  backingFile?: string;
  backingFormat?: string;
  /**
   * 'luks': `initHeader` gets a region allocator (contiguous, zeroed, refcounted clusters,
   * recorded in extension 0x0537BE77), writes the LUKS header through it and returns the data
   * cipher. 'aes': legacy crypt_method 1 with the given cipher. The writer owns the cipher.
   */
  encryption?:
    | {
        kind: 'luks';
        initHeader: (allocRegion: (length: number) => Promise<HeaderIO>) => Promise<DataCipher>;
      }
    | { kind: 'aes'; cipher: DataCipher };
}

const MAX_ZERO_CHUNK = 1024 * 1024;

/** Creates an empty image on `dev` (truncated first) and returns a writer for it. */
export async function createQcow2(
  dev: BlockDevice,
  opts: Qcow2CreateOptions
): Promise<Qcow2Writer> {
  const cs = opts.clusterSize ?? 65536;
  const clusterBits = Math.log2(cs);
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
    throw fail('INVALID_ARGUMENT', `Cluster size ${cs} is not a power of two in 512..2M`);
  }
  if (!Number.isSafeInteger(opts.virtualSize) || opts.virtualSize < 0) {
    throw fail('INVALID_ARGUMENT', 'Invalid virtual size');
  }
  const size = Math.ceil(opts.virtualSize / 512) * 512;
  const l1Size = Math.ceil(size / (cs * (cs / 8)));
  if (l1Size * 8 > 32 * 1024 * 1024)
    throw fail('INVALID_ARGUMENT', 'The virtual size is too large');
  if (opts.backingFormat !== undefined && opts.backingFile === undefined) {
    throw fail('INVALID_ARGUMENT', 'A backing format needs a backing file');
  }
  await dev.truncate(0);
  const reftableClusters = initialReftableClusters(size, cs);
  const alloc = new ClusterAllocator(cs, {
    end: 1 + reftableClusters,
    refblocks: [],
    reftableCluster: 1,
    reftableClusters,
  });
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cs));
  const l1TableOffset = alloc.alloc(l1Clusters);
  const l1 = new Uint8Array(l1Clusters * cs);
  await dev.write(new Uint8Array(cs), 0);
  await dev.write(l1, l1TableOffset);

  const enc = opts.encryption;
  let cipher: DataCipher | undefined;
  let cryptoHeader: { offset: number; length: number } | undefined;
  if (enc?.kind === 'aes') cipher = enc.cipher;
  else if (enc?.kind === 'luks') {
    cipher = await enc.initHeader(async (length) => {
      if (cryptoHeader) throw fail('INTERNAL', 'The encryption region was already allocated');
      if (!Number.isSafeInteger(length) || length <= 0 || length > 64 * 1024 * 1024) {
        throw fail('INVALID_ARGUMENT', `Invalid encryption header length ${length}`);
      }
      const clusters = Math.ceil(length / cs);
      const offset = alloc.alloc(clusters);
      const zeros = new Uint8Array(Math.min(clusters * cs, MAX_ZERO_CHUNK));
      for (let p = 0; p < clusters * cs; p += zeros.length) {
        await dev.write(zeros.subarray(0, Math.min(zeros.length, clusters * cs - p)), offset + p);
      }
      cryptoHeader = { offset, length };
      return regionIO(dev, offset, length);
    });
    if (!cryptoHeader) throw fail('INTERNAL', 'The LUKS header callback allocated no region');
  }
  if (cipher && cipher.sectorSize !== 512) {
    throw fail('UNSUPPORTED_FEATURE', 'qcow2 encryption needs a 512-byte sector cipher');
  }
  const header = {
    version: (opts.compat === '0.10' ? 2 : 3) as 2 | 3,
    clusterBits,
    size,
    cryptMethod: (enc?.kind === 'luks' ? 2 : enc?.kind === 'aes' ? 1 : 0) as 0 | 1 | 2,
    l1Size,
    l1TableOffset,
    ...(opts.backingFile !== undefined ? { backingFile: opts.backingFile } : {}),
    ...(opts.backingFormat !== undefined ? { backingFormat: opts.backingFormat } : {}),
    ...(cryptoHeader ? { cryptoHeader } : {}),
  };
  const w = new Qcow2Writer(dev, { header, l1, alloc, ...(cipher ? { cipher } : {}) });
  await w.flush();
  return w;
}

/**
 * Reopens an image we created (16-bit refcounts, no snapshots, no compressed clusters, no
 * sharing) to continue writing. Entries written after the last `flush()` that are not
 * covered by refcounts are dropped, so those clusters read as unwritten again.
 */
export async function reopenQcow2Writer(
  dev: BlockDevice,
  opts: { cipher?: DataCipher }
): Promise<Qcow2Writer> {
  const h = await readQcow2Header(dev);
  const cs = h.clusterSize;
  const notOurs = (why: string) =>
    fail('UNSUPPORTED_FEATURE', `Cannot continue this image: ${why}`);
  if (h.refcountOrder !== WRITER_REFCOUNT_ORDER) throw notOurs('refcounts are not 16-bit');
  if (h.nbSnapshots > 0) throw notOurs('it has snapshots');
  if (h.extendedL2 || h.compressionType !== 0) throw notOurs('it uses extended L2 or zstd');
  if (h.incompatible & BigInt(INCOMPAT_DIRTY | INCOMPAT_CORRUPT))
    throw notOurs('it is dirty or corrupt');
  if (h.bitmaps) throw notOurs('it has bitmaps');
  if ((h.cryptMethod !== 0) !== (opts.cipher !== undefined)) {
    throw fail('INVALID_ARGUMENT', 'A cipher is needed exactly when the image is encrypted');
  }
  // Refcounts: every used cluster must have refcount 1.
  const rt = await readExact(
    dev,
    h.refcountTableClusters * cs,
    h.refcountTableOffset,
    'refcount table'
  );
  const rtv = new DataView(rt.buffer);
  const perBlock = (cs * 8) / h.refcountBits;
  const refblocks: number[] = [];
  const fileClusters = Math.ceil(h.fileSize / cs);
  const used = new Uint8Array(fileClusters + 1);
  let end = 0;
  for (let i = 0; i < rt.length / 8; i++) {
    const off = entryOffset(rtv.getUint32(i * 8) & 0x00ffffff, rtv.getUint32(i * 8 + 4));
    if (off === 0) continue;
    if (off % cs !== 0 || off + cs > h.fileSize) throw fail('CORRUPT', `Bad refcount block ${i}`);
    refblocks[i] = off / cs;
    const block = await readExact(dev, cs, off, 'refcount block');
    for (let k = 0; k < perBlock; k++) {
      const r = getRefcount(block, k, h.refcountBits);
      if (r > 1) throw notOurs('some clusters are shared');
      if (r === 1) {
        if (i * perBlock + k >= fileClusters)
          throw fail('CORRUPT', 'Refcounts past the end of file');
        used[i * perBlock + k] = 1;
        end = i * perBlock + k + 1;
      }
    }
  }
  const freed: [number, number][] = [];
  for (let c = 0; c < end; c++) {
    if (used[c]) continue;
    const last = freed[freed.length - 1];
    if (last && last[0] + last[1] === c) last[1]++;
    else freed.push([c, 1]);
  }
  const isUsed = (host: number) => host % cs === 0 && used[host / cs] === 1;
  // Drop references that the last flush did not commit.
  const l1Clusters = Math.max(1, Math.ceil((h.l1Size * 8) / cs));
  const l1 = new Uint8Array(l1Clusters * cs);
  l1.set(await readExact(dev, h.l1Size * 8, h.l1TableOffset, 'L1 table'));
  const l1v = new DataView(l1.buffer);
  for (let i = 0; i < h.l1Size; i++) {
    const off = entryOffset(l1v.getUint32(i * 8), l1v.getUint32(i * 8 + 4));
    if (off === 0) continue;
    if (!isUsed(off)) {
      l1v.setBigUint64(i * 8, 0n);
      continue;
    }
    const t = await readExact(dev, cs, off, 'L2 table');
    const tv = new DataView(t.buffer);
    let changed = false;
    for (let j = 0; j < cs / 8; j++) {
      const hi = tv.getUint32(j * 8);
      const lo = tv.getUint32(j * 8 + 4);
      if (hi & COMPRESSED_HI) throw notOurs('it has compressed clusters');
      const host = entryOffset(hi, lo);
      if (host !== 0 && !isUsed(host)) {
        tv.setBigUint64(j * 8, 0n);
        changed = true;
      }
    }
    if (changed) await dev.write(t, off);
  }
  const alloc = new ClusterAllocator(cs, {
    end,
    refblocks,
    reftableCluster: h.refcountTableOffset / cs,
    reftableClusters: h.refcountTableClusters,
    freed,
    flushedEnd: end,
  });
  const header = {
    version: h.version,
    clusterBits: h.clusterBits,
    size: h.size,
    cryptMethod: h.cryptMethod,
    l1Size: h.l1Size,
    l1TableOffset: h.l1TableOffset,
    ...(h.backingFile !== undefined ? { backingFile: h.backingFile } : {}),
    ...(h.backingFormat !== undefined ? { backingFormat: h.backingFormat } : {}),
    ...(h.cryptoHeader ? { cryptoHeader: h.cryptoHeader } : {}),
  };
  return new Qcow2Writer(dev, {
    header,
    l1,
    alloc,
    ...(opts.cipher ? { cipher: opts.cipher } : {}),
  });
}
