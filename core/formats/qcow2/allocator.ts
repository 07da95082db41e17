/**
 * Append-only cluster allocator with exact refcounts for images we write (docs/spec/qcow2.md §8).
 *
 * Invariant: every cluster below `end` has refcount 1 except the `freed` ranges (old refcount
 * tables), which have refcount 0. Nothing is ever shared, so the refcount structures are a
 * pure function of `end` and `freed`; memory stays O(number of refcount blocks).
 */
import { type BlockDevice } from '../../io/block-device.js';
import { writeU64 } from './entries.js';

export const WRITER_REFCOUNT_ORDER = 4;
const REFCOUNT_BITS = 16;

export class ClusterAllocator {
  /** Clusters `[0, end)` are allocated. */
  end: number;
  /** Host cluster index of each refcount block (0 = none), by refcount-table index. */
  readonly refblocks: number[];
  reftableCluster: number;
  reftableClusters: number;
  /** Ranges `[start, start + count)` of clusters with refcount 0 below `end`. */
  readonly freed: [number, number][];
  /** Refcount blocks whose contents changed since the last flush. */
  private readonly dirty = new Set<number>();
  private flushedEnd: number;
  readonly perBlock: number;

  constructor(
    readonly clusterSize: number,
    state: {
      end: number;
      refblocks: number[];
      reftableCluster: number;
      reftableClusters: number;
      freed?: [number, number][];
      flushedEnd?: number;
    }
  ) {
    this.perBlock = (clusterSize * 8) / REFCOUNT_BITS;
    this.end = state.end;
    this.refblocks = state.refblocks;
    this.reftableCluster = state.reftableCluster;
    this.reftableClusters = state.reftableClusters;
    this.freed = state.freed ?? [];
    this.flushedEnd = state.flushedEnd ?? 0;
    this.ensureRefblocks();
  }

  /** Allocates `count` contiguous clusters; returns the host byte offset of the first. */
  alloc(count: number): number {
    const start = this.end;
    this.end += count;
    this.ensureRefblocks();
    return start * this.clusterSize;
  }

  /** Gives every covered range a refcount block and the table room for them. */
  private ensureRefblocks(): void {
    for (;;) {
      const need = Math.ceil(this.end / this.perBlock);
      const capacity = (this.reftableClusters * this.clusterSize) / 8;
      if (need > capacity) {
        this.freeRange(this.reftableCluster, this.reftableClusters);
        const clusters = Math.ceil(((need + 1) * 8 * 2) / this.clusterSize);
        this.reftableCluster = this.end;
        this.reftableClusters = clusters;
        this.end += clusters;
        continue;
      }
      let added = false;
      for (let i = 0; i < need; i++) {
        if (!this.refblocks[i]) {
          this.refblocks[i] = this.end;
          this.end += 1;
          added = true;
        }
      }
      if (!added) return;
    }
  }

  private freeRange(start: number, count: number): void {
    this.freed.push([start, count]);
    for (let c = start; c < start + count; c += this.perBlock) {
      this.dirty.add(Math.floor(c / this.perBlock));
    }
    this.dirty.add(Math.floor((start + count - 1) / this.perBlock));
  }

  /** Refcount of host cluster `c` under the invariant. */
  refcount(c: number): number {
    if (c >= this.end) return 0;
    for (const [s, n] of this.freed) if (c >= s && c < s + n) return 0;
    return 1;
  }

  /** Writes changed refcount blocks and the refcount table. */
  async writeRefcounts(dev: BlockDevice): Promise<void> {
    const cs = this.clusterSize;
    const first = Math.floor(this.flushedEnd / this.perBlock);
    const last = Math.ceil(this.end / this.perBlock);
    for (let i = first; i < last; i++) this.dirty.add(i);
    const block = new Uint8Array(cs);
    for (const i of [...this.dirty].sort((a, b) => a - b)) {
      const host = this.refblocks[i];
      if (!host) continue;
      block.fill(0);
      const base = i * this.perBlock;
      const used = Math.max(0, Math.min(this.perBlock, this.end - base));
      for (let k = 0; k < used; k++) block[k * 2 + 1] = 1;
      for (const [s, n] of this.freed) {
        for (let c = Math.max(s, base); c < Math.min(s + n, base + used); c++)
          block[(c - base) * 2 + 1] = 0;
      }
      await dev.write(block, host * cs);
    }
    this.dirty.clear();
    this.flushedEnd = this.end;
    const table = new Uint8Array(this.reftableClusters * cs);
    const tv = new DataView(table.buffer);
    this.refblocks.forEach((b, i) => {
      if (b) writeU64(tv, i * 8, b * cs);
    });
    await dev.write(table, this.reftableCluster * cs);
  }
}

/** Initial refcount-table size covering an image of `virtualSize` fully allocated. */
export function initialReftableClusters(virtualSize: number, clusterSize: number): number {
  const perBlock = (clusterSize * 8) / REFCOUNT_BITS;
  const dataClusters = Math.ceil(virtualSize / clusterSize);
  const l2Clusters = Math.ceil(dataClusters / (clusterSize / 8));
  const total = dataClusters + l2Clusters + 1024;
  const blocks = Math.ceil(total / perBlock) + 2;
  return Math.max(1, Math.min(Math.ceil((blocks * 8) / clusterSize), 64));
}
