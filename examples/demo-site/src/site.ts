import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostnameOf } from '@herald/protocol';
import { GUEST, login, logout, type Session, sessionOf, sidOf } from './auth.js';
import { error, json, readBody } from './http.js';
import { startImport } from './import-job.js';
import { canRead, hasDeskAccess, hasPermission } from './permissions.js';
import type { SitePublisher } from './publishing.js';
import { now } from './seed.js';
import { commentDoc, type SiteData, type Store, type ToDo } from './store.js';

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

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { site: string; session: Session; params: string[] },
) => Promise<void> | void;

/**
 * The web backend of the demo, speaking like Frappe's: `/api/method/login`, the two backchannel
 * endpoints, and a small REST API for ToDos and comments that publishes `list_update`,
 * `doc_update` and `docinfo_update` after each change is committed.
 */
export function createBackend(
  options: BackendOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { store } = options;

  const siteOf = (req: IncomingMessage): string | undefined => {
    const named = req.headers['x-frappe-site-name'];
    const host = hostnameOf(typeof named === 'string' && named ? named : req.headers.host);
    const site =
      host === undefined || host === 'localhost' || host === '127.0.0.1'
        ? options.defaultSite
        : host;
    return store.read(site) ? site : undefined;
  };

  /** A change to the site's data whose realtime events go out only once it is written. */
  const change = async <T>(
    site: string,
    session: Session,
    apply: (data: SiteData, publish: SitePublisher['publishRealtime']) => T,
  ): Promise<T> => {
    const tx = options.publisherFor(site).withContext({ user: session.user }).transaction();
    let result: T;
    try {
      result = store.transaction(site, (data) =>
        apply(data, (args) => tx.publishRealtime({ ...args, afterCommit: true })),
      );
    } catch (failure) {
      tx.rollback();
      throw failure;
    }
    await tx.commit();
    return result;
  };

  const requireDesk = (res: ServerResponse, session: Session): boolean => {
    if (hasDeskAccess(session)) return true;
    error(
      res,
      session.user === 'Guest' ? 401 : 403,
      'PermissionError',
      session.user === 'Guest' ? 'Log in first' : 'Not permitted',
    );
    return false;
  };
  const findReadable = (
    res: ServerResponse,
    site: string,
    session: Session,
    name: string,
  ): ToDo | undefined => {
    const todo = store.read(site)!.todos.find((t) => t.name === name);
    if (!todo || !canRead(session, todo)) {
      error(
        res,
        todo ? 403 : 404,
        todo ? 'PermissionError' : 'DoesNotExistError',
        todo ? 'Not permitted' : `ToDo ${name} not found`,
      );
      return undefined;
    }
    return todo;
  };

  const routes: [string, RegExp, Handler][] = [
    [
      'POST',
      /^\/api\/method\/login$/,
      async (req, res, { site }) => {
        const body = await readBody(req);
        const result = login(store, site, String(body.usr ?? ''), String(body.pwd ?? ''));
        if (!result) return error(res, 401, 'AuthenticationError', 'Incorrect user or password');
        json(
          res,
          200,
          {
            message: 'Logged In',
            full_name: result.session.fullName,
            user: result.session.user,
            user_type: result.session.userType,
          },
          {
            'set-cookie': `sid=${result.sid}; Path=/; HttpOnly; SameSite=Lax`,
          },
        );
      },
    ],
    [
      'POST',
      /^\/api\/method\/logout$/,
      (req, res, { site }) => {
        logout(store, site, sidOf(req));
        json(
          res,
          200,
          { message: 'Logged Out' },
          { 'set-cookie': 'sid=Guest; Path=/; HttpOnly; SameSite=Lax' },
        );
      },
    ],
    ['GET', /^\/api\/method\/ping$/, (_req, res) => json(res, 200, { message: 'pong' })],
    [
      'GET',
      /^\/api\/method\/demo\.boot$/,
      (_req, res, { site, session }) =>
        json(res, 200, {
          message: {
            site,
            user: session.user,
            user_type: session.userType,
            full_name: session.fullName,
          },
        }),
    ],
    [
      'GET',
      /^\/api\/method\/frappe\.auth\.get_logged_user$/,
      (_req, res, { session }) =>
        json(res, 200, {
          message: session.user,
          user_type: session.userType,
          full_name: session.fullName,
        }),
    ],
    [
      'GET',
      /^\/api\/method\/frappe\.realtime\.get_user_info$/,
      (req, res, { site, session }) => {
        if (req.headers['x-frappe-socket-secret'] !== options.socketSecret)
          return json(res, 200, { message: {} });
        json(res, 200, {
          message: {
            user: session.user,
            user_type: session.userType,
            installed_apps: ['frappe', 'demo'],
            site,
          },
        });
      },
    ],
    [
      'GET',
      /^\/api\/method\/frappe\.realtime\.has_permission$/,
      (req, res, { site, session }) => {
        const query = new URL(req.url ?? '/', 'http://demo').searchParams;
        if (
          !hasPermission(
            session,
            query.get('doctype') ?? '',
            query.get('name') ?? '',
            store.read(site)!.todos,
          )
        ) {
          return error(res, 403, 'PermissionError', 'Not permitted');
        }
        json(res, 200, { message: true });
      },
    ],
    [
      'GET',
      /^\/api\/resource\/ToDo$/,
      (_req, res, { site, session }) => {
        if (!requireDesk(res, session)) return;
        const data = store.read(site)!;
        json(res, 200, {
          data: data.todos
            .filter((t) => canRead(session, t))
            .sort((a, b) => b.name.localeCompare(a.name)),
        });
      },
    ],
    [
      'POST',
      /^\/api\/resource\/ToDo$/,
      async (req, res, { site, session }) => {
        if (!requireDesk(res, session)) return;
        const body = await readBody(req);
        const description = String(body.description ?? '').trim();
        if (!description) return error(res, 417, 'MandatoryError', 'description is required');
        const allocatedTo =
          typeof body.allocatedTo === 'string' && body.allocatedTo ? body.allocatedTo : null;
        const todo = await change(site, session, (data, publish) => {
          data.counter += 1;
          const created: ToDo = {
            name: `TD-${String(data.counter).padStart(4, '0')}`,
            description,
            status: 'Open',
            owner: session.user,
            allocatedTo,
            modified: now(),
          };
          data.todos.push(created);
          void publish({
            event: 'list_update',
            message: { doctype: 'ToDo', name: created.name, user: session.user },
          });
          return created;
        });
        json(res, 200, { data: todo });
      },
    ],
    [
      'GET',
      /^\/api\/resource\/ToDo\/([^/]+)$/,
      (_req, res, { site, session, params }) => {
        if (!requireDesk(res, session)) return;
        const todo = findReadable(res, site, session, params[0]!);
        if (todo)
          json(res, 200, {
            data: todo,
            comments: store
              .read(site)!
              .comments.filter(
                (c) => c.reference_doctype === 'ToDo' && c.reference_name === todo.name,
              ),
          });
      },
    ],
    [
      'PUT',
      /^\/api\/resource\/ToDo\/([^/]+)$/,
      async (req, res, { site, session, params }) => {
        if (!requireDesk(res, session) || !findReadable(res, site, session, params[0]!)) return;
        const body = await readBody(req);
        const todo = await change(site, session, (data, publish) => {
          const doc = data.todos.find((t) => t.name === params[0])!;
          if (typeof body.description === 'string' && body.description.trim())
            doc.description = body.description.trim();
          if (body.status === 'Open' || body.status === 'Closed') doc.status = body.status;
          if (typeof body.allocatedTo === 'string' || body.allocatedTo === null)
            doc.allocatedTo = body.allocatedTo || null;
          doc.modified = now();
          void publish({
            event: 'doc_update',
            message: { modified: doc.modified, doctype: 'ToDo', name: doc.name },
            doctype: 'ToDo',
            docname: doc.name,
          });
          void publish({
            event: 'list_update',
            message: { doctype: 'ToDo', name: doc.name, user: session.user },
          });
          return doc;
        });
        json(res, 200, { data: todo });
      },
    ],
    [
      'POST',
      /^\/api\/resource\/ToDo\/([^/]+)\/comments$/,
      async (req, res, { site, session, params }) => {
        if (!requireDesk(res, session) || !findReadable(res, site, session, params[0]!)) return;
        const content = String((await readBody(req)).content ?? '').trim();
        if (!content) return error(res, 417, 'MandatoryError', 'content is required');
        const comment = await change(site, session, (data, publish) => {
          data.counter += 1;
          const created = commentDoc({
            name: `CMT-${String(data.counter).padStart(4, '0')}`,
            owner: session.user,
            fullName: session.fullName,
            creation: now(),
            todo: data.todos.find((t) => t.name === params[0])!,
            content,
          });
          data.comments.push(created);
          // As Frappe's Comment.notify_change('add') does, to the ToDo's doc room.
          void publish({
            event: 'docinfo_update',
            message: { doc: created, key: 'comments', action: 'add' },
            doctype: created.reference_doctype,
            docname: created.reference_name,
          });
          return created;
        });
        json(res, 200, { data: comment });
      },
    ],
    [
      'POST',
      /^\/api\/method\/demo\.msgprint$/,
      async (req, res, { site, session }) => {
        if (!requireDesk(res, session)) return;
        const message = String((await readBody(req)).message ?? 'Hello from the server!');
        await options
          .publisherFor(site)
          .withContext({ user: session.user })
          .publishRealtime({
            event: 'msgprint',
            message: { message, title: 'Message', indicator: 'green' },
          });
        json(res, 200, { message: 'sent' });
      },
    ],
    [
      'POST',
      /^\/api\/method\/demo\.start_import$/,
      (_req, res, { site, session }) => {
        if (!requireDesk(res, session)) return;
        const taskId = startImport(
          options.publisherFor(site),
          session.user,
          options.importMs,
          options.log,
        );
        json(res, 200, { message: { task_id: taskId } });
      },
    ],
  ];

  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    for (const [method, pattern, handler] of routes) {
      const match = pattern.exec(path);
      if (!match || req.method !== method) continue;
      const site = siteOf(req);
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
      Promise.resolve(
        handler(req, res, {
          site,
          session: session ?? GUEST,
          params: match.slice(1).map(decodeURIComponent),
        }),
      ).catch((failure: unknown) => {
        options.log(failure);
        if (!res.headersSent) error(res, 500, 'ServerError', (failure as Error).message);
      });
      return true;
    }
    return false;
  };
}
