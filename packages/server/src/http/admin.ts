import { HeraldError } from '../errors.js';
import { siteNamespaces } from '../namespaces.js';
import type { HttpRoute } from '../server.js';
import type { HeraldIo } from '../session.js';
import { bearerToken, pathOf, sameSecret, sendError, sendJson } from './respond.js';

/** What the admin API lists of one socket. */
export interface AdminSocket {
  id: string;
  node?: string | undefined;
  site: string;
  user: string;
  userType: string;
  transport: string;
  address: string;
  connectedAt: string;
  recovered: boolean;
  rooms: string[];
}

/** This process's sockets, of one site or all, of one user or all. */
export function localSockets(
  io: HeraldIo,
  site: string | null | undefined,
  user: string | null | undefined,
  node?: string,
): AdminSocket[] {
  return siteNamespaces(io)
    .filter((nsp) => !site || nsp.name === `/${site}`)
    .flatMap((nsp) =>
      [...nsp.sockets.values()]
        .filter((socket) => !user || socket.data.user === user)
        .map((socket) => ({
          id: socket.id,
          ...(node !== undefined && { node }),
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
}

/** This process's rooms and their sizes, of one site or all. */
export function localRooms(
  io: HeraldIo,
  site: string | null | undefined,
): { site: string; room: string; sockets: number }[] {
  return siteNamespaces(io)
    .filter((nsp) => !site || nsp.name === `/${site}`)
    .flatMap((nsp) =>
      [...nsp.adapter.rooms.entries()]
        // Not a socket's own room, nor a room kept empty for a while (rooms/rooms-adapter.ts).
        .filter(([room, members]) => members.size > 0 && !(members.size === 1 && members.has(room)))
        .map(([room, members]) => ({ site: nsp.name.slice(1), room, sockets: members.size })),
    );
}

/** The other nodes' shares of the admin lists, in a cluster. */
export interface AdminCluster {
  node: string;
  ask<T>(
    question: string,
    args: unknown,
  ): Promise<{ answers: { node: string; value: T }[]; missing: string[]; missingCount: number }>;
}

/** The fields an answer gets when some node did not answer in time. */
function partial(missing: string[], missingCount: number) {
  if (missingCount === 0) return {};
  const error = new HeraldError(
    'HERALD_CLUSTER_TIMEOUT',
    `${missingCount} node(s) did not answer in time${missing.length ? `: ${missing.join(', ')}` : ''}; the list holds the others' answers`,
  );
  return { partial: true, missing, error: error.toBody() };
}

/**
 * The admin API, behind `--admin-token` (a Bearer token): `/admin/sockets?site=&user=` lists
 * sockets with their user, transport and rooms; `/admin/rooms?site=` lists rooms and their size.
 * Off (404) when no token is configured. In a cluster, every node is asked for its share (each
 * socket names its node; rooms are summed), and an answer some node missed says which.
 */
export function adminRoute(
  io: HeraldIo,
  token: string | undefined,
  cluster?: () => AdminCluster | undefined,
): HttpRoute {
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
    const nodes = cluster?.();
    if (path === '/admin/sockets') {
      const user = query.get('user');
      const sockets = localSockets(io, site, user, nodes?.node);
      if (!nodes) {
        sendJson(res, 200, { sockets });
        return true;
      }
      nodes.ask<AdminSocket[]>('admin:sockets', { site, user }).then(
        ({ answers, missing, missingCount }) => {
          for (const answer of answers) sockets.push(...(answer.value ?? []));
          sendJson(res, 200, { sockets, ...partial(missing, missingCount) });
        },
        (error: unknown) => sendError(res, new HeraldError('HERALD_INTERNAL', String(error))),
      );
      return true;
    }
    if (path === '/admin/rooms') {
      const rooms = localRooms(io, site);
      if (!nodes) {
        sendJson(res, 200, { rooms });
        return true;
      }
      nodes.ask<{ site: string; room: string; sockets: number }[]>('admin:rooms', { site }).then(
        ({ answers, missing, missingCount }) => {
          const merged = new Map<string, { site: string; room: string; sockets: number }>();
          for (const entry of [...rooms, ...answers.flatMap((answer) => answer.value ?? [])]) {
            const key = `${entry.site}\n${entry.room}`;
            const known = merged.get(key);
            if (known) known.sockets += entry.sockets;
            else merged.set(key, { ...entry });
          }
          sendJson(res, 200, { rooms: [...merged.values()], ...partial(missing, missingCount) });
        },
        (error: unknown) => sendError(res, new HeraldError('HERALD_INTERNAL', String(error))),
      );
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
