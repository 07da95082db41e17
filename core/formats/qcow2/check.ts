/**
 * Consistency check mirroring `qemu-img check` (docs/spec/qcow2.md §14): rebuilds reference
 * counts from every structure in §8, compares them with the on-disk refcounts, and verifies
 * COPIED flags, reserved bits, alignment and bounds. Needs no secret.
 */
import { readExact, readOrZero, type BlockDevice } from '../../io/block-device.js';
import {
  COMPRESSED_HI,
  COPIED_HI,
  L1_RESERVED_HI,
  L1_RESERVED_LO,
  L2_RESERVED_HI,
  L2_RESERVED_LO,
  ZERO_LO,
  decodeCompressed,
  entryOffset,
  getRefcount,
} from './entries.js';
import { readQcow2Header, type Qcow2Header } from './header.js';
import { readSnapshotTable } from './snapshots.js';

export interface Qcow2CheckResult {
  corruptions: number;
  leaks: number;
  messages: string[];
  imageEndOffset: number;
  allocatedClusters: number;
  totalClusters: number;
  fragmentedClusters: number;
  compressedClusters: number;
}

const MAX_MESSAGES = 1000;
const hex = (n: number) => `0x${n.toString(16)}`;

class Checker {
  readonly res: Qcow2CheckResult;
  readonly cs: number;
  readonly nb: number;
  /** Computed references per host cluster (saturating). */
  readonly refs: Uint16Array;
  /** On-disk refcounts per host cluster (saturating). */
  readonly disk: Uint16Array;
  private nextContiguous = 0;

  constructor(
    readonly dev: BlockDevice,
    readonly h: Qcow2Header
  ) {
    this.cs = h.clusterSize;
    this.nb = Math.ceil(h.fileSize / this.cs);
    this.refs = new Uint16Array(this.nb);
    this.disk = new Uint16Array(this.nb);
    this.res = {
      corruptions: 0,
      leaks: 0,
      messages: [],
      imageEndOffset: 0,
      allocatedClusters: 0,
      totalClusters: Math.ceil(h.size / this.cs),
      fragmentedClusters: 0,
      compressedClusters: 0,
    };
  }

  say(msg: string): void {
    if (this.res.messages.length < MAX_MESSAGES) this.res.messages.push(msg);
  }

  corrupt(msg: string): void {
    this.res.corruptions++;
    this.say(`ERROR ${msg}`);
  }

  /** Adds one reference to every cluster touched by `[offset, offset + size)`. */
  inc(offset: number, size: number, what: string): void {
    if (size <= 0) return;
    const first = Math.floor(offset / this.cs);
    const last = Math.floor((offset + size - 1) / this.cs);
    if (last >= this.nb) {
      this.corrupt(`${what} at ${hex(offset)} lies outside the image`);
      return;
    }
    for (let c = first; c <= last; c++) if (this.refs[c]! < 0xffff) this.refs[c]!++;
  }

  diskRefcount(offset: number): number {
    const c = Math.floor(offset / this.cs);
    return c < this.nb ? this.disk[c]! : 0;
  }

