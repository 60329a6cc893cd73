import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { siteNamespaces } from './namespaces.js';
import type { HeraldIo } from './session.js';

/** At most this many distinct event names are labelled; the rest count as "other". */
const MAX_EVENT_LABELS = 200;

/**
 * Herald's Prometheus metrics (prom-client), on a registry of its own so that several servers in
 * one process (tests, embedding) do not collide.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #events = new Set<string>();

  readonly connects = new Counter({
    name: 'herald_connections_total',
    help: 'Socket connections by outcome (accepted, rejected) and reason code',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });
  readonly eventsIn = new Counter({
    name: 'herald_events_in_total',
    help: 'Messages received on the events channel, by source (redis, memory)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly eventsOut = new Counter({
    name: 'herald_events_out_total',
    help: 'Events emitted to rooms, by event name',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'herald_events_skipped_total',
    help: 'Malformed messages on the events channel, skipped, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly routeSeconds = new Histogram({
    name: 'herald_publish_to_emit_seconds',
    help: 'Time from receiving a published message to handing it to the sockets',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly backchannelCalls = new Counter({
    name: 'herald_backchannel_requests_total',
    help: 'Backchannel requests to the web server, by endpoint and outcome (ok, or the error code)',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly backchannelSeconds = new Histogram({
    name: 'herald_backchannel_seconds',
    help: 'Backchannel request latency, by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly handlerCalls = new Counter({
    name: 'herald_handler_calls_total',
    help: 'App handler calls, by app, event and outcome (ok, failed)',
    labelNames: ['app', 'event', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly encodeFailures = new Counter({
    name: 'herald_encode_failures_total',
    help: 'Packets that could not be encoded for a client (sent to nobody; the log has the event)',
    registers: [this.registry],
  });
  readonly limited = new Counter({
    name: 'herald_requests_limited_total',
    help: 'Client events refused by a per-socket limit, by limit (rate, rooms, open_docs, name_length)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'herald_sockets_dropped_total',
    help: 'Connections Herald closed to protect the server, by reason (rate_limited, outgoing_buffer)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly recoveries = new Counter({
    name: 'herald_recoveries_total',
    help: 'Clients that came back after losing their connection, by outcome (recovered; no_session, offset_trimmed, bad_offset: not recovered, and why; rejoined: not recovered, its rooms re-joined from its record after its node was lost; rejoin_not_found, rejoin_other_user, rejoin_malformed, rejoin_failed: not re-joined, and why)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly clusterPublishFailures = new Counter({
    name: 'herald_cluster_publish_failures_total',
    help: "Broadcasts that could not be added to the cluster's stream (Redis unreachable): delivered to this node's sockets only",
    registers: [this.registry],
  });
  readonly clusterPersistFailures = new Counter({
    name: 'herald_cluster_session_store_failures_total',
    help: 'Sessions of disconnected clients that could not be stored in Redis (those clients reconnect with recovered: false)',
    registers: [this.registry],
  });
  readonly leaseChanges = new Counter({
    name: 'herald_cluster_lease_changes_total',
    help: "Changes of this node's hold of the ingest lease, by reason (acquired, released, lost, expired)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly nodeInfo = new Gauge({
    name: 'herald_node_info',
    help: "This process's node id in the cluster (value 1)",
    labelNames: ['node'] as const,
    registers: [this.registry],
  });

  constructor(sources: {
    io: HeraldIo;
    redisReconnects: () => number;
    /** Client requests taken straight from the websocket (socketio/direct-requests.ts). */
    directRequests?: () => number;
    /** Connections whose reading was paused (socketio/outgoing-limit.ts). */
    readsPaused?: () => number;
  }) {
    const registry = this.registry;
    new Gauge({
      name: 'herald_sockets',
      help: 'Connected sockets, by site',
      labelNames: ['site'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const nsp of siteNamespaces(sources.io))
          this.set({ site: nsp.name.slice(1) }, nsp.sockets.size);
      },
    });
    let reported = 0;
    new Counter({
      name: 'herald_redis_reconnects_total',
      help: 'Reconnections to Redis since start',
      registers: [registry],
      collect() {
        const now = sources.redisReconnects();
        if (now > reported) this.inc(now - reported);
        reported = now;
      },
    });
    let taken = 0;
    new Counter({
      name: 'herald_direct_requests_total',
      help: "Client requests taken straight from the websocket, past Engine.IO's and Socket.IO's packet layers (the others went through them)",
      registers: [registry],
      collect() {
        const now = sources.directRequests?.() ?? 0;
        if (now > taken) this.inc(now - taken);
        taken = now;
      },
    });
    let paused = 0;
    new Counter({
      name: 'herald_reads_paused_total',
      help: 'Times Herald stopped reading a connection until its writes drained (answers and events it could not write out)',
      registers: [registry],
      collect() {
        const now = sources.readsPaused?.() ?? 0;
        if (now > paused) this.inc(now - paused);
        paused = now;
      },
    });
    collectDefaultMetrics({ register: registry, prefix: 'herald_' });
  }

  /** In a cluster: whether this node holds the ingest lease, and what its takeovers filled. */
  watchIngest(status: () => { holding: boolean; filled: number; matched: number }): void {
    new Gauge({
      name: 'herald_cluster_lease_holder',
      help: 'Whether this node holds the ingest lease (1) or not (0): one node of a cluster should',
      registers: [this.registry],
      collect() {
        this.set(status().holding ? 1 : 0);
      },
    });
    for (const [name, help, key] of [
      [
        'herald_cluster_ingest_filled_total',
        "Messages of events this node's takeovers of the lease found missing from the stream and broadcast from its buffer",
        'filled',
      ],
      [
        'herald_cluster_ingest_matched_total',
        "Messages of events this node's takeovers found already in the stream (not broadcast again)",
        'matched',
      ],
    ] as const) {
      let reported = 0;
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const now = status()[key];
          if (now > reported) this.inc(now - reported);
          reported = now;
        },
      });
    }
  }

  /** In a cluster: the number of live nodes, as this one sees them. */
  watchNodes(count: () => number): void {
    new Gauge({
      name: 'herald_cluster_nodes',
      help: 'Live nodes of the cluster (beating, their process listening), this one included',
      registers: [this.registry],
      collect() {
        this.set(count());
      },
    });
  }

  /** The label for an event name, bounded in number. */
  eventLabel(event: string): string {
    if (this.#events.has(event)) return event;
    if (this.#events.size >= MAX_EVENT_LABELS) return 'other';
    this.#events.add(event);
    return event;
  }
}
