/** Where the connection stands. */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** A value that tells its subscribers when it changes. */
export interface Observable<T> {
  get(): T;
  /** Calls `fn` with the current value now and with every change; returns the unsubscribe. */
  subscribe(fn: (value: T) => void): () => void;
}

/** An observable that the owner sets. */
export class Store<T> implements Observable<T> {
  #value: T;
  readonly #subscribers = new Set<(value: T) => void>();

  constructor(value: T) {
    this.#value = value;
  }

  get(): T {
    return this.#value;
  }

  set(value: T): void {
    if (value === this.#value) return;
    this.#value = value;
    for (const fn of [...this.#subscribers]) fn(value);
  }

  subscribe(fn: (value: T) => void): () => void {
    this.#subscribers.add(fn);
    fn(this.#value);
    return () => this.#subscribers.delete(fn);
  }
}
