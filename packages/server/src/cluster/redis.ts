import { createCluster } from 'redis';
import type { Logger } from '../logger.js';
import {
  createRedis,
  type RedisClient,
  type RedisState,
  reconnectDelay,
  redactUrl,
} from '../redis/client.js';

/** The cluster's connections to Redis: the adapter's commands, and its reader and subscriber. */
export interface ClusterRedis {
  /** Whether it is a Redis Cluster (several URLs): requests then use sharded pub/sub. */
  readonly sharded: boolean;
  /** Commands (XADD, sessions, requests): no offline queue, so an emit fails fast while Redis is away. */
  readonly commands: RedisClient;
  readonly state: RedisState;
  /** The stream entry id the node's reader started after (once its first read is sent). */
  readonly readerStart: Promise<string>;
  /** Waits for the commands connection (bounded), for a start that reports Redis as it is. */
  connect(timeoutMs: number): Promise<boolean>;
  /** Ends the commands connection after what is queued on it, then the reader and subscriber. */
  close(): Promise<void>;
}

type XReadStreams = { key: string; id: string }[];

/**
 * The clients given to the streams adapter. Its reader and subscriber are duplicates of the
 * command client, made by the adapter; they get the offline queue back (a reader without one
 * spins while Redis is away: docs/cluster-design.md 3.8), and the reader's `$` start is made an
 * explicit id, kept between reads: the adapter reads from `$` again after each empty read, which
 * would skip what was added between two reads, and the node must know where its reader began
 * (socketio/streams-adapter.ts cuts restores there).
 */
export function createClusterRedis(urls: string[], stream: string, logger: Logger): ClusterRedis {
  const sharded = urls.length > 1;
  const { client, state } = sharded
    ? createRedisCluster(urls, logger)
    : createRedis(urls[0]!, { role: 'cluster', logger, offlineQueue: false });
  const duplicates: RedisClient[] = [];
  let closed = false;
  let resolveStart!: (id: string) => void;
  const readerStart = new Promise<string>((resolve) => {
    resolveStart = resolve;
  });
  const baseDuplicate = client.duplicate.bind(client);
  (client as { duplicate: unknown }).duplicate = (overrides?: object) => {
    const duplicate = (
      sharded
        ? (baseDuplicate as (o: object) => unknown)({
            ...overrides,
            defaults: { ...CLUSTER_DEFAULTS, disableOfflineQueue: false },
          })
        : baseDuplicate({ ...overrides, disableOfflineQueue: false })
    ) as RedisClient;
    duplicates.push(duplicate);
    // The adapter disconnects its reader and subscriber when its last namespace closes, without
    // handling a rejection; Herald has closed them by then (close below).
    const baseDisconnect = duplicate.disconnect.bind(duplicate);
    (duplicate as { disconnect: unknown }).disconnect = () =>
      duplicate.isOpen ? baseDisconnect().catch(() => undefined) : Promise.resolve();
    const baseXRead = duplicate.xRead.bind(duplicate) as (
      streams: XReadStreams,
      options?: object,
    ) => Promise<unknown>;
    let last: string | undefined;
    (duplicate as { xRead: unknown }).xRead = async (streams: XReadStreams, options?: object) => {
      // Closed: the adapter's reader, which reads again at once after a failed read, waits here
      // for good instead of spinning.
      if (closed) return new Promise(() => undefined);
      const wanted = streams[0];
      if (wanted?.key === stream && wanted.id === '$') {
        if (last === undefined) {
          const newest = await duplicate.xRevRange(stream, '+', '-', { COUNT: 1 });
          last = newest[0]?.id ?? '0-0';
          resolveStart(last);
        }
        streams = [{ key: stream, id: last }];
      }
      const reply = (await baseXRead(streams, options)) as { messages: { id: string }[] }[] | null;
      const messages = reply?.[0]?.messages;
      if (messages && messages.length > 0) last = messages[messages.length - 1]!.id;
      return reply;
    };
    return duplicate;
  };
  return {
    sharded,
    commands: client,
    state,
    readerStart,
    async connect(timeoutMs) {
      const connecting = client.connect().then(
        () => true,
        () => false,
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const connected = await Promise.race([connecting, timeout]);
      clearTimeout(timer);
      return connected;
    },
    async close() {
      closed = true;
      try {
        if (client.isOpen) await client.close();
      } catch {
        client.destroy();
      }
      for (const duplicate of duplicates) {
        try {
          if (duplicate.isOpen) duplicate.destroy();
        } catch {
          // Already closed.
        }
      }
    },
  };
}

/** What every node connection of a Redis Cluster client gets. */
const CLUSTER_DEFAULTS = {
  disableOfflineQueue: true,
  socket: { connectTimeout: 5000, reconnectStrategy: reconnectDelay },
};

/**
 * A Redis Cluster client of the official package (its root nodes: the URLs), typed as the
 * standalone client where the commands Herald and the adapter use are the same.
 */
function createRedisCluster(
  urls: string[],
  logger: Logger,
): { client: RedisClient; state: RedisState } {
  const first = new URL(urls[0]!.replace(/^unix:/, 'redis:'));
  const cluster = createCluster({
    rootNodes: urls.map((url) => ({ url: url.replace(/^unix:/, 'redis:') })),
    defaults: {
      ...CLUSTER_DEFAULTS,
      ...(first.password && { password: decodeURIComponent(first.password) }),
      ...(first.username && { username: decodeURIComponent(first.username) }),
    },
  });
  const state: RedisState = { ready: false, reconnects: 0 };
  const log = logger.child({ redis: 'cluster' });
  cluster.on('error', (error: Error) => {
    if (state.ready || state.lastError === undefined)
      log.warn(
        { urls: urls.map(redactUrl), err: error.message },
        'Redis Cluster unavailable; retrying',
      );
    state.ready = false;
    state.lastError = error.message;
  });
  const connect = cluster.connect.bind(cluster);
  (cluster as { connect: unknown }).connect = async () => {
    await connect();
    state.ready = true;
    state.lastError = undefined;
    log.info({ urls: urls.map(redactUrl) }, 'Redis Cluster connected');
    return cluster;
  };
  return { client: cluster as unknown as RedisClient, state };
}
