import { HeraldError } from '../errors.js';
import type { RedisClient } from '../redis/client.js';

/** The X-Frappe-Socket-Secret to send. Read afresh for every backchannel attempt. */
export interface SocketSecret {
  get(): Promise<string | undefined>;
}

/** Frappe keeps the secret in Redis under `socketio_auth_secret`, and may create it at any time. */
export const SOCKET_SECRET_KEY = 'socketio_auth_secret';

/** Reads the secret from Redis each time (upstream read it once per connect, even for its retry). */
export class RedisSocketSecret implements SocketSecret {
  readonly #client: RedisClient;

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

  async get(): Promise<string | undefined> {
    try {
      // Just after start (or during a reconnect) Redis may be a moment away: wait a little.
      if (!this.#client.isReady && this.#client.isOpen) await this.#ready(1000);
      return (await this.#client.get(SOCKET_SECRET_KEY)) ?? undefined;
    } catch (error) {
      throw new HeraldError(
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
