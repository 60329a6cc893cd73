import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../logger.js';

/** A Redis client of the official `redis` package, as Herald uses it. */
export type RedisClient = RedisClientType;

/** Connection options of the official client for a redis://, rediss:// or unix:// URL. */
export function redisConnectOptions(url: string): { url?: string; socket?: { path: string } } {
  if (url.startsWith('unix://')) {
    const parsed = new URL(url);
    return { socket: { path: decodeURIComponent(parsed.pathname) } };
  }
  return { url };
}

/** Backoff between reconnect attempts: exponential from 100 ms, capped at 3 s, with jitter. */
export function reconnectDelay(retries: number): number {
  const base = Math.min(100 * 2 ** Math.min(retries, 10), 3000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Where the connection stands, for health and logs. */
export interface RedisState {
  ready: boolean;
  lastError?: string | undefined;
  reconnects: number;
}

/**
 * A client that never gives up reconnecting and never crashes the process: errors are logged once
 * per outage (with the URL), not once per attempt. `offlineQueue: false` makes commands fail at
 * once while disconnected instead of hanging.
 */
export function createRedis(
  url: string,
  { role, logger, offlineQueue }: { role: string; logger: Logger; offlineQueue: boolean },
): { client: RedisClient; state: RedisState } {
  const client = createClient({
    ...redisConnectOptions(url),
    disableOfflineQueue: !offlineQueue,
    socket: {
      ...redisConnectOptions(url).socket,
      connectTimeout: 5000,
      reconnectStrategy: reconnectDelay,
    },
  }) as RedisClient;
  const state: RedisState = { ready: false, reconnects: 0 };
  const log = logger.child({ redis: role });
  let wasReady = false;
  client.on('ready', () => {
    state.ready = true;
    state.lastError = undefined;
    log.info({ url: redactUrl(url) }, wasReady ? 'Redis reconnected' : 'Redis connected');
    wasReady = true;
  });
  client.on('error', (error: Error) => {
    const message = error.message || String(error);
    if (state.ready || state.lastError === undefined) {
      log.warn({ url: redactUrl(url), err: message }, 'Redis unavailable; retrying with backoff');
    } else {
      log.debug({ err: message }, 'Redis still unavailable');
    }
    state.ready = false;
    state.lastError = message;
  });
  client.on('reconnecting', () => {
    state.reconnects += 1;
  });
  client.on('end', () => {
    state.ready = false;
  });
  return { client, state };
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
