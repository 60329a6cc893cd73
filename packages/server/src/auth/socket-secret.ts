import type { RedisClient } from '../redis/client.js';
import { BackendError } from './backend-error.js';

/**
 * The X-Frappe-Socket-Secret to send, read for every backchannel attempt. Attempts made at the same
 * time may share one read; `fresh` asks for a read of its own, started now (a retry after an
 * answer that may have created the secret).
 */
export interface SocketSecret {
  get(options?: { fresh?: boolean }): Promise<string | undefined>;
}

/** Frappe keeps the secret in Redis under `socketio_auth_secret`, and may create it at any time. */
export const SOCKET_SECRET_KEY = 'socketio_auth_secret';

/**
 * Reads the secret from Redis for every attempt (upstream read it once per connect, even for its
 * retry). Attempts that start while a read is under way share it: under a burst of backchannel
 * calls, one GET serves them all instead of one GET each.
 */
export class RedisSocketSecret implements SocketSecret {
  readonly #client: RedisClient;
  #reading: Promise<string | undefined> | undefined;

  constructor(client: RedisClient) {
    this.#client = client;
  }

  /** Resolves when the client is ready, or after `ms` (the command then fails with the reason). */
  #ready(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#client.on('ready', done);
    });
  }

  get(options: { fresh?: boolean } = {}): Promise<string | undefined> {
    if (options.fresh) return this.#read();
    if (!this.#reading) {
      const reading = this.#read().finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
      this.#reading = reading;
    }
    return this.#reading;
  }

  async #read(): Promise<string | undefined> {
    try {
      // Just after start (or during a reconnect) Redis may be a moment away: wait a little.
      if (!this.#client.isReady && this.#client.isOpen) await this.#ready(1000);
      return (await this.#client.get(SOCKET_SECRET_KEY)) ?? undefined;
    } catch (error) {
      throw new BackendError(
        'HERALD_SECRET_UNAVAILABLE',
        `cannot read ${SOCKET_SECRET_KEY} from Redis (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
}

/** A fixed secret (or none), for the in-memory mode. */
export class StaticSocketSecret implements SocketSecret {
  readonly #value: string | undefined;

  constructor(value: string | undefined) {
    this.#value = value;
  }

  async get(): Promise<string | undefined> {
    return this.#value;
  }
}
