import { EVENTS_CHANNEL } from '@herald/protocol';
import type { Logger } from '../logger.js';
import { createRedis, type RedisClient, type RedisState } from '../redis/client.js';
import type { Broker } from './broker.js';

/**
 * Frappe's bridge: SUBSCRIBE `events` on Redis. The official client resubscribes by itself after
 * a reconnect; a Redis that is down at start is retried with backoff while the server serves.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  readonly #subscriber: { client: RedisClient; state: RedisState };
  readonly #commands: { client: RedisClient; state: RedisState };
  #subscribed = false;

  constructor(url: string, logger: Logger) {
    this.#subscriber = createRedis(url, { role: 'subscriber', logger, offlineQueue: true });
    this.#commands = createRedis(url, { role: 'commands', logger, offlineQueue: false });
  }

  /** The command connection (GET socketio_auth_secret, PUBLISH). */
  get commands(): RedisClient {
    return this.#commands.client;
  }

  async start(onMessage: (raw: string) => void): Promise<void> {
    const sub = this.#subscriber.client;
    this.#commands.client.connect().catch(() => undefined);
    // connect() retries in the background until Redis answers. SUBSCRIBE is sent only after it
    // did: the official client mishandles a subscription queued before its first connection.
    // After later outages the client resubscribes by itself.
    sub
      .connect()
      .then(() => sub.subscribe(EVENTS_CHANNEL, (message: string) => onMessage(message)))
      .then(() => {
        this.#subscribed = true;
      })
      .catch(() => undefined);
  }

  async publish(raw: string, channel: string = EVENTS_CHANNEL): Promise<void> {
    await this.#commands.client.publish(channel, raw);
  }

  reconnects(): number {
    return this.#subscriber.state.reconnects + this.#commands.state.reconnects;
  }

  status() {
    if (!this.#subscriber.state.ready || !this.#subscribed) {
      return {
        ready: false,
        detail: `not subscribed to events: ${this.#subscriber.state.lastError ?? 'connecting'}`,
      };
    }
    if (!this.#commands.state.ready) {
      return {
        ready: false,
        detail: `command connection down: ${this.#commands.state.lastError ?? 'connecting'}`,
      };
    }
    return { ready: true };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#subscriber.client, this.#commands.client].map(closeClient));
  }
}

/** QUIT when connected (bounded in time), else drop the connection attempt. */
async function closeClient(client: RedisClient): Promise<void> {
  if (!client.isReady) {
    if (client.isOpen) client.destroy();
    return;
  }
  const timer = setTimeout(() => client.destroy(), 2000);
  try {
    await client.quit();
  } catch {
    client.destroy();
  } finally {
    clearTimeout(timer);
  }
}
