/** A small least-recently-used map (insertion order of `Map` gives the recency). */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(
    private readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void
  ) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Inserts; returns the evicted entry, if any. */
  set(key: K, value: V): [K, V] | undefined {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size <= this.capacity) return undefined;
    const oldest = this.map.entries().next().value as [K, V];
    this.map.delete(oldest[0]);
    this.onEvict?.(oldest[0], oldest[1]);
    return oldest;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  clear(): void {
    this.map.clear();
  }
}
