import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostnameOf } from '@herald/protocol';
import { type Session, sessionOf } from './auth.js';
import { error } from './http.js';
import type { Store } from './store.js';

/** Who and where a request is for, and the path's captured parts (URI-decoded). */
export interface RouteContext {
  site: string;
  session: Session;
  params: string[];
}

/** Answers one request on a route. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RouteContext,
) => Promise<void> | void;

/** One endpoint of the backend: a method and an anchored path pattern. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  path: RegExp;
  handle: Handler;
}

/** What the router needs to turn a request into a context, and where failures are told. */
export interface RouterOptions {
  store: Store;
  /** Site of requests to localhost / 127.0.0.1. */
  defaultSite: string;
  log(error: unknown): void;
}

/**
 * The site a request is for, as Frappe picks it: X-Frappe-Site-Name (Herald's backchannel sends
 * it), else the Host; loopback is the default site. Undefined when the store has no such site.
 */
export function siteOf(
  req: IncomingMessage,
  store: Store,
  defaultSite: string,
): string | undefined {
  const named = req.headers['x-frappe-site-name'];
  const host = hostnameOf(typeof named === 'string' && named ? named : req.headers.host);
  const site =
    host === undefined || host === 'localhost' || host === '127.0.0.1' ? defaultSite : host;
  return store.read(site) ? site : undefined;
}

/**
 * Routes a request to the first route its method and path match (false: none did, so the caller
 * may serve it otherwise). The site and session are resolved only then, so that pages and assets
 * load on any host; an unknown site is 404 and a bad API token 401 before any handler runs, and a
 * handler that throws answers 500 unless it has already answered.
 */
export function createRouter(
  routes: readonly Route[],
  options: RouterOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { store } = options;
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    for (const { method, path: pattern, handle } of routes) {
      const match = pattern.exec(path);
      if (!match || req.method !== method) continue;
      const site = siteOf(req, store, options.defaultSite);
      if (!site) {
        error(
          res,
          404,
          'IncorrectSitePath',
          `no site named by ${req.headers['x-frappe-site-name'] ?? req.headers.host}`,
        );
        return true;
      }
      const session = sessionOf(store, site, req);
      if (session === null) {
        error(res, 401, 'AuthenticationError', 'Invalid API key or secret');
        return true;
      }
      let params: string[];
      try {
        params = match.slice(1).map(decodeURIComponent);
      } catch {
        error(res, 400, 'ValidationError', 'the URL has a malformed %-escape');
        return true;
      }
      // A handler's throw, synchronous or not, is its 500 (Promise.try is newer than Node 20).
      new Promise((done) => done(handle(req, res, { site, session, params }))).catch(
        (failure: unknown) => {
          options.log(failure);
          if (!res.headersSent) error(res, 500, 'ServerError', (failure as Error).message);
        },
      );
      return true;
    }
    return false;
  };
}
