import { requireDesk } from '../guards.js';
import { json, readBody } from '../http.js';
import type { SitePublisher } from '../publishing.js';
import type { Route } from '../router.js';

/**
 * `demo.msgprint`: a `msgprint` to the caller. It names no user: Frappe's rules send a `msgprint`
 * to the session user's room (spec 7, rule 3), hence the context. It changes no data, so it
 * publishes at once, not after a commit.
 */
export function msgprintRoutes(publisherFor: (site: string) => SitePublisher): Route[] {
  return [
    {
      method: 'POST',
      path: /^\/api\/method\/demo\.msgprint$/,
      handle: async (req, res, { site, session }) => {
        if (!requireDesk(res, session)) return;
        const message = String((await readBody(req)).message ?? 'Hello from the server!');
        await publisherFor(site)
          .withContext({ user: session.user })
          .publishRealtime({
            event: 'msgprint',
            message: { message, title: 'Message', indicator: 'green' },
          });
        json(res, 200, { message: 'sent' });
      },
    },
  ];
}
