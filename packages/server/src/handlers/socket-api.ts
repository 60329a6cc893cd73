import type { Backchannel } from '../auth/backchannel.js';
import type { ClusterRequests } from '../cluster/requests.js';
import { limitReached, type SocketLimits } from '../rooms/limits.js';
import { endWithSession } from '../rooms/session-end.js';
import type { HeraldSocket } from '../session.js';
import type { HandlerSocket } from './types.js';

/** The handler-facing view of a socket: identity, rooms, emits, state and permission checks. */
export function handlerSocket(
  socket: HeraldSocket,
  backchannel: Backchannel,
  limits: SocketLimits,
  requests?: ClusterRequests,
): HandlerSocket {
  const session = socket.data;
  return {
    id: socket.id,
    site: session.site,
    user: session.user,
    userType: session.userType,
    installedApps: session.installedApps,
    join: (room) => {
      if (!socket.connected || socket.rooms.has(room)) return;
      if (socket.rooms.size >= limits.maxRooms) throw limitReached('join', 'rooms', limits);
      socket.join(room);
    },
    leave: (room) => {
      socket.leave(room);
    },
    emit: (event, data, room) => {
      if (room === undefined) socket.emit(event, data);
      else socket.nsp.to(room).emit(event, data);
    },
    get: <T>(key: string, fallback?: T) =>
      session.state?.has(key) ? (session.state.get(key) as T) : fallback,
    set: (key, value) => {
      if (!session.state) {
        session.state = new Map();
        endWithSession(socket);
      }
      session.state.set(key, value);
    },
    participants: async (room) => {
      const members = socket.nsp.adapter.rooms.get(room) ?? new Set<string>();
      const local = [...members].flatMap((id) => {
        const user = socket.nsp.sockets.get(id)?.data.user;
        return user === undefined ? [] : [{ socketId: id, user }];
      });
      if (!requests) return local;
      // The room's members on the other nodes (those that answer in time).
      const { answers } = await requests.ask<{ socketId: string; user: string }[]>('participants', {
        site: session.site,
        room,
      });
      return [...local, ...answers.flatMap((answer) => answer.value ?? [])];
    },
    hasPermission: (doctype, name) => backchannel.hasPermission(session.backchannel, doctype, name),
  };
}
