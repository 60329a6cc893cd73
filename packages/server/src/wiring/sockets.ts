import { authenticate } from '../auth/authenticate.js';
import { Backchannel } from '../auth/backchannel.js';
import type { SocketSecret } from '../auth/socket-secret.js';
import { TrustedProxies } from '../auth/trusted-proxies.js';
import type { Broker } from '../bridge/broker.js';
import type { ClusterNode } from '../cluster/cluster.js';
import type { ClusterRequests } from '../cluster/requests.js';
import { SocketRecords } from '../cluster/socket-records.js';
import type { Config } from '../config/schema.js';
import { appEventListener, type HandlerStats } from '../handlers/dispatch.js';
import { Forwarder } from '../handlers/forward.js';
import { findHandlerSources, HandlerLoader } from '../handlers/loader.js';
import { HandlerRegistry } from '../handlers/registry.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { NamespaceSweeper } from '../namespaces.js';
import { CoreHandlers } from '../rooms/core-handlers.js';
import { LegacyHandlers } from '../rooms/legacy-handlers.js';
import type { SocketLimits } from '../rooms/limits.js';
import { rejoinOnConnect } from '../rooms/rejoin.js';
import type { HeraldIo } from '../session.js';
import type { SocketIoLayer } from '../socketio/layer.js';
import type { TurnEnd } from '../socketio/turn-end.js';
import { VERSION } from '../version.js';

/** The backchannel to the web server, its calls counted and timed in `metrics`. */
export function createBackchannel(
  config: Config,
  secret: SocketSecret,
  metrics: Metrics,
  logger: Logger,
): Backchannel {
  return new Backchannel({
    timeoutMs: config.backendTimeoutMs,
    secret,
    logger,
    cache: {
      identityTtlMs: config.identityCacheTtlMs,
      allowTtlMs: config.permissionCacheTtlMs,
      denyTtlMs: config.denyCacheTtlMs,
    },
    observe: (endpoint, outcome, started) => {
      metrics.backchannelCalls.inc({ endpoint, outcome });
      metrics.backchannelSeconds.observe(
        { endpoint },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    },
  });
}

/** What wiring the sockets made that the server keeps. */
export interface WiredSockets {
  registry: HandlerRegistry;
  loader: HandlerLoader;
  stats: HandlerStats;
  sweeper: NamespaceSweeper;
  /** The core handlers' one listener, which direct requests may hand requests to. */
  core: CoreHandlers;
  /** Cluster mode: the per-socket records in Redis (stopped by close()). */
  records?: { records: SocketRecords; close(): Promise<void> } | undefined;
}

/**
 * Cluster mode's per-socket records in Redis, on the cluster's command client (cluster/socket-records.ts):
 * undefined outside cluster mode, or with --recovery-window 0 (then clients have no session id to
 * present).
 */
export function createSocketRecords(
  config: Config,
  turnEnd: TurnEnd,
  logger: Logger,
  cluster: ClusterNode | undefined,
): WiredSockets['records'] {
  if (!cluster) return undefined;
  if (config.recoveryWindowMs === 0) {
    logger.info(
      "cluster: --recovery-window is 0, so clients have no session id to come back with: the rooms of a killed node's clients are not re-joined",
    );
    return undefined;
  }
  const node = cluster.nodeId;
  // The cluster's command client (Redis or Redis Cluster), closed by the cluster after these.
  const client = cluster.redis.commands;
  const records = new SocketRecords({
    client,
    prefix: config.clusterPrefix,
    node,
    recoveryWindowMs: config.recoveryWindowMs,
    maxRooms: config.maxRooms,
    turnEnd,
    logger,
  });
  logger.info(
    { node },
    "cluster: sockets' rooms are recorded in Redis, to be re-joined on another node if this one is killed",
  );
  return {
    records,
    close: async () => {
      records.close();
    },
  };
}

/**
 * The site namespaces and what runs on their sockets: the connect middleware, the core handlers,
 * upstream apps' legacy handlers and the apps' own handlers.
 */
export async function wireSockets(parts: {
  config: Config;
  io: HeraldIo;
  layer: SocketIoLayer;
  broker: Broker;
  backchannel: Backchannel;
  metrics: Metrics;
  logger: Logger;
  /** In a cluster: questions to the other nodes (a room's participants). */
  requests?: ClusterRequests | undefined;
  /** This node of the cluster (its Redis and id), in cluster mode. */
  cluster?: ClusterNode | undefined;
}): Promise<WiredSockets> {
  const { config, io, layer, broker, backchannel, metrics, logger } = parts;
  const legacy = config.bench ? new LegacyHandlers(config.bench, logger) : undefined;
  const registry = new HandlerRegistry();
  const loader = new HandlerLoader(registry, logger);
  await loader.loadAll(findHandlerSources(config.handlers, config.bench), config.dev);
  const forwarder =
    config.forward.length > 0
      ? new Forwarder(Forwarder.parse(config.forward), backchannel, logger)
      : undefined;
  const limits: SocketLimits = {
    maxRooms: config.maxRooms,
    maxOpenDocs: config.maxOpenDocs,
    maxNameLength: config.maxNameLength,
    ratePerSecond: config.rateLimit,
    rateBurst: config.rateBurst,
  };
  const stats: HandlerStats = { calls: new Map(), failures: new Map() };
  const sites = io.of(/^\/.+$/);
  const sweeper = new NamespaceSweeper(io, sites, {
    idleMs: Math.max(config.recoveryWindowMs, 10_000),
    logger,
  });
  sites.use(
    authenticate({
      config,
      proxies: new TrustedProxies(config.trustedProxies),
      backchannel,
      logger,
      metrics,
    }),
  );
  const onAppEvent = appEventListener({
    registry,
    forwarder,
    backchannel,
    stats,
    logger,
    metrics,
    limits,
    requests: parts.requests,
  });
  // One listener shared by every socket takes its events (core ones, then the apps'): an idle
  // socket costs its rooms and session, no closures.
  const core = new CoreHandlers(
    {
      backchannel,
      broker,
      developerMode: config.developerMode,
      logger,
      version: VERSION,
      recoveryWindowMs: config.recoveryWindowMs,
      limits,
      // The backend's own timeout fires first when it is the one: its error names the call.
      answerWithinMs: config.backendTimeoutMs + 100,
      metrics,
    },
    onAppEvent,
    layer.turnEnd,
  );
  const records = createSocketRecords(config, layer.turnEnd, logger, parts.cluster);
  const rejoin = records && {
    records: records.records,
    core,
    limits,
    timeoutMs: config.backendTimeoutMs,
    metrics,
    logger,
  };
  const debug = logger.isLevelEnabled('debug');
  sites.on('connection', (socket) => {
    core.attach(socket);
    layer.attach(socket);
    legacy?.attach(socket, backchannel);
    if (rejoin) {
      rejoin.records.watch(socket);
      rejoinOnConnect(socket, rejoin);
    }
    if (debug) {
      const log = logger.child({
        site: socket.data.site,
        user: socket.data.user,
        socket: socket.id,
      });
      log.debug(
        {
          userType: socket.data.userType,
          transport: socket.conn.transport.name,
          recovered: socket.recovered,
        },
        socket.recovered ? 'socket recovered' : 'socket connected',
      );
      socket.on('disconnect', (reason) => log.debug({ reason }, 'socket disconnected'));
    }
  });
  return { registry, loader, stats, sweeper, core, records };
}
