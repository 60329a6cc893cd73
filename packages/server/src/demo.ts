import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type EventMessage, serializeEventMessage } from '@herald/protocol';
import { Publisher } from '@herald/publisher';
import type { Broker } from './bridge/broker.js';
import type { Config } from './config/schema.js';
import { HeraldError } from './errors.js';
import type { Logger } from './logger.js';
import type { HttpRoute } from './server.js';

/** The demo's first site: where localhost goes. */
export const DEMO_DEFAULT_SITE = 'site1.localhost';

/** Settings the demo needs before the server starts: a socket secret and a default site. */
export function prepareDemoConfig(config: Config): void {
  config.socketSecret ??= randomBytes(24).toString('base64url');
  config.defaultSite ??= DEMO_DEFAULT_SITE;
}

function clientBundle(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@herald/client/herald-client.min.js');
  } catch {
    return undefined;
  }
}

/**
 * `herald serve --demo`: the built-in demo site on Herald's own port. It plays the web server:
 * Herald's backchannel goes to it, and it publishes through Herald's broker (Redis with --redis).
 */
export async function mountDemo(
  config: Config,
  broker: Broker,
  logger: Logger,
): Promise<{ route: HttpRoute; banner(url: string): string }> {
  const { createDemoSite } = await import('@herald/demo-site').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new HeraldError(
      'HERALD_CONFIG_INVALID',
      'demo = true: the demo site (@herald/demo-site) is not installed beside @herald/server',
      {
        hint: 'install its tarball with the others (npm install ./herald-demo-site-*.tgz), or run the demo from a clone of Herald: npm ci && npm start',
      },
    );
  });
  const bundle = clientBundle();
  if (!bundle)
    logger.warn(
      'the Herald client bundle is not built: run `npm run build` for the demo pages to connect',
    );
  const transport = {
    send: (message: EventMessage) => broker.publish(serializeEventMessage(message)),
    stats: () => ({ queued: 0, dropped: 0 }),
    close: async () => undefined,
  };
  const demo = createDemoSite({
    dataDir: config.demoData,
    socketSecret: config.socketSecret!,
    publisherFor: (site) => new Publisher(site, transport),
    clientBundle: bundle ?? '/nonexistent/herald-client.min.js',
    log: (error) => logger.warn({ err: error }, 'demo site error'),
  });
  return {
    route: demo.route,
    banner: (url) =>
      [
        `Herald demo (a demo, not for production): open ${url.replace('127.0.0.1', 'localhost')}`,
        `  sites: ${demo.sites.map((site) => url.replace('127.0.0.1', site)).join(', ')}`,
        `  logins: ${demo.logins.join(', ')}`,
        `  data: ${config.demoData}`,
      ].join('\n'),
  };
}
