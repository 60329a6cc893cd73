import { error, json } from '../http.js';
import { hasPermission } from '../permissions.js';
import type { Route } from '../router.js';
import type { Store } from '../store.js';

/**
 * What Herald asks the web server, as Frappe answers it (the contract's backchannel): `ping` for
 * its readiness check, `get_user_info` when a socket connects, `has_permission` before a socket
 * joins a doctype or document room. Herald forwards the browser's cookie or token, so the session
 * in the context is the socket's user.
 */
export function backchannelRoutes(store: Store, socketSecret: string): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/method\/ping$/,
      handle: (_req, res) => json(res, 200, { message: 'pong' }),
    },
    {
      method: 'GET',
      path: /^\/api\/method\/frappe\.realtime\.get_user_info$/,
      handle: (req, res, { site, session }) => {
        // As Frappe does (spec 3.5): a wrong or missing secret is a 200 with an empty message.
        if (req.headers['x-frappe-socket-secret'] !== socketSecret)
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
    },
    {
      method: 'GET',
      path: /^\/api\/method\/frappe\.realtime\.has_permission$/,
      handle: (req, res, { site, session }) => {
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
    },
  ];
}
