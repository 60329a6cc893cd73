import type { Change } from '../after-commit.js';
import { findReadable, requireDesk } from '../guards.js';
import { error, json, readBody } from '../http.js';
import type { Route } from '../router.js';
import { now } from '../seed.js';
import { commentDoc, type Store } from '../store.js';

/** Commenting on a ToDo one may read; the desk's form hears of it through `docinfo_update`. */
export function commentRoutes(store: Store, change: Change): Route[] {
  return [
    {
      method: 'POST',
      path: /^\/api\/resource\/ToDo\/([^/]+)\/comments$/,
      handle: async (req, res, { site, session, params }) => {
        if (
          !requireDesk(res, session) ||
          !findReadable(res, store.read(site)!.todos, session, params[0]!)
        )
          return;
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
    },
  ];
}
