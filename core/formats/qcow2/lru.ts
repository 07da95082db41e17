/** A small least-recently-used map (insertion order of `Map` gives the recency). */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  /** The most recently used key while `hasNewest`: hits on it need no reordering. */
  private newest: K | undefined;
  private hasNewest = false;

  constructor(
    private readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void
  ) {}

  get(key: K): V | undefined {
    if (this.hasNewest && key === this.newest) return this.map.get(key);
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
      this.newest = key;
      this.hasNewest = true;
    }
    return v;
  }

  /** Inserts; returns the evicted entry, if any. */
  set(key: K, value: V): [K, V] | undefined {
    this.map.delete(key);
    this.map.set(key, value);
    this.newest = key;
    this.hasNewest = true;
    if (this.map.size <= this.capacity) return undefined;
    const oldest = this.map.entries().next().value as [K, V];
    this.map.delete(oldest[0]);
    if (this.map.size === 0) this.hasNewest = false;
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
    this.hasNewest = false;
    this.newest = undefined;
  }
}
