import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const PUBLIC = fileURLToPath(new URL('../public/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};
const PAGES: [RegExp, string][] = [
  [/^\/login\/?$/, 'login.html'],
  [/^\/app\/todo\/?$/, 'list.html'],
  [/^\/app\/todo\/[^/]+$/, 'form.html'],
  [/^\/me\/?$/, 'me.html'],
];

async function sendFile(res: ServerResponse, file: string): Promise<void> {
  try {
    const content = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    res.end(content);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }
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
  const route = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (backend(req, res)) return true;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    if (path === '/') {
      res.writeHead(302, { location: '/app/todo' });
      res.end();
      return true;
    }
    if (path === '/assets/herald-client.min.js') {
      void sendFile(res, options.clientBundle);
      return true;
    }
    if (path.startsWith('/assets/')) {
      const file = resolve(PUBLIC, `.${path.slice('/assets'.length)}`);
      if (!file.startsWith(PUBLIC.endsWith(sep) ? PUBLIC : PUBLIC + sep) || file.endsWith('.html'))
        return false;
      void sendFile(res, file);
      return true;
    }
    const page = PAGES.find(([pattern]) => pattern.test(path));
    if (!page) return false;
    void sendFile(res, join(PUBLIC, page[1]));
    return true;
  };
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
