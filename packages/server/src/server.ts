import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventMessage, serializeEventMessage } from '@herald/protocol';
import { describeBackchannel } from './auth/authenticate.js';
import type { Backchannel } from './auth/backchannel.js';
import type { Broker } from './bridge/broker.js';
import { EventRouter } from './bridge/router.js';
import { STREAMS_ADAPTER_VERSION } from './cluster/adapter.js';
import { type ClusterNode, startClusterNode } from './cluster/cluster.js';
import type { Ingest } from './cluster/ingest.js';
import { directBroadcast, startIngest } from './cluster/ingest-node.js';
import { joinCluster } from './cluster/membership.js';
import type { Nodes } from './cluster/nodes.js';
import { clusterQuestions } from './cluster/questions.js';
import type { Config } from './config/schema.js';
import { mountDemo, prepareDemoConfig } from './demo.js';
import type { HandlerStats } from './handlers/dispatch.js';
import type { HandlerLoader } from './handlers/loader.js';
import type { HandlerRegistry } from './handlers/registry.js';
import { type Logger, silentLogger } from './logger.js';
import { Metrics } from './metrics.js';
import type { NamespaceSweeper } from './namespaces.js';
import type { HeraldIo } from './session.js';
import type { LayerCounts } from './socketio/link.js';
import type { CoalescingCounts } from './socketio/write-coalescing.js';
import { VERSION } from './version.js';
import { createBroker } from './wiring/broker.js';
import { addHttpRoutes, createHttp, type HttpRoute } from './wiring/http-routes.js';
import { listen, removeStaleSocket } from './wiring/listen.js';
import { createSocketIo } from './wiring/socketio.js';
import { createBackchannel, wireSockets } from './wiring/sockets.js';
import { attachToPrimary } from './workers/attach.js';

export type { HttpRoute } from './wiring/http-routes.js';

/** A running Herald server. */
export interface Herald {
  readonly io: HeraldIo;
  readonly http: HttpServer;
  readonly broker: Broker;
  readonly router: EventRouter;
  readonly backchannel: Backchannel;
  readonly namespaces: NamespaceSweeper;
  readonly metrics: Metrics;
  /** App handlers: the registry, their loader and what they did. */
  readonly handlers: { registry: HandlerRegistry; loader: HandlerLoader; stats: HandlerStats };
  readonly logger: Logger;
  /** This node of the cluster (undefined without --cluster). */
  readonly cluster: ClusterNode | undefined;
  /**
   * The layer over Socket.IO (socketio/layer.ts): what each patch did, and the patches left off
   * (with what each found missing of the installed Socket.IO, Engine.IO and ws).
   */
  readonly socketIo: {
    readonly counts: Readonly<LayerCounts>;
    readonly missing: ReadonlyMap<string, string[]>;
    /** Write coalescing's own counts (undefined when off). */
    readonly coalescing: Readonly<CoalescingCounts> | undefined;
    /** Requests taken straight from the websocket (undefined when off). */
    readonly direct: { taken: number } | undefined;
    /** The outgoing bound's counts. */
    readonly outgoing: { paused: number; dropped: number } | undefined;
  };
  /** The TCP port it listens on (undefined on a unix socket). */
  readonly port: number | undefined;
  /** `http://127.0.0.1:<port>` for TCP, or the socket path. */
  readonly url: string;
  /** Publishes an event through the broker, as a web process would. */
  publish(message: EventMessage): Promise<void>;
  /** Adds an HTTP route in front of the 404 answer. */
  addRoute(route: HttpRoute): void;
  /** Stops accepting, disconnects every socket, quits Redis. */
  close(): Promise<void>;
}

