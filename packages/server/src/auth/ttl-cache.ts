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

/**
 * In-process cache: entries expire after their TTL; past `maxEntries` the least recently used
 * goes first. Concurrent loads of one key share one promise, and a failed load is never kept.
 */
export class TtlCache<K, V> implements Cache<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number }>();
  readonly #loading = new Map<K, Promise<V>>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live entry of `key` (now the most recently used), dropping an expired one. */
  #live(key: K): { value: V } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= Date.now()) return undefined;
    this.#entries.set(key, entry); // most recently used last
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
          this.#entries.set(key, { value, expires: Date.now() + ttl });
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
