import { HeraldError } from '../errors.js';
import { siteNamespaces } from '../namespaces.js';
import type { HttpRoute } from '../server.js';
import type { HeraldIo } from '../session.js';
import { bearerToken, pathOf, sameSecret, sendError, sendJson } from './respond.js';

/**
 * The admin API, behind `--admin-token` (a Bearer token): `/admin/sockets?site=&user=` lists
 * sockets with their user, transport and rooms; `/admin/rooms?site=` lists rooms and their size.
 * Off (404) when no token is configured.
 */
export function adminRoute(io: HeraldIo, token: string | undefined): HttpRoute {
  return (req, res) => {
    const path = pathOf(req);
    if (!path.startsWith('/admin/')) return false;
    if (!token) {
      sendError(res, new HeraldError('HERALD_ADMIN_OFF'));
      return true;
    }
    const presented = bearerToken(req);
    if (!presented || !sameSecret(presented, token)) {
      sendError(res, new HeraldError('HERALD_ADMIN_UNAUTHORIZED'));
      return true;
    }
    const query = new URL(req.url ?? '/', 'http://herald').searchParams;
    const site = query.get('site');
    const namespaces = siteNamespaces(io).filter((nsp) => !site || nsp.name === `/${site}`);
    if (path === '/admin/sockets') {
      const user = query.get('user');
      const sockets = namespaces.flatMap((nsp) =>
        [...nsp.sockets.values()]
          .filter((socket) => !user || socket.data.user === user)
          .map((socket) => ({
            id: socket.id,
            site: socket.data.site,
            user: socket.data.user,
            userType: socket.data.userType,
            transport: socket.conn.transport.name,
            address: socket.handshake.address,
            connectedAt: new Date(socket.handshake.issued).toISOString(),
            recovered: socket.recovered,
            rooms: [...socket.rooms].filter((room) => room !== socket.id),
          })),
      );
      sendJson(res, 200, { sockets });
      return true;
    }
    if (path === '/admin/rooms') {
      const rooms = namespaces.flatMap((nsp) =>
        [...nsp.adapter.rooms.entries()]
          // Not a socket's own room, nor a room kept empty for a while (rooms/rooms-adapter.ts).
          .filter(
            ([room, members]) => members.size > 0 && !(members.size === 1 && members.has(room)),
          )
          .map(([room, members]) => ({ site: nsp.name.slice(1), room, sockets: members.size })),
      );
      sendJson(res, 200, { rooms });
      return true;
    }
    sendError(
      res,
      new HeraldError('HERALD_NOT_FOUND', `no admin route ${path}`, {
        hint: 'use /admin/sockets or /admin/rooms',
      }),
    );
    return true;
  };
}
