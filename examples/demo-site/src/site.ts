import type { IncomingMessage, ServerResponse } from 'node:http';
import { createChange } from './after-commit.js';
import type { SitePublisher } from './publishing.js';
import { createRouter } from './router.js';
import { backchannelRoutes } from './routes/backchannel.js';
import { commentRoutes } from './routes/comments.js';
import { importRoutes } from './routes/import.js';
import { msgprintRoutes } from './routes/msgprint.js';
import { sessionRoutes } from './routes/session.js';
import { todoRoutes } from './routes/todos.js';
import type { Store } from './store.js';

/** What the demo's web backend needs. */
export interface BackendOptions {
  store: Store;
  /** Publishes for one site. */
  publisherFor(site: string): SitePublisher;
  /** Expected X-Frappe-Socket-Secret on the backchannel endpoints. */
  socketSecret: string;
  /** Site of requests to localhost / 127.0.0.1. */
  defaultSite: string;
  /** How long the import job runs. */
  importMs: number;
  log(error: unknown): void;
}

/**
 * The web backend of the demo, speaking like Frappe's: `/api/method/login`, the two backchannel
 * endpoints, and a small REST API for ToDos and comments that publishes `list_update`,
 * `doc_update` and `docinfo_update` after each change is committed. Returns false for a request
 * that is none of its routes.
 */
export function createBackend(
  options: BackendOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { store, publisherFor, log } = options;
  const change = createChange(store, publisherFor);
  return createRouter(
    [
      ...sessionRoutes(store),
      ...backchannelRoutes(store, options.socketSecret),
      ...todoRoutes(store, change),
      ...commentRoutes(store, change),
      ...msgprintRoutes(publisherFor),
      ...importRoutes(publisherFor, options.importMs, log),
    ],
    { store, defaultSite: options.defaultSite, log },
  );
}
