import { EVENTS_CHANNEL, type EventMessage, serializeEventMessage } from '@herald/protocol';
import { createClient, type RedisClientType } from 'redis';
import { PublishError } from './errors.js';
import { RetryBuffer } from './retry-buffer.js';
import type { Transport } from './transport.js';

/** A Redis client of the official `redis` package. */
export type RedisClient = RedisClientType;

/** Retry settings: how many messages, and for how long, to keep while Redis is down. */
export interface RetryOptions {
  maxQueued: number;
  maxAgeMs: number;
}

const redactUrl = (url: string) => url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');

/**
 * `PUBLISH events <json>` on Redis, as Frappe's publish_realtime does. Commands fail at once while
 * Redis is unreachable (no hidden offline queue): the publish rejects, or with `retry` it waits in
 * a bounded buffer and goes out, in order, once Redis is back.
 */
export class RedisTransport implements Transport {
  readonly #client: RedisClient;
  readonly #owned: boolean;
  readonly #where: string;
  readonly #buffer: RetryBuffer | undefined;
  readonly #connectTimeoutMs: number;
  #lastError = 'not connected yet';
  #connecting: Promise<unknown> | undefined;
  #closed = false;

  constructor(
    redis: string | RedisClient,
    options: { retry?: RetryOptions | undefined; connectTimeoutMs?: number } = {},
  ) {
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#buffer = options.retry ? new RetryBuffer(options.retry) : undefined;
    if (typeof redis === 'string') {
      this.#where = redactUrl(redis);
      const socket = redis.startsWith('unix://')
        ? { path: decodeURIComponent(new URL(redis).pathname) }
        : {};
      this.#client = createClient({
        ...(redis.startsWith('unix://') ? {} : { url: redis }),
        disableOfflineQueue: true,
        socket: {
          ...socket,
          connectTimeout: this.#connectTimeoutMs,
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
        },
      }) as RedisClient;
      this.#owned = true;
    } else {
      this.#client = redis;
      this.#where = 'the given Redis client';
      this.#owned = false;
    }
    // An outage must never crash the host process: errors are kept for the next rejection.
    this.#client.on('error', (error: Error) => {
      this.#lastError = error.message || String(error);
    });
    this.#client.on('ready', () => {
      void this.#buffer?.flush((raw) => this.#publish(raw));
    });
  }

  async send(message: EventMessage): Promise<void> {
    if (this.#closed) throw new PublishError('HERALD_PUBLISH_CLOSED', 'the publisher is closed');
    const raw = serializeEventMessage(message);
    if (this.#buffer && (this.#buffer.size > 0 || !this.#client.isReady)) {
      // Keep order: while anything waits, new messages wait behind it.
      const queued = this.#buffer.push(raw);
      if (this.#client.isReady) void this.#buffer.flush((text) => this.#publish(text));
      else this.#connect();
      return queued;
    }
    await this.#ready();
    try {
      await this.#publish(raw);
    } catch (error) {
      if (this.#buffer) return this.#buffer.push(raw);
      throw this.#unavailable(error);
    }
  }

  stats() {
    return { queued: this.#buffer?.size ?? 0, dropped: this.#buffer?.dropped ?? 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#buffer?.clear(
      new PublishError('HERALD_PUBLISH_CLOSED', 'the publisher was closed before Redis came back'),
    );
    if (!this.#owned) return;
    if (this.#client.isReady) await this.#client.quit().catch(() => this.#client.destroy());
    else if (this.#client.isOpen) this.#client.destroy();
  }

  #publish(raw: string): Promise<void> {
    return this.#client.publish(EVENTS_CHANNEL, raw).then(() => undefined);
  }

  #connect(): void {
    if (!this.#owned || this.#client.isOpen) return;
    this.#connecting ??= this.#client.connect().catch((error: Error) => {
      this.#lastError = error.message;
    });
  }

  /** Waits for the first connection (bounded), so the very first publish does not fail spuriously. */
  async #ready(): Promise<void> {
    if (this.#client.isReady) return;
    this.#connect();
    const deadline = Date.now() + this.#connectTimeoutMs;
    while (!this.#client.isReady && Date.now() < deadline && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!this.#client.isReady) throw this.#unavailable();
  }

  #unavailable(error?: unknown): PublishError {
    const reason = error instanceof Error ? error.message : this.#lastError;
    return new PublishError(
      'HERALD_PUBLISH_REDIS_UNAVAILABLE',
      `cannot publish to Redis (${this.#where}): ${reason}`,
      { cause: error },
    );
  }
}
