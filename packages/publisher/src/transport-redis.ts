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
 * `PUBLISH events <json>` on Redis, as Frappe's publish_realtime does. A publish resolves only
 * once Redis says a subscriber of `events` (Herald) received it: PUBLISH answers with the number
 * of receivers, and 0 means the event reached nobody. Commands fail at once while Redis is
 * unreachable (no hidden offline queue). Without `retry`, a publish that Redis cannot take, or
 * that reached no subscriber, rejects at once; with `retry`, it waits in a bounded buffer, in
 * order, until a subscriber got it (see RetryBuffer).
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
    this.#buffer = options.retry
      ? new RetryBuffer(options.retry, {
          isReady: () => this.#client.isReady,
          lastError: () => this.#lastError,
          publish: (raw) => this.#publish(raw),
          connect: () => this.#connect(),
        })
      : undefined;
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
    this.#client.on('ready', () => this.#buffer?.wake());
  }

  async send(message: EventMessage): Promise<void> {
    if (this.#closed) throw new PublishError('HERALD_PUBLISH_CLOSED', 'the publisher is closed');
    const raw = serializeEventMessage(message);
    if (this.#buffer) return this.#buffer.push(raw);
    await this.#ready();
    let receivers: number;
    try {
      receivers = await this.#publish(raw);
    } catch (error) {
      throw this.#unavailable(error);
    }
    if (receivers === 0) {
      throw new PublishError(
        'HERALD_PUBLISH_NO_SUBSCRIBER',
        `Redis (${this.#where}) took the message but no subscriber of events got it: it reached nobody`,
      );
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

  /** PUBLISH events: resolves with the number of subscribers that received the message. */
  #publish(raw: string): Promise<number> {
    return this.#client.publish(EVENTS_CHANNEL, raw);
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
