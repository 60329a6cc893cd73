import { type EventLimits, type MalformedKind, parseEventMessage } from '@herald/protocol';
import type { Namespace, Server } from 'socket.io';
import { RESERVED_EVENTS } from '../cluster/ingest-node.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { isSiteNamespace } from '../namespaces.js';
import { namespacesOf } from '../socketio/namespaces.js';

/** Why a message was skipped: the parser's reasons, plus an event name Socket.IO reserves. */
export type SkipKind = MalformedKind | 'reserved_event';

/** What the router has done since start. */
export interface RouterStats {
  routed: number;
  skipped: Record<SkipKind, number>;
}

/**
 * Routes messages of the `events` channel to rooms (section 6): with a room, to that room of the
 * namespace `/<namespace>`; without, to every site namespace of this server. Emits are local to
 * this process: every Herald process subscribes to `events` itself, so going through a
 * cross-process adapter would deliver twice. In a cluster, a message with a room goes to the
 * ingest instead, whose lease holder broadcasts it once to every node (room-less ones stay local). A bad message is logged (once per kind), counted and
 * skipped; it never throws.
 */
export class EventRouter {
  readonly stats: RouterStats = {
    routed: 0,
    skipped: {
      malformed_json: 0,
      not_an_object: 0,
      missing_event: 0,
      bad_room: 0,
      missing_namespace: 0,
      too_deep: 0,
      too_large: 0,
      reserved_event: 0,
    },
  };
  readonly #io: Server;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #limits: EventLimits;
  /** In a cluster: where messages with a room go instead (every node takes each; one sends it). */
  ingest: { take(raw: string): void } | undefined;

  /** `limits.maxBytes`: the largest message routed (--max-message-bytes). */
  constructor(io: Server, logger: Logger, metrics?: Metrics, limits: EventLimits = {}) {
    this.#io = io;
    this.#limits = limits;
    this.#log = logger.child({ component: 'bridge' });
    this.#metrics = metrics;
  }

  /** Routes one raw message, received from `source` (redis or memory). */
  route(raw: string, source = 'redis'): void {
    const started = process.hrtime.bigint();
    this.#metrics?.eventsIn.inc({ source });
    const parsed = parseEventMessage(raw, this.#limits);
    if (!parsed.ok) {
      this.#skip(parsed.kind, parsed.reason, raw);
      return;
    }
    const { event, message, room, namespace } = parsed.message;
    if (room !== null && this.ingest) {
      // A cluster: the ingest lease's holder broadcasts it to every node (cluster/ingest-node.ts).
      if (RESERVED_EVENTS.has(event)) {
        this.#skip('reserved_event', `event "${event}" is reserved by Socket.IO`, raw);
        return;
      }
      this.ingest.take(raw);
      this.stats.routed += 1;
      return;
    }
    try {
      if (room !== null) {
        namespacesOf<Namespace>(this.#io).get(`/${namespace}`)?.local.to(room).emit(event, message);
      } else {
        for (const nsp of namespacesOf<Namespace>(this.#io).values()) {
          if (isSiteNamespace(nsp.name)) nsp.local.emit(event, message);
        }
      }
      this.stats.routed += 1;
      if (this.#metrics) {
        this.#metrics.eventsOut.inc({ event: this.#metrics.eventLabel(event) });
        this.#metrics.routeSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    } catch (error) {
      // Socket.IO throws for its reserved names (connect, disconnect, ...).
      this.#skip(
        'reserved_event',
        `event "${event}" cannot be emitted: ${(error as Error).message}`,
        raw,
      );
    }
  }

  #skip(kind: SkipKind, reason: string, raw: string): void {
    this.stats.skipped[kind] += 1;
    this.#metrics?.skipped.inc({ kind });
    const sample = raw.length > 200 ? `${raw.slice(0, 200)}…` : raw;
    const fields = { kind, reason, sample, count: this.stats.skipped[kind] };
    if (this.stats.skipped[kind] === 1) {
      this.#log.warn(
        fields,
        'skipped a message on the events channel; publishers must send {"event", "message", "room", "namespace"} (further messages of this kind are logged at debug level)',
      );
    } else {
      this.#log.debug(fields, 'skipped a message on the events channel');
    }
  }
}
