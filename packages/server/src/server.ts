import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventMessage, serializeEventMessage } from '@herald/protocol';
import { Server } from 'socket.io';
import { WebSocketServer } from 'ws';
import { authenticate, describeBackchannel } from './auth/authenticate.js';
import { Backchannel } from './auth/backchannel.js';
import { RedisSocketSecret, type SocketSecret, StaticSocketSecret } from './auth/socket-secret.js';
import { TrustedProxies } from './auth/trusted-proxies.js';
import type { Broker } from './bridge/broker.js';
import { MemoryBroker } from './bridge/broker-memory.js';
import { RedisBroker } from './bridge/broker-redis.js';
import { EventRouter } from './bridge/router.js';
import type { Config } from './config/schema.js';
import { leanParser, trimConnectionMemory } from './connection-memory.js';
import { mountDemo, prepareDemoConfig } from './demo.js';
import { attachDirectRequests, enableDirectRequests } from './direct-requests.js';
import { guardedParser } from './encode-guard.js';
import { HeraldError } from './errors.js';
import { skipIdleDispatch } from './event-dispatch.js';
import { appEventListener, type HandlerStats } from './handlers/dispatch.js';
import { Forwarder } from './handlers/forward.js';
import { findHandlerSources, HandlerLoader } from './handlers/loader.js';
import { HandlerRegistry } from './handlers/registry.js';
import { adminRoute } from './http/admin.js';
import { adminUi } from './http/admin-ui.js';
import { loadApiKeys } from './http/api-keys.js';
import { healthRoute } from './http/health.js';
import { metricsRoute } from './http/metrics-route.js';
import { publishRoute } from './http/publish-route.js';
import { sendError } from './http/respond.js';
import { type Logger, silentLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { NamespaceSweeper } from './namespaces.js';
import { redactUrl } from './redis/client.js';
import { CoreHandlers } from './rooms/core-handlers.js';
import { tolerateDuplicateConnects } from './rooms/duplicate-connect.js';
import { HeldSessions } from './rooms/held-sessions.js';
import { LegacyHandlers } from './rooms/legacy-handlers.js';
import type { SocketLimits } from './rooms/limits.js';
import { roomsAdapter } from './rooms/rooms-adapter.js';
import { limitViewerNotices } from './rooms/viewers.js';
import type { HeraldIo } from './session.js';
import { limitOutgoing } from './socketio/outgoing-limit.js';
import { VERSION } from './version.js';
import { enableWriteCoalescing } from './write-coalescing.js';

/** An HTTP route: answers and returns true, or returns false to let the next route look. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

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
  options: { logger?: Logger } = {},
): Promise<Herald> {
  const config: Config = { ...given };
  if (config.demo) prepareDemoConfig(config);
  const logger = options.logger ?? silentLogger();
  // Made once Socket.IO is (it reads the server); the encoder's guard may report before that.
  let metrics: Metrics | undefined;
  const routes: HttpRoute[] = [];
  const http = createServer((req, res) => {
    try {
      for (const route of routes) if (route(req, res)) return;
      sendError(res, new HeraldError('HERALD_NOT_FOUND', `no route for ${req.method} ${req.url}`));
    } catch (error) {
      // A route that throws on a request (a malformed URL escape, say) answers 500; it never
      // takes the server down.
      logger.error({ err: error, method: req.method, url: req.url }, 'an HTTP route failed');
      if (!res.headersSent) sendError(res, new HeraldError('HERALD_INTERNAL'));
      else res.destroy();
    }
  });

  // Sessions of disconnected clients kept for recovery, bounded in all (rooms/held-sessions.ts).
  const held =
    config.recoveryWindowMs > 0
      ? new HeldSessions(config.maxHeldRooms, config.recoveryWindowMs)
      : undefined;
  const io: HeraldIo = new Server(http, {
    // The origin is checked per namespace by the connect middleware, as upstream does.
    cors: { origin: true, credentials: true },
    serveClient: false,
    // Socket.IO's own parser, with a decoder that keeps less per connection and an encoder that
    // never throws (encode-guard.ts).
    parser: guardedParser(leanParser, (error, packet) => {
      metrics?.encodeFailures.inc();
      const data = (packet as { data?: unknown }).data;
      logger.error(
        {
          err: error,
          nsp: packet.nsp,
          event: Array.isArray(data) && typeof data[0] === 'string' ? data[0] : undefined,
        },
        'a packet could not be encoded for a client and was sent to nobody',
      );
    }),
    // ws 8.23 or later (Engine.IO's own pin is older) lets go of the last frame's read buffer once
    // the frame is read, instead of pinning it on an idle connection until the next frame.
    wsEngine: WebSocketServer,
    // Compression costs CPU on every frame for small JSON events; off, as upstream.
    perMessageDeflate: false,
    // Socket.IO's in-memory adapter, keeping emptied rooms a while (rooms/rooms-adapter.ts).
    adapter: roomsAdapter(held),
    ...(config.recoveryWindowMs > 0 && {
      // A client back within the window gets what its rooms missed, in order, and keeps its rooms
      // and session; it is not authenticated again.
      connectionStateRecovery: {
        maxDisconnectionDuration: config.recoveryWindowMs,
        skipMiddlewares: true,
      },
    }),
  });

  const outgoing = limitOutgoing(io.engine, config.maxOutgoingBytes, (engine, waiting) => {
    const conn = engine as { id?: string; remoteAddress?: string };
    logger.warn(
      { engine: conn.id, address: conn.remoteAddress, waiting, max: config.maxOutgoingBytes },
      'closed a connection that reads slower than it is sent to (--max-outgoing-bytes)',
    );
    metrics?.dropped.inc({ reason: 'outgoing_buffer' });
  });
  if (!outgoing)
    logger.warn(
      "Engine.IO's socket is not laid out as this Herald expects: outgoing buffers are not bounded (--max-outgoing-bytes)",
    );
  if (config.writeCoalescing) enableWriteCoalescing(io as unknown as Server);
  trimConnectionMemory(io as unknown as Server);
  skipIdleDispatch();
  const direct = config.directRequests ? enableDirectRequests(io as unknown as Server) : undefined;
  limitViewerNotices(io, config.viewersIntervalMs);

  let broker: Broker;
  let secret: SocketSecret;
  if (config.redis) {
    const redisBroker = new RedisBroker(config.redis, logger);
    broker = redisBroker;
    // An explicit secret wins (the demo, or a backend that does not use Redis for it).
    secret =
      config.socketSecret !== undefined
        ? new StaticSocketSecret(config.socketSecret)
        : new RedisSocketSecret(redisBroker.commands);
    logger.info({ redis: redactUrl(config.redis) }, 'events come from the Redis channel "events"');
  } else {
    broker = new MemoryBroker();
    secret = new StaticSocketSecret(config.socketSecret);
    logger.info(
      'no --redis given: using the in-memory broker (one process; events published to Redis are not seen)',
    );
  }

  const apiKeys = loadApiKeys(config.apiKeys, config.apiKeyFile);
  metrics = new Metrics({
    io,
    redisReconnects: () => broker.reconnects(),
    directRequests: () => direct?.taken ?? 0,
    readsPaused: () => outgoing?.paused ?? 0,
  });
  const backchannel = new Backchannel({
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
  const router = new EventRouter(io, logger, metrics, { maxBytes: config.maxMessageBytes });
  routes.push(
    healthRoute({
      broker,
      backchannel: () => ({
        backendUrl: config.backend,
        webserverHost: config.webserverHost,
        webserverPort: config.webserverPort,
      }),
      timeoutMs: config.backendTimeoutMs,
      adminToken: config.adminToken,
    }),
    metricsRoute(metrics),
    adminRoute(io, config.adminToken),
    publishRoute({
      apiKeys,
      maxMessageBytes: config.maxMessageBytes,
      publish: async (messages) => {
        for (const message of messages) await broker.publish(serializeEventMessage(message));
      },
    }),
  );
  logger.info(
    apiKeys.length > 0
      ? `the HTTP publish API is on (POST /api/v1/publish, ${apiKeys.length} API key${apiKeys.length === 1 ? '' : 's'})`
      : 'no --api-key given: the HTTP publish API (/api/v1/publish) is off',
  );
  if (config.adminUi) {
    if (!config.adminToken) {
      throw new HeraldError(
        'HERALD_CONFIG_INVALID',
        'adminUi needs adminToken: start with --admin-ui --admin-token <token>',
      );
    }
    routes.push(adminUi(io, config.adminToken));
    logger.info('the Socket.IO Admin UI is at /admin-ui/ (log in as admin with the admin token)');
  }
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
  const handlerStats: HandlerStats = { calls: new Map(), failures: new Map() };
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
    stats: handlerStats,
    logger,
    metrics,
    limits,
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
  );
  const debug = logger.isLevelEnabled('debug');
  const guardDuplicateConnects = tolerateDuplicateConnects(io);
  sites.on('connection', (socket) => {
    guardDuplicateConnects(socket);
    core.attach(socket);
    if (direct) attachDirectRequests(socket);
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

  const demo = config.demo ? await mountDemo(config, broker, logger) : undefined;
  if (demo) routes.push(demo.route);
  if (!config.adminToken) logger.info('no --admin-token given: the admin API (/admin/...) is off');
  await broker.start((raw) => router.route(raw, broker.kind));
  try {
    await listen(http, config);
  } catch (error) {
    // Nothing may keep running when the server cannot start (an embedder would leak it).
    sweeper.stop();
    loader.close();
    io.close();
    await broker.close();
    throw error;
  }
  const address = http.address();
  const port = typeof address === 'object' && address ? (address as AddressInfo).port : undefined;
  const url = port !== undefined ? `http://127.0.0.1:${port}` : String(config.uds);
  // The demo site answers the backchannel on Herald's own port.
  if (demo && port !== undefined) config.backend ??= url;
  if (demo) logger.info(demo.banner(url));
  logger.info(
    { url, port, uds: config.uds, backend: config.backend ?? 'derived from each request' },
    `Herald listening on ${config.uds ?? `port ${port}`}`,
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
    handlers: { registry, loader, stats: handlerStats },
    logger,
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
        await new Promise<void>((resolve) => {
          io.close(() => resolve());
          http.closeAllConnections();
        });
        await broker.close();
        if (config.uds) removeStaleSocket(config.uds);
        logger.info('Herald stopped');
      })();
      return closing;
    },
  };
}

function removeStaleSocket(path: string): void {
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}

function listen(http: HttpServer, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = config.uds ?? `port ${config.port}`;
      const hint =
        error.code === 'EADDRINUSE'
          ? `${where} is in use: stop the other server or choose another --port`
          : error.code === 'EACCES'
            ? `not allowed to listen on ${where}`
            : error.message;
      reject(new Error(`cannot listen on ${where}: ${hint}`, { cause: error }));
    };
    http.once('error', onError);
    const done = () => {
      http.off('error', onError);
      resolve();
    };
    if (config.uds) {
      removeStaleSocket(config.uds);
      http.listen(config.uds, done);
    } else if (config.host) {
      http.listen(config.port, config.host, done);
    } else {
      http.listen(config.port, done);
    }
  });
}
