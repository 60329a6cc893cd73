/** A value cache whose entries expire and whose size is bounded. */
export interface Cache<K, V> {
  /** The cached value, or loads it (once for concurrent callers); `ttlMs(value)` 0 keeps it uncached. */
  getOrLoad(key: K, load: () => Promise<V>, ttlMs: (value: V) => number): Promise<V>;
  /** The cached value if there is one that has not expired; nothing is loaded. */
  peek(key: K): V | undefined;
  delete(key: K): void;
  clear(): void;
  readonly size: number;
}

interface Entry<V> {
  value: V;
  expires: number;
  /** When it was last moved to the end (most recently used). */
  movedAt: number;
}

/** How often a hit moves its entry to the end, at most. */
const MOVE_EVERY_MS = 1000;

/**
 * In-process cache: entries expire after their TTL; past `maxEntries` the least recently used (to
 * the second) goes first. Concurrent loads of one key share one promise, and a failed load is
 * never kept.
 */
export class TtlCache<K, V> implements Cache<K, V> {
  readonly #entries = new Map<K, Entry<V>>();
  readonly #loading = new Map<K, Promise<V>>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The live entry of `key`, dropping an expired one. A hit moves the entry to the end (the Map's
   * order is the eviction order) at most once a second: a move is a delete and a set, and V8's Map
   * keeps deleted entries in their bucket's chain until it rehashes, so a key moved on every hit
   * makes its own lookups slower with each hit, more so the larger the Map.
   */
  #live(key: K): Entry<V> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const now = this.#now();
    if (entry.expires <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    if (now - entry.movedAt >= MOVE_EVERY_MS) {
      entry.movedAt = now;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  peek(key: K): V | undefined {
    return this.#live(key)?.value;
  }

  getOrLoad(key: K, load: () => Promise<V>, ttlMs: (value: V) => number): Promise<V> {
    const entry = this.#live(key);
    if (entry) return Promise.resolve(entry.value);
    const pending = this.#loading.get(key);
    if (pending) return pending;
    const loading = load().then(
      (value) => {
        this.#loading.delete(key);
        const ttl = ttlMs(value);
        if (ttl > 0) {
          const now = this.#now();
          this.#entries.set(key, { value, expires: now + ttl, movedAt: now });
          if (this.#entries.size > this.#maxEntries)
            this.#entries.delete(this.#entries.keys().next().value as K);
        }
        return value;
      },
      (error: unknown) => {
        this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, loading);
    return loading;
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