  async readDiskRefcounts(): Promise<void> {
    const h = this.h;
    const cs = this.cs;
    const rt = new Uint8Array(h.refcountTableClusters * cs);
    await readOrZero(this.dev, rt, h.refcountTableOffset);
    const v = new DataView(rt.buffer);
    const perBlock = (cs * 8) / h.refcountBits;
    for (let i = 0; i < rt.length / 8; i++) {
      const hi = v.getUint32(i * 8);
      const lo = v.getUint32(i * 8 + 4);
      if (hi === 0 && lo === 0) continue;
      if (lo & 0x1ff) this.corrupt(`reftable entry ${i} has reserved bits set`);
      const off = (hi >>> 0) * 4294967296 + ((lo & 0xfffffe00) >>> 0);
      if (off % cs !== 0) {
        this.corrupt(`refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
        continue;
      }
      if (off + cs > this.nb * cs) {
        this.corrupt(`refcount block ${i} is outside image`);
        continue;
      }
      this.inc(off, cs, `refcount block ${i}`);
      const block = await readExact(this.dev, cs, off, 'refcount block');
      const base = i * perBlock;
      for (let k = 0; k < perBlock; k++) {
        const r = getRefcount(block, k, h.refcountBits);
        if (r === 0) continue;
        const c = base + k;
        if (c < this.nb) this.disk[c] = Math.min(r, 0xffff);
        else {
          this.res.leaks++;
          this.say(`Leaked cluster ${c} refcount=${r} reference=0 (past the end of the file)`);
        }
      }
    }
  }

  async walkL1(l1Offset: number, l1Size: number, active: boolean): Promise<void> {
    const cs = this.cs;
    if (l1Size === 0) return;
    if (l1Offset % cs !== 0 || l1Offset + l1Size * 8 > this.h.fileSize) {
      this.corrupt(`L1 table at ${hex(l1Offset)} is misaligned or outside the image`);
      return;
    }
    this.inc(l1Offset, l1Size * 8, 'L1 table');
    const l1 = await readExact(this.dev, l1Size * 8, l1Offset, 'L1 table');
    const v = new DataView(l1.buffer);
    for (let i = 0; i < l1Size; i++) {
      const hi = v.getUint32(i * 8);
      const lo = v.getUint32(i * 8 + 4);
      if ((hi & L1_RESERVED_HI) !== 0 || (lo & L1_RESERVED_LO) !== 0) {
        this.corrupt(`found L1 entry with reserved bits set: ${i}`);
      }
      const off = entryOffset(hi, lo);
      if (off === 0) continue;
      if (off % cs !== 0) {
        this.corrupt(`L2 table offset ${hex(off)} is not cluster aligned; L1 entry corrupted`);
        continue;
      }
      if (off + cs > this.h.fileSize) {
        this.corrupt(`L2 table at ${hex(off)} lies outside the image`);
        continue;
      }
      this.inc(off, cs, 'L2 table');
      if (active && ((hi & COPIED_HI) !== 0) !== (this.diskRefcount(off) === 1)) {
        this.corrupt(`OFLAG_COPIED L2 cluster: l1_index=${i} refcount=${this.diskRefcount(off)}`);
      }
      const l2 = await readExact(this.dev, cs, off, 'L2 table');
      this.walkL2(new DataView(l2.buffer), active);
    }
  }

  walkL2(t: DataView, active: boolean): void {
    const h = this.h;
    const cs = this.cs;
    for (let j = 0; j < h.l2Entries; j++) {
      const at = j * h.l2EntrySize;
      const hi = t.getUint32(at);
      const lo = t.getUint32(at + 4);
      if (hi & COMPRESSED_HI) {
        if (hi & COPIED_HI) this.corrupt(`copied flag must never be set for compressed clusters`);
        const ref = decodeCompressed(hi, lo, h.clusterBits);
        this.inc(ref.offset, ref.length, 'compressed cluster');
        if (active) {
          this.res.allocatedClusters++;
          this.res.compressedClusters++;
          this.res.fragmentedClusters++;
          this.nextContiguous = 0;
        }
        continue;
      }
      if ((hi & L2_RESERVED_HI) !== 0 || (lo & (h.extendedL2 ? 0x1ff : L2_RESERVED_LO)) !== 0) {
        this.corrupt(`found L2 entry with reserved bits set: ${j}`);
      }
      if (h.extendedL2 && (t.getUint32(at + 8) & t.getUint32(at + 12)) !== 0) {
        this.corrupt(`corrupted subcluster allocation bitmap in L2 entry ${j}`);
      }
      const off = entryOffset(hi, lo);
      if (off === 0) continue;
      if (off % cs !== 0) {
        this.corrupt(
          `Cluster allocation offset ${hex(off)} not properly aligned; L2 entry corrupted.`
        );
        continue;
      }
      this.inc(off, cs, 'data cluster');
      if (!active) continue;
      if (((hi & COPIED_HI) !== 0) !== (this.diskRefcount(off) === 1)) {
        this.corrupt(
          `OFLAG_COPIED data cluster: l2_entry=${hex(off)} refcount=${this.diskRefcount(off)}`
        );
      }
      if (!(lo & ZERO_LO) || h.extendedL2) {
        this.res.allocatedClusters++;
        if (this.nextContiguous !== 0 && off !== this.nextContiguous) this.res.fragmentedClusters++;
        this.nextContiguous = off + cs;
      }
    }
  }

  compare(): void {
    let last = -1;
    for (let c = 0; c < this.nb; c++) {
      const d = this.disk[c]!;
      const r = this.refs[c]!;
      if (d > 0) last = c;
      if (d === r) continue;
      if (d > r) {
        this.res.leaks++;
        this.say(`Leaked cluster ${c} refcount=${d} reference=${r}`);
      } else {
        this.corrupt(`cluster ${c} refcount=${d} reference=${r}`);
      }
    }
    this.res.imageEndOffset = (last + 1) * this.cs;
  }
}

/** Checks `dev` like `qemu-img check`. Header-level problems throw typed errors. */
export async function checkQcow2(dev: BlockDevice): Promise<Qcow2CheckResult> {
  const h = await readQcow2Header(dev);
  const ck = new Checker(dev, h);
  ck.inc(0, h.clusterSize, 'header');
  await ck.readDiskRefcounts();
  ck.inc(h.refcountTableOffset, h.refcountTableClusters * h.clusterSize, 'refcount table');
  await ck.walkL1(h.l1TableOffset, h.l1Size, true);
  const { snapshots, bytes } = await readSnapshotTable(dev, h);
  ck.inc(h.snapshotsOffset, bytes, 'snapshot table');
  for (const s of snapshots) await ck.walkL1(s.l1TableOffset, s.l1Size, false);
  if (h.cryptoHeader) ck.inc(h.cryptoHeader.offset, h.cryptoHeader.length, 'encryption header');
  if (h.bitmaps) ck.say('Persistent bitmaps are not verified; their clusters may show as leaks');
  ck.compare();
  return ck.res;
}
