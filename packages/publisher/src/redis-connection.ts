import { createClient, type RedisClientType } from 'redis';
import { PublishError } from './errors.js';

/** A Redis client of the official `redis` package. */
export type RedisClient = RedisClientType;

const redactUrl = (url: string) => url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');

/**
 * The one Redis connection of a transport: a client made from a URL (owned: connected on first
 * use, closed with the transport) or the caller's client (left open). Commands fail at once while
 * Redis is unreachable (no hidden offline queue), and an outage never crashes the host process:
 * the client's errors are kept for the next rejection.
 */
export class RedisConnection {
  readonly client: RedisClient;
  /** The URL with its password hidden, or "the given Redis client": for messages. */
  readonly where: string;
  readonly #owned: boolean;
  readonly #connectTimeoutMs: number;
  #lastError = 'not connected yet';
  #connecting: Promise<unknown> | undefined;
  #waiting: Promise<void> | undefined;
  #closed = false;

  constructor(
    redis: string | RedisClient,
    options: { connectTimeoutMs?: number | undefined; onReady?: (() => void) | undefined } = {},
  ) {
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    if (typeof redis === 'string') {
      this.where = redactUrl(redis);
      const socket = redis.startsWith('unix://')
        ? { path: decodeURIComponent(new URL(redis).pathname) }
        : {};
      this.client = createClient({
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
      this.client = redis;
      this.where = 'the given Redis client';
      this.#owned = false;
    }
    this.client.on('error', (error: Error) => {
      this.#lastError = error.message || String(error);
    });
    const onReady = options.onReady;
    if (onReady) this.client.on('ready', () => onReady());
  }

  /** True while commands can be sent. */
  get isReady(): boolean {
    return this.client.isReady;
  }

  /** The connection's last error, for messages. */
  lastError(): string {
    return this.#lastError;
  }

  /** Asks for a connection (a no-op for a client the caller manages, or one already open). */
  connect(): void {
    if (!this.#owned || this.client.isOpen) return;
    this.#connecting ??= this.client.connect().catch((error: Error) => {
      this.#lastError = error.message;
    });
  }

  /**
   * Waits for the first connection (bounded), so the very first command does not fail spuriously.
   * Every caller waits on one promise, so they go on in the order they came: commands sent
   * while connecting keep their order.
   */
  async ready(what: string): Promise<void> {
    if (this.client.isReady) return;
    this.#waiting ??= this.#waitReady().finally(() => {
      this.#waiting = undefined;
    });
    await this.#waiting;
    if (!this.client.isReady) throw this.unavailable(what);
  }

  async #waitReady(): Promise<void> {
    this.connect();
    const deadline = Date.now() + this.#connectTimeoutMs;
    while (!this.client.isReady && Date.now() < deadline && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** HERALD_PUBLISH_REDIS_UNAVAILABLE: `cannot <what> (<where>): <reason>`. */
  unavailable(what: string, error?: unknown): PublishError {
    const reason = error instanceof Error ? error.message : this.#lastError;
    return new PublishError(
      'HERALD_PUBLISH_REDIS_UNAVAILABLE',
      `cannot ${what} (${this.where}): ${reason}`,
      { cause: error },
    );
  }

  /** Ends an owned connection (the caller's client stays open). */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#owned) return;
    if (this.client.isReady) await this.client.quit().catch(() => this.client.destroy());
    else if (this.client.isOpen) this.client.destroy();
  }
}
