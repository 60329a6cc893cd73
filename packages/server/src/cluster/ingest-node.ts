import {
  type EventLimits,
  type EventMessage,
  parseEventMessage,
  serializeEventMessage,
} from '@herald/protocol';
import type { Broker } from '../bridge/broker.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { contentId, fencedXadd, Ingest } from './ingest.js';
import type { ClusterKeys } from './keys.js';
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
    broadcast: async (message, fence) => {
      const parsed = parseEventMessage(message.raw, parts.limits);
      // The router gave only good messages with a room; one that is not is skipped, not retried.
      if (!parsed.ok || parsed.message.room === null || !parsed.message.namespace) return;
      const { event, message: payload, room, namespace } = parsed.message;
      if (RESERVED_EVENTS.has(event)) return;
      const id = await fencedXadd(
        redis.commands,
        { stream: keys.stream, lease: keys.lease },
        fence.token,
        broadcastEntry(INGEST_UID, namespace, room, event, payload, {
          hid: message.id,
          he: fence.epoch,
        }),
        parts.streamLength,
      );
      if (id === null) throw new Error('the lease moved on: this write was refused');
      metrics.eventsOut.inc({ event: metrics.eventLabel(event) });
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
