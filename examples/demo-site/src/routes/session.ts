import { login, logout, sidOf } from '../auth.js';
import { error, json, readBody } from '../http.js';
import type { Route } from '../router.js';
import type { Store } from '../store.js';

/**
 * Logging in and out with Frappe's own endpoints and answers (the `sid` cookie), and who the
 * pages are for: `frappe.auth.get_logged_user`, and `demo.boot` with the site for the pages' header.
 */
export function sessionRoutes(store: Store): Route[] {
  return [
    {
      method: 'POST',
      path: /^\/api\/method\/login$/,
      handle: async (req, res, { site }) => {
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
    },
    {
      method: 'POST',
      path: /^\/api\/method\/logout$/,
      handle: (req, res, { site }) => {
        logout(store, site, sidOf(req));
        json(
          res,
          200,
          { message: 'Logged Out' },
          { 'set-cookie': 'sid=Guest; Path=/; HttpOnly; SameSite=Lax' },
        );
      },
    },
    {
      method: 'GET',
      path: /^\/api\/method\/demo\.boot$/,
      handle: (_req, res, { site, session }) =>
        json(res, 200, {
          message: {
            site,
            user: session.user,
            user_type: session.userType,
            full_name: session.fullName,
          },
        }),
    },
    {
      method: 'GET',
      path: /^\/api\/method\/frappe\.auth\.get_logged_user$/,
      handle: (_req, res, { session }) =>
        json(res, 200, {
          message: session.user,
          user_type: session.userType,
          full_name: session.fullName,
        }),
    },
  ];
}
