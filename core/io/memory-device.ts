/** In-memory `BlockDevice` for unit tests and small scratch images. */
import type { BlockDevice } from './block-device.js';

export class MemoryDevice implements BlockDevice {
  readonly path: string | undefined;
  private data: Uint8Array;
  private length: number;

  constructor(
    initial: Uint8Array = new Uint8Array(0),
    readonly writable = true,
    path?: string
  ) {
    this.data = new Uint8Array(Math.max(initial.length, 4096));
    this.data.set(initial);
    this.length = initial.length;
    this.path = path;
  }

  async size(): Promise<number> {
    return this.length;
  }

  async read(buf: Uint8Array, position: number): Promise<number> {
    const n = Math.max(0, Math.min(buf.length, this.length - position));
    buf.set(this.data.subarray(position, position + n));
    return n;
  }

  async write(buf: Uint8Array, position: number): Promise<void> {
    if (!this.writable) throw new Error('MemoryDevice is read-only');
    this.ensure(position + buf.length);
    this.data.set(buf, position);
    this.length = Math.max(this.length, position + buf.length);
  }

  async truncate(length: number): Promise<void> {
    this.ensure(length);
    if (length < this.length) this.data.fill(0, length, this.length);
    this.length = length;
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}

  /** A copy of the current contents. */
  bytes(): Uint8Array {
    return this.data.slice(0, this.length);
  }

  private ensure(capacity: number): void {
    if (capacity <= this.data.length) return;
    const next = new Uint8Array(Math.max(capacity, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
