import { PublishError } from './errors.js';

interface Pending {
  raw: string;
  at: number;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Keeps messages, in order, while Redis is unreachable. Bounded in count and age: a message that
 * does not fit, or waits longer than `maxAgeMs`, is dropped, counted and its publish rejected.
 */
export class RetryBuffer {
  readonly #items: Pending[] = [];
  readonly #maxQueued: number;
  readonly #maxAgeMs: number;
  #timer: NodeJS.Timeout | undefined;
  dropped = 0;

  constructor(options: { maxQueued: number; maxAgeMs: number }) {
    this.#maxQueued = options.maxQueued;
    this.#maxAgeMs = options.maxAgeMs;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Queues a message; its promise settles when it is sent or dropped. */
  push(raw: string): Promise<void> {
    this.expire();
    if (this.#items.length >= this.#maxQueued) {
      this.dropped += 1;
      return Promise.reject(
        new PublishError(
          'HERALD_PUBLISH_BUFFER_FULL',
          `Redis is unreachable and ${this.#maxQueued} messages already wait: this one was dropped`,
        ),
      );
    }
    // Messages must expire even when nothing else happens: check while any wait.
    this.#timer ??= setInterval(
      () => {
        this.expire();
        if (this.#items.length === 0) {
          clearInterval(this.#timer);
          this.#timer = undefined;
        }
      },
      Math.max(20, Math.min(1000, this.#maxAgeMs / 4)),
    ).unref();
    return new Promise((resolve, reject) =>
      this.#items.push({ raw, at: Date.now(), resolve, reject }),
    );
  }

  /** Drops (and rejects) the messages older than the age limit. */
  expire(now = Date.now()): void {
    while (this.#items.length > 0 && now - this.#items[0]!.at > this.#maxAgeMs) {
      const item = this.#items.shift()!;
      this.dropped += 1;
      item.reject(
        new PublishError(
          'HERALD_PUBLISH_BUFFER_FULL',
          `Redis was unreachable for more than ${this.#maxAgeMs} ms: the message was dropped`,
        ),
      );
    }
  }

  /** Sends the waiting messages in order; stops (keeping the rest) at the first failure. */
  async flush(send: (raw: string) => Promise<void>): Promise<void> {
    this.expire();
    while (this.#items.length > 0) {
      const item = this.#items[0]!;
      try {
        await send(item.raw);
      } catch {
        return;
      }
      this.#items.shift();
      item.resolve();
    }
  }

  /** Rejects everything still waiting. */
  clear(reason: PublishError): void {
    for (const item of this.#items.splice(0)) item.reject(reason);
  }
}
