import { authenticate } from '../auth/authenticate.js';
import { Backchannel } from '../auth/backchannel.js';
import type { SocketSecret } from '../auth/socket-secret.js';
import { TrustedProxies } from '../auth/trusted-proxies.js';
import type { Broker } from '../bridge/broker.js';
import type { ClusterRequests } from '../cluster/requests.js';
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
import type { HeraldIo } from '../session.js';
import type { SocketIoLayer } from '../socketio/layer.js';
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
  const debug = logger.isLevelEnabled('debug');
  sites.on('connection', (socket) => {
    core.attach(socket);
    layer.attach(socket);
    legacy?.attach(socket, backchannel);
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
  return { registry, loader, stats, sweeper, core };
}
