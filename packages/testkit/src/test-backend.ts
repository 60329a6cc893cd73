import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** Who a session or token belongs to, as `get_user_info` answers it. */
export interface Identity {
  user: string;
  user_type: string;
  installed_apps?: string[];
}

/** One site of the test backend. */
export interface SiteFixture {
  /** sid cookie value → identity. An unknown sid is Guest, as in Frappe. */
  sessions?: Record<string, Identity>;
  /** Authorization header value → identity. An unknown token is HTTP 401, as in Frappe. */
  tokens?: Record<string, Identity>;
  /** user → what it may read: `"ToDo"` (the doctype and all its docs) or `"ToDo/TD-1"`. */
  permissions?: Record<string, string[]>;
  /** Apps installed on the site (default `["frappe"]`). */
  installedApps?: string[];
}

/** How the test backend behaves; every field can be changed while it runs. */
export interface BackendBehaviour {
  sites: Record<string, SiteFixture>;
  /** Expected X-Frappe-Socket-Secret; when set, a wrong one gets `{"message": {}}` as in Frappe. */
  secret?: string | undefined;
  /** Delay before every answer. */
  delayMs?: number;
  /** Answer every request with a 301 to this URL, as a misconfigured proxy does. */
  redirectTo?: string | undefined;
  /** Answer has_permission with HTTP 500. */
  failPermission?: boolean;
  /** Other endpoints, by path: answer with a status (default 200) and a JSON body. */
  routes?: Record<
    string,
    (request: RecordedRequest) => { status?: number; body: unknown; delayMs?: number }
  >;
  /** Runs before each request is answered (e.g. to create the socket secret, as Frappe does). */
  onRequest?: (request: RecordedRequest) => void | Promise<void>;
}

/** A request the backend received. */
export interface RecordedRequest {
  method: string;
  /** The parsed JSON body (or its text), if any. */
  body?: unknown;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
}

/** A real HTTP backend that implements the two backchannel endpoints of the spec from fixtures. */
export interface TestBackend {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  behaviour: BackendBehaviour;
  close(): Promise<void>;
}

const GUEST: Identity = { user: 'Guest', user_type: 'Guest' };

function identify(site: SiteFixture, headers: IncomingHttpHeaders): Identity | 'bad-token' {
  const authorization = headers.authorization;
  if (authorization) return site.tokens?.[authorization] ?? 'bad-token';
  const sid = /(?:^|;\s*)sid=([^;]*)/.exec(headers.cookie ?? '')?.[1];
  return (sid && site.sessions?.[sid]) || GUEST;
}

function mayRead(site: SiteFixture, user: string, doctype: string, name: string): boolean {
  const grants = site.permissions?.[user] ?? [];
  return grants.some(
    (grant) =>
      grant === '*' || grant === doctype || (name !== '' && grant === `${doctype}/${name}`),
  );
}

/** Starts the test backend on a free port of 127.0.0.1. */
export async function startTestBackend(behaviour: BackendBehaviour): Promise<TestBackend> {
  const requests: RecordedRequest[] = [];
  const state = { behaviour };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://backend');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        body,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
      };
      requests.push(recorded);
      Promise.resolve(state.behaviour.onRequest?.(recorded)).then(
        () => respond(url, req, res, recorded),
        () => respond(url, req, res, recorded),
      );
    });
  });
  const respond = (
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
    recorded: RecordedRequest,
  ) => {
    const b = state.behaviour;
    const route = b.routes?.[url.pathname];
    if (route && !b.redirectTo) {
      const out = route(recorded);
      setTimeout(
        () => {
          if (res.destroyed) return;
          res.writeHead(out.status ?? 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(out.body));
        },
        out.delayMs ?? b.delayMs ?? 0,
      );
      return;
    }
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      }, b.delayMs ?? 0);
    };
    if (b.redirectTo) {
      answer(301, {}, { location: `${b.redirectTo}${url.pathname}${url.search}` });
      return;
    }
    const siteName = String(req.headers['x-frappe-site-name'] ?? '');
    const site = b.sites[siteName];
    if (!site) {
      answer(404, { exc_type: 'IncorrectSitePath', message: `no site ${siteName}` });
      return;
    }
    if (b.secret !== undefined && req.headers['x-frappe-socket-secret'] !== b.secret) {
      answer(200, { message: {} });
      return;
    }
    const who = identify(site, req.headers);
    if (who === 'bad-token') {
      answer(401, { exc_type: 'AuthenticationError' });
      return;
    }
    if (url.pathname === '/api/method/frappe.realtime.get_user_info') {
      answer(200, {
        message: { ...who, installed_apps: who.installed_apps ?? site.installedApps ?? ['frappe'] },
      });
    } else if (url.pathname === '/api/method/frappe.realtime.has_permission') {
      if (b.failPermission) {
        answer(500, { exc_type: 'InternalServerError' });
      } else if (
        mayRead(
          site,
          who.user,
          url.searchParams.get('doctype') ?? '',
          url.searchParams.get('name') ?? '',
        )
      ) {
        answer(200, { message: true });
      } else {
        answer(403, { exc_type: 'PermissionError', _server_messages: '["Not permitted"]' });
      }
    } else {
      answer(404, { exc_type: 'DoesNotExistError' });
    }
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(next) {
      state.behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
