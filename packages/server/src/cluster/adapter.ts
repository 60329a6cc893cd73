import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Adapter } from 'socket.io-adapter';
import { HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { lingerEmptiedRooms } from '../rooms/rooms-adapter.js';
import { oneRoomApply } from '../socketio/adapter.js';
import type { AdapterInternals } from '../socketio/internals.js';
import {
  checkStreamsAdapter,
  patchStreamsAdapter,
  type RestoreOutcome,
  sessionsBeingStored,
} from '../socketio/streams-adapter.js';
import type { ClusterKeys } from './keys.js';
import type { ClusterRedis } from './redis.js';
import { decodeSession, encodeSession } from './session-codec.js';

/** The adapter version Herald pins and patches (socketio/streams-adapter.ts). */
export const STREAMS_ADAPTER_VERSION = '0.3.1';

/** How often at most an undersized stream is warned about. */
const TRIMMED_WARNING_MS = 10 * 60_000;

/** The cluster's Socket.IO adapter: the streams adapter with Herald's changes, per namespace. */
export interface ClusterAdapter {
  /** For Socket.IO's `adapter` option (a function Socket.IO calls with `new`). */
  readonly adapter: typeof Adapter;
  /** Resolves once every session being stored has reached Redis (or failed). */
  stored(): Promise<void>;
}

export function createClusterAdapter(parts: {
  redis: ClusterRedis;
  keys: ClusterKeys;
  streamLength: number;
  recoveryWindowMs: number;
  logger: Logger;
  metrics: () => Metrics | undefined;
}): ClusterAdapter {
  const { redis, keys, logger, metrics } = parts;
  const log = logger.child({ component: 'cluster' });
  const base = createAdapter(redis.commands as never, {
    streamName: keys.stream,
    maxLen: parts.streamLength,
    readCount: 100,
    blockTimeInMs: 5000,
    channelPrefix: keys.channelPrefix,
    sessionKeyPrefix: keys.sessionKeyPrefix,
    // Herald's events are JSON: no binary check per broadcast.
    onlyPlaintext: true,
    // A Redis Cluster: requests over sharded pub/sub (SPUBLISH), each channel on one shard.
    useShardedPubSub: redis.sharded,
  });
  const live = new Set<object>();
  /** Closed adapters' sessions still on their way to Redis. */
  const closing = new Set<Promise<unknown>>();
  let lastTrimmedWarning = Number.NEGATIVE_INFINITY;
  const onRestore = (outcome: RestoreOutcome, detail: { pid: string; offset: string }) => {
    metrics()?.recoveries.inc({ outcome });
    log.debug({ outcome, pid: detail.pid, offset: detail.offset }, 'session restore');
    if (outcome !== 'offset_trimmed') return;
    const now = Date.now();
    if (now - lastTrimmedWarning < TRIMMED_WARNING_MS) return;
    lastTrimmedWarning = now;
    log.warn(
      { offset: detail.offset, streamLength: parts.streamLength },
      `a client came back within --recovery-window (${parts.recoveryWindowMs} ms) but the cluster's stream no longer holds its last event: it reconnects with recovered: false. Set --cluster-stream-length to at least the peak events/s × the window in seconds × 1.5 (see the README, Running a cluster)`,
    );
  };

  function HeraldClusterAdapter(this: unknown, nsp: unknown) {
    const adapter = (base as (nsp: unknown) => object)(nsp);
    const missing = checkStreamsAdapter(adapter);
    if (missing.length > 0) {
      throw new HeraldError(
        'HERALD_CLUSTER_INCOMPATIBLE',
        `the installed @socket.io/redis-streams-adapter lacks ${missing.join(', ')}`,
      );
    }
    patchStreamsAdapter(adapter, {
      commands: redis.commands as never,
      stream: keys.stream,
      sessionKeyPrefix: keys.sessionKeyPrefix,
      readerStart: redis.readerStart,
      sessionTtlMs: parts.recoveryWindowMs,
      encodeData: (data) =>
        encodeSession(data as never, (key) =>
          log.warn(
            { key },
            'a handler state value is not plain data and does not move with its session (keep handler state to JSON values)',
          ),
        ),
      decodeData: decodeSession,
      onRestore,
      onPublishFailure: (error) => {
        metrics()?.clusterPublishFailures.inc();
        log.debug({ err: (error as Error)?.message }, 'a broadcast could not reach the stream');
      },
      onPersistFailure: (error) => {
        metrics()?.clusterPersistFailures.inc();
        log.warn(
          { err: (error as Error)?.message },
          'a session could not be stored in Redis: its client reconnects with recovered: false',
        );
      },
    });
    const internals = adapter as unknown as AdapterInternals & {
      del(id: string, room: string): void;
      emit(event: string, ...args: unknown[]): boolean;
      close(): Promise<void> | void;
    };
    internals.apply = oneRoomApply(internals.apply);
    const stopLingering = lingerEmptiedRooms(internals);
    const baseClose = internals.close;
    internals.close = () => {
      stopLingering();
      live.delete(adapter);
      // Sessions stored as its sockets closed may still be on their way to Redis.
      const storing: Promise<unknown> = sessionsBeingStored(adapter).then((): boolean =>
        closing.delete(storing),
      );
      closing.add(storing);
      return baseClose.call(adapter);
    };
    live.add(adapter);
    return adapter;
  }

  return {
    adapter: HeraldClusterAdapter as unknown as typeof Adapter,
    async stored() {
      await Promise.all([...[...live].map((adapter) => sessionsBeingStored(adapter)), ...closing]);
    },
  };
}
