import type { IncomingMessage, ServerResponse } from 'node:http';
import { createPages } from './pages.js';
import type { SitePublisher } from './publishing.js';
import { DEMO_PASSWORD, seedSite } from './seed.js';
import { createBackend } from './site.js';
import { Store } from './store.js';

export type { PublishTransaction, SitePublisher } from './publishing.js';
export { DEMO_PASSWORD } from './seed.js';

/** The demo's two sites, served by host name (both resolve to loopback in browsers). */
export const DEMO_SITES = ['site1.localhost', 'site2.localhost'] as const;

/** What the demo site needs from the server it is mounted on. */
export interface DemoOptions {
  /** Where the demo keeps its data between restarts. */
  dataDir: string;
  /** The X-Frappe-Socket-Secret Herald sends on the backchannel. */
  socketSecret: string;
  /** A publisher for a site (the publisher package, over Redis or Herald's HTTP API). */
  publisherFor(site: string): SitePublisher;
  /** The script tag build of the Herald client. */
  clientBundle: string;
  /** How long the demo import job runs (default 10 s). */
  importMs?: number;
  log?(error: unknown): void;
}

/**
 * The built-in demo: a Frappe-like web backend (sessions, API tokens, two sites, a ToDo doctype
 * with permissions and comments, the two backchannel endpoints) and its pages. Returns an HTTP
 * route for the server it is mounted on (false: not a demo path).
 */
export function createDemoSite(options: DemoOptions): {
  route(req: IncomingMessage, res: ServerResponse): boolean;
  sites: readonly string[];
  logins: string[];
} {
  const store = new Store(options.dataDir, seedSite, DEMO_SITES);
  const backend = createBackend({
    store,
    publisherFor: options.publisherFor,
    socketSecret: options.socketSecret,
    defaultSite: DEMO_SITES[0],
    importMs: options.importMs ?? 10_000,
    log: options.log ?? (() => undefined),
  });
  const pages = createPages(options.clientBundle);
  const route = (req: IncomingMessage, res: ServerResponse): boolean =>
    backend(req, res) || pages(req, res);
  return {
    route,
    sites: DEMO_SITES,
    logins: [
      'Administrator',
      'alice@example.com',
      'bob@example.com',
      'carol@example.com (Website User)',
    ].map((u) => `${u} / ${DEMO_PASSWORD}`),
  };
}
