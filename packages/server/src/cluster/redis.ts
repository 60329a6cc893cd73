import type { Logger } from '../logger.js';
import { createRedis, type RedisClient, type RedisState } from '../redis/client.js';

/** The cluster's connections to Redis: the adapter's commands, and its reader and subscriber. */
export interface ClusterRedis {
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
export function createClusterRedis(url: string, stream: string, logger: Logger): ClusterRedis {
  const { client, state } = createRedis(url, { role: 'cluster', logger, offlineQueue: false });
  const duplicates: RedisClient[] = [];
  let resolveStart!: (id: string) => void;
  const readerStart = new Promise<string>((resolve) => {
    resolveStart = resolve;
  });
  const baseDuplicate = client.duplicate.bind(client);
  (client as { duplicate: unknown }).duplicate = (overrides?: object) => {
    const duplicate = baseDuplicate({ ...overrides, disableOfflineQueue: false }) as RedisClient;
    duplicates.push(duplicate);
    const baseXRead = duplicate.xRead.bind(duplicate) as (
      streams: XReadStreams,
      options?: object,
    ) => Promise<unknown>;
    let last: string | undefined;
    (duplicate as { xRead: unknown }).xRead = async (streams: XReadStreams, options?: object) => {
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