/** Wires the parts together and starts listening (the `herald serve` command, embeddable). */
export async function startHerald(
  given: Config,
  options: {
    logger?: Logger;
    /**
     * `port` (the default): listen on --port or --uds. `sticky-worker`: a worker of `herald serve
     * --workers` (workers/worker.ts), which does not listen: the primary hands it its connections
     * (workers/attach.ts), and `config.port` is the primary's port.
     */
    listen?: 'port' | 'sticky-worker';
  } = {},
): Promise<Herald> {
  const config: Config = { ...given };
  if (config.demo) prepareDemoConfig(config);
  let logger = options.logger ?? silentLogger();
  let metrics: Metrics | undefined;

  const cluster = config.cluster
    ? await startClusterNode(config, logger, () => metrics)
    : undefined;
  if (cluster) logger = logger.child({ node: cluster.nodeId });
  const { http, routes } = createHttp(logger);
  const { io, layer } = createSocketIo(
    http,
    config,
    logger,
    () => metrics,
    cluster?.adapter.adapter,
    cluster?.presence,
  );
  const { broker, secret } = createBroker(config, logger);
  metrics = new Metrics({
    io,
    redisReconnects: () => broker.reconnects(),
    directRequests: () => layer.direct?.taken ?? 0,
    readsPaused: () => layer.outgoing?.paused ?? 0,
  });
  if (cluster) metrics.nodeInfo.set({ node: cluster.nodeId }, 1);
  const backchannel = createBackchannel(config, secret, metrics, logger);
  const router = new EventRouter(io, logger, metrics, { maxBytes: config.maxMessageBytes });
  const requests = cluster ? clusterQuestions(io, cluster.nodeId, logger) : undefined;
  let ingest: Ingest | undefined;
  let nodes: Nodes | undefined;
  addHttpRoutes(routes, {
    config,
    io,
    broker,
    metrics,
    logger,
    cluster:
      requests && cluster ? { node: cluster.nodeId, ask: (q, a) => requests.ask(q, a) } : undefined,
    clusterPublish: cluster
      ? directBroadcast(cluster.redis, cluster.keys, config.clusterStreamLength)
      : undefined,
    clusterHealth: () => {
      if (!cluster) return undefined;
      const lease = ingest?.status();
      return {
        node: cluster.nodeId,
        redis: cluster.redis.state.ready,
        holdsLease: lease?.holding ?? false,
        leaseHolder: lease?.holder,
        leaseAgeMs: lease?.leaseAgeMs,
      };
    },
  });
  const { registry, loader, stats, sweeper, core, records } = await wireSockets({
    config,
    io,
    layer,
    broker,
    backchannel,
    metrics,
    logger,
    requests,
    cluster,
  });
  // The core listener's requests may come straight from the websocket (socketio/direct-requests.ts).
  const direct = core.directRequests;
  layer.direct?.take(direct.listener, direct.events, direct.ok);
  const demo = config.demo ? await mountDemo(config, broker, logger) : undefined;
  if (demo) routes.push(demo.route);
  if (!config.adminToken) logger.info('no --admin-token given: the admin API (/admin/...) is off');
  ingest = cluster
    ? startIngest({
        nodeId: cluster.nodeId,
        keys: cluster.keys,
        redis: cluster.redis,
        broker,
        streamLength: config.clusterStreamLength,
        limits: { maxBytes: config.maxMessageBytes },
        logger,
        metrics,
        onHolding: (holding) => {
          if (nodes) nodes.sweeping = holding;
        },
      })
    : undefined;
  router.ingest = ingest;
  if (ingest) metrics.watchIngest(() => ingest!.status());
  // This node among the cluster's (its id claimed: a live node with it stops this one here).
  if (cluster) {
    try {
      nodes = await joinCluster({
        cluster,
        presence: cluster.presence,
        io,
        port: config.uds ?? config.port,
        streamLength: config.clusterStreamLength,
        settings: {
          recoveryWindowMs: config.recoveryWindowMs,
          streamLength: config.clusterStreamLength,
          maxMessageBytes: config.maxMessageBytes,
          adapter: `@socket.io/redis-streams-adapter@${STREAMS_ADAPTER_VERSION}`,
          version: VERSION,
        },
        logger,
        metrics,
      });
    } catch (error) {
      // A live node holds this id (or Redis failed): nothing may keep running.
      sweeper.stop();
      loader.close();
      await ingest?.close();
      io.close();
      await cluster.close();
      await broker.close();
      throw error;
    }
  }
  if (nodes && requests)
    requests.otherNodes = () => nodes.liveNodes().filter((id) => id !== cluster!.nodeId);
  await broker.start((raw) => router.route(raw, broker.kind));
  await ingest?.start();
  try {
    if (options.listen === 'sticky-worker') attachToPrimary({ io, routes, metrics, logger });
    else await listen(http, config);
  } catch (error) {
    // Nothing may keep running when the server cannot start (an embedder would leak it).
    sweeper.stop();
    loader.close();
    await ingest?.close();
    await nodes?.close();
    io.close();
    await records?.close();
    await cluster?.close();
    await broker.close();
    throw error;
  }
  const address = http.address();
  const port =
    options.listen === 'sticky-worker'
      ? config.uds === undefined
        ? config.port
        : undefined
      : typeof address === 'object' && address
        ? (address as AddressInfo).port
        : undefined;
  const url = port !== undefined ? `http://127.0.0.1:${port}` : String(config.uds);
  // The demo site answers the backchannel on Herald's own port.
  if (demo && port !== undefined) config.backend ??= url;
  if (demo) logger.info(demo.banner(url));
  logger.info(
    { url, port, uds: config.uds, backend: config.backend ?? 'derived from each request' },
    options.listen === 'sticky-worker'
      ? `Herald worker ready: its connections come from the primary on ${config.uds ?? `port ${port}`}`
      : `Herald listening on ${config.uds ?? `port ${port}`}`,
  );
  logger.info(describeBackchannel(config));

  let closing: Promise<void> | undefined;
  return {
    io,
    http,
    broker,
    router,
    backchannel,
    namespaces: sweeper,
    metrics,
    handlers: { registry, loader, stats },
    logger,
    cluster,
    socketIo: {
      counts: layer.counts,
      missing: layer.missing,
      get coalescing() {
        return layer.coalescing?.counts;
      },
      direct: layer.direct,
      outgoing: layer.outgoing,
    },
    port,
    url,
    publish: (message) => broker.publish(serializeEventMessage(message)),
    addRoute: (route) => {
      routes.push(route);
    },
    close: () => {
      closing ??= (async () => {
        sweeper.stop();
        loader.close();
        // A follower takes the ingest over at once, and fills what came in between.
        await ingest?.release();
        // Its viewers stay listed for a grace while its clients recover on other nodes.
        await nodes?.stop();
        // Closing Socket.IO stores every connected socket's session (in a cluster, in Redis: its
        // clients recover on any node); the cluster's Redis closes after those writes.
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          http.closeAllConnections();
        });
        await records?.close();
        await ingest?.close();
        await nodes?.close();
        await cluster?.close();
        await broker.close();
        if (config.uds) removeStaleSocket(config.uds);
        logger.info('Herald stopped');
      })();
      return closing;
    },
  };
}
