import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { type EventMessage, serializeEventMessage } from '@herald/protocol';
import type { Broker } from '../bridge/broker.js';
import type { Config } from '../config/schema.js';
import { HeraldError } from '../errors.js';
import { type AdminCluster, adminRoute } from '../http/admin.js';
import { adminUi } from '../http/admin-ui.js';
import { loadApiKeys } from '../http/api-keys.js';
import type { ClusterHealth } from '../http/health.js';
import { healthRoute } from '../http/health.js';
import { metricsRoute } from '../http/metrics-route.js';
import { publishRoute } from '../http/publish-route.js';
import { sendError } from '../http/respond.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { HeraldIo } from '../session.js';

/** An HTTP route: answers and returns true, or returns false to let the next route look. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The HTTP server: its routes in order, then a 404 answer; a route that throws answers 500. */
export function createHttp(logger: Logger): { http: HttpServer; routes: HttpRoute[] } {
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
  return { http, routes };
}

/** Herald's own routes: health, metrics, admin, the publish API and the Admin UI when asked. */
export function addHttpRoutes(
  routes: HttpRoute[],
  parts: {
    config: Config;
    io: HeraldIo;
    broker: Broker;
    metrics: Metrics;
    logger: Logger;
    /** In a cluster: the other nodes' shares of the admin lists. */
    cluster?: AdminCluster | undefined;
    /** In a cluster: a message written to the stream directly (false: it goes through events). */
    clusterPublish?: ((message: EventMessage) => Promise<boolean>) | undefined;
    /** In a cluster: what health says of this node and the lease. */
    clusterHealth?: () => ClusterHealth | undefined;
  },
): void {
  const { config, io, broker, metrics, logger } = parts;
  const apiKeys = loadApiKeys(config.apiKeys, config.apiKeyFile);
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
      cluster: parts.clusterHealth,
    }),
    metricsRoute(metrics),
    adminRoute(io, config.adminToken, () => parts.cluster),
    publishRoute({
      apiKeys,
      maxMessageBytes: config.maxMessageBytes,
      publish: async (messages) => {
        for (const message of messages) {
          // In a cluster, straight to the stream; room-less messages (and single mode) via events.
          if (parts.clusterPublish && (await parts.clusterPublish(message))) continue;
          await broker.publish(serializeEventMessage(message));
        }
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
}
