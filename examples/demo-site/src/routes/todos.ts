import type { Change } from '../after-commit.js';
import { findReadable, requireDesk } from '../guards.js';
import { error, json, readBody } from '../http.js';
import { canRead } from '../permissions.js';
import type { Route } from '../router.js';
import { now } from '../seed.js';
import type { Store, ToDo } from '../store.js';

/**
 * The ToDo doctype's REST API (`/api/resource/ToDo`), for desk users and only the ToDos they may
 * read. Changes publish after commit: `list_update` on create, and on edit what Frappe's
 * `notify_update` sends (`doc_update` to the doc room, then `list_update`).
 */
export function todoRoutes(store: Store, change: Change): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/resource\/ToDo$/,
      handle: (_req, res, { site, session }) => {
        if (!requireDesk(res, session)) return;
        const data = store.read(site)!;
        json(res, 200, {
          data: data.todos
            .filter((t) => canRead(session, t))
            .sort((a, b) => b.name.localeCompare(a.name)),
        });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/resource\/ToDo$/,
      handle: async (req, res, { site, session }) => {
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
    },
    {
      method: 'GET',
      path: /^\/api\/resource\/ToDo\/([^/]+)$/,
      handle: (_req, res, { site, session, params }) => {
        if (!requireDesk(res, session)) return;
        const data = store.read(site)!;
        const todo = findReadable(res, data.todos, session, params[0]!);
        if (todo)
          json(res, 200, {
            data: todo,
            comments: data.comments.filter(
              (c) => c.reference_doctype === 'ToDo' && c.reference_name === todo.name,
            ),
          });
      },
    },
    {
      method: 'PUT',
      path: /^\/api\/resource\/ToDo\/([^/]+)$/,
      handle: async (req, res, { site, session, params }) => {
        if (
          !requireDesk(res, session) ||
          !findReadable(res, store.read(site)!.todos, session, params[0]!)
        )
          return;
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
    },
  ];
}
