import { localRooms, localSockets } from '../http/admin.js';
import type { Logger } from '../logger.js';
import type { HeraldIo, HeraldNamespace } from '../session.js';
import { namespacesOf } from '../socketio/namespaces.js';
import { ClusterRequests } from './requests.js';

/** A room's members on this node: socket ids and users only. */
export function localParticipants(
  io: HeraldIo,
  site: string,
  room: string,
): { socketId: string; user: string }[] {
  const nsp = namespacesOf<HeraldNamespace>(io).get(`/${site}`);
  if (!nsp) return [];
  return [...(nsp.adapter.rooms.get(room) ?? [])].flatMap((id) => {
    const user = nsp.sockets.get(id)?.data.user;
    return user === undefined ? [] : [{ socketId: id, user }];
  });
}

/** This node's answers to the cluster's questions (admin lists, a room's participants). */
export function clusterQuestions(io: HeraldIo, node: string, logger: Logger): ClusterRequests {
  const requests = new ClusterRequests(io, node, logger);
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  requests.answer('admin:sockets', (args) => {
    const { site, user } = (args ?? {}) as { site?: unknown; user?: unknown };
    return localSockets(io, text(site), text(user), node);
  });
  requests.answer('admin:rooms', (args) =>
    localRooms(io, text((args as { site?: unknown } | null)?.site)),
  );
  requests.answer('participants', (args) => {
    const { site, room } = (args ?? {}) as { site?: unknown; room?: unknown };
    const s = text(site);
    const r = text(room);
    return s && r ? localParticipants(io, s, r) : [];
  });
  return requests;
}
