import { EVENTS_CHANNEL, type EventMessage, serializeEventMessage } from '@herald/protocol';
import { PublishError } from './errors.js';
import { type RedisClient, RedisConnection } from './redis-connection.js';
import { RetryBuffer } from './retry-buffer.js';
import type { Transport } from './transport.js';

export type { RedisClient } from './redis-connection.js';

/** Retry settings: how many messages, and for how long, to keep while Redis is down. */
export interface RetryOptions {
  maxQueued: number;
  maxAgeMs: number;
}

const WHAT = 'publish to Redis';

/**
 * `PUBLISH events <json>` on Redis, as Frappe's publish_realtime does. A publish resolves only
 * once Redis says a subscriber of `events` (Herald) received it: PUBLISH answers with the number
 * of receivers, and 0 means the event reached nobody. Commands fail at once while Redis is
 * unreachable (no hidden offline queue). Without `retry`, a publish that Redis cannot take, or
 * that reached no subscriber, rejects at once; with `retry`, it waits in a bounded buffer, in
 * order, until a subscriber got it (see RetryBuffer).
 */
export class RedisTransport implements Transport {
  readonly #redis: RedisConnection;
  readonly #buffer: RetryBuffer | undefined;
  #closed = false;

  constructor(
    redis: string | RedisClient,
    options: { retry?: RetryOptions | undefined; connectTimeoutMs?: number } = {},
  ) {
    this.#redis = new RedisConnection(redis, {
      connectTimeoutMs: options.connectTimeoutMs,
      onReady: () => this.#buffer?.wake(),
    });
    this.#buffer = options.retry
      ? new RetryBuffer(options.retry, {
          isReady: () => this.#redis.isReady,
          lastError: () => this.#redis.lastError(),
          publish: (raw) => this.#publish(raw),
          connect: () => this.#redis.connect(),
        })
      : undefined;
  }

  async send(message: EventMessage): Promise<void> {
    if (this.#closed) throw new PublishError('HERALD_PUBLISH_CLOSED', 'the publisher is closed');
    const raw = serializeEventMessage(message);
    if (this.#buffer) {
      await this.#buffer.push(raw);
      return;
    }
    await this.#redis.ready(WHAT);
    let receivers: number;
    try {
      receivers = await this.#publish(raw);
    } catch (error) {
      throw this.#redis.unavailable(WHAT, error);
    }
    if (receivers === 0) {
      throw new PublishError(
        'HERALD_PUBLISH_NO_SUBSCRIBER',
        `Redis (${this.#redis.where}) took the message but no subscriber of events got it: it reached nobody`,
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
    await this.#redis.close();
  }

  /** PUBLISH events: resolves with the number of subscribers that received the message. */
  #publish(raw: string): Promise<number> {
    return this.#redis.client.publish(EVENTS_CHANNEL, raw);
  }
}
