import {
  type EventLimits,
  type EventMessage,
  parseEventMessage,
  serializeEventMessage,
} from '@herald/protocol';
import type { Broker } from '../bridge/broker.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { contentId, Ingest } from './ingest.js';
import type { ClusterKeys } from './keys.js';
import { fencedXaddMany } from './lease.js';
import type { ClusterRedis } from './redis.js';

/** Event names Socket.IO reserves: never sent to clients as events (the router skips them too). */
export const RESERVED_EVENTS = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

/** The `uid` of entries the ingest writes: no node's adapter has it, so every node delivers them. */
export const INGEST_UID = 'ingest';

/**
 * One stream entry of a broadcast to one room, as the streams adapter writes them (pinned with
 * it): every node's reader delivers it to the room's sockets, with the entry id as the offset.
 */
export function broadcastEntry(
  uid: string,
  namespace: string,
  room: string,
  event: string,
  message: unknown,
  flags: Record<string, unknown>,
): Record<string, string> {
  return {
    uid,
    nsp: `/${namespace}`,
    type: '3',
    data: JSON.stringify({
      packet: { type: 2, data: [event, message] },
      opts: { rooms: [room], except: [], flags },
    }),
  };
}

/**
 * Events from the web processes, exactly once in the cluster: every node gives each message of
 * `events` with a room to the ingest (cluster/ingest.ts); the lease holder writes it to the stream
 * (fenced by the lease), and every node's reader delivers it.
 */
export function startIngest(parts: {
  nodeId: string;
  keys: ClusterKeys;
  redis: ClusterRedis;
  broker: Broker;
  streamLength: number;
  limits: EventLimits;
  logger: Logger;
  metrics: Metrics;
  /** Told when this node starts or stops holding the lease (the holder sweeps dead nodes). */
  onHolding?: (holding: boolean) => void;
}): Ingest {
  const { keys, redis, metrics, logger } = parts;
  const log = logger.child({ component: 'ingest' });
  const writer = new BatchWriter((entries, token) =>
    fencedXaddMany(
      redis.commands,
      { stream: keys.stream, lease: keys.lease },
      token,
      entries,
      parts.streamLength,
    ),
  );
  const ingest = new Ingest({
    client: redis.commands,
    nodeId: parts.nodeId,
    keys: {
      lease: keys.lease,
      epoch: keys.epoch,
      stream: keys.stream,
      releasedChannel: keys.leaseReleased,
    },
    subscribed: () => parts.broker.status().ready,
    entryUid: INGEST_UID,
    logger,
    broadcast: (message, fence) => {
      const parsed = parseEventMessage(message.raw, parts.limits);
      // The router gave only good messages with a room; one that is not is skipped, not retried.
      if (!parsed.ok || parsed.message.room === null || !parsed.message.namespace)
        return Promise.resolve();
      const { event, message: payload, room, namespace } = parsed.message;
      if (RESERVED_EVENTS.has(event)) return Promise.resolve();
      const entry = broadcastEntry(INGEST_UID, namespace, room, event, payload, {
        hid: message.id,
        he: fence.epoch,
      });
      metrics.eventsOut.inc({ event: metrics.eventLabel(event) });
      return writer.add(entry, fence.token);
    },
    onLeaseChange: (holding, reason) => {
      metrics.leaseChanges.inc({ reason });
      parts.onHolding?.(holding);
      if (holding) log.info({ node: parts.nodeId }, 'this node holds the ingest lease');
      else if (reason === 'released') log.info('this node released the ingest lease');
      else log.warn({ reason }, 'this node lost the ingest lease');
    },
  });
  return ingest;
}

/** The most characters of entries written in one script call. */
const BATCH_MAX_CHARS = 1024 * 1024;

/**
 * The holder's writes, gathered per turn: the broadcasts the ingest sends in one run (a burst)
 * go to Redis as one fenced call (in order, on one connection, as their calls came), so each node's
 * reader wakes once for the burst. Each broadcast's promise settles with its batch: rejected for
 * all of it when the lease moved on (then none of it was written).
 */
class BatchWriter {
  #batch:
    | { entries: Record<string, string>[]; chars: number; token: string; settle: Settle[] }
    | undefined;

  constructor(
    readonly write: (entries: Record<string, string>[], token: string) => Promise<string[] | null>,
  ) {}

  add(entry: Record<string, string>, token: string): Promise<void> {
    const chars = entry.data?.length ?? 0;
    let batch = this.#batch;
    if (batch && (batch.token !== token || batch.chars + chars > BATCH_MAX_CHARS)) {
      this.#flush();
      batch = undefined;
    }
    if (!batch) {
      batch = { entries: [], chars: 0, token, settle: [] };
      this.#batch = batch;
      queueMicrotask(() => {
        if (this.#batch === batch) this.#flush();
      });
    }
    batch.entries.push(entry);
    batch.chars += chars;
    return new Promise<void>((resolve, reject) => batch.settle.push({ resolve, reject }));
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (!batch) return;
    this.write(batch.entries, batch.token).then(
      (ids) => {
        const error =
          ids === null ? new Error('the lease moved on: this write was refused') : undefined;
        for (const s of batch.settle) {
          if (error) s.reject(error);
          else s.resolve();
        }
      },
      (error: unknown) => {
        for (const s of batch.settle) s.reject(error);
      },
    );
  }
}

interface Settle {
  resolve(): void;
  reject(error: unknown): void;
}

/** The `uid` of entries the HTTP publish API writes itself. */
export const API_UID = 'api';

/**
 * A broadcast straight to the stream, for the HTTP publish API in a cluster: the node that accepts
 * the request writes the entry itself (no lease, no `events` round trip), tagged with its content
 * id as ingest's entries are. Room-less messages go through `events` (they name no namespace).
 */
export function directBroadcast(
  redis: ClusterRedis,
  keys: ClusterKeys,
  streamLength: number,
): (message: EventMessage) => Promise<boolean> {
  return async (message) => {
    if (message.room === null || !message.namespace) return false;
    await redis.commands.xAdd(
      keys.stream,
      '*',
      broadcastEntry(API_UID, message.namespace, message.room, message.event, message.message, {
        hid: contentId(serializeEventMessage(message)),
      }),
      { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: streamLength } },
    );
    return true;
  };
}
