import { docRoom, doctypeRoom, GUEST, openDocRoom, taskRoom } from '@herald/protocol';
import type { Backchannel } from '../auth/backchannel.js';
import { detailOf } from '../auth/backend-error.js';
import type { Broker } from '../bridge/broker.js';
import { asHeraldError, ERRORS, HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { HeraldSocket } from '../session.js';
import { limitReached, type SocketLimits } from './limits.js';
import type { PermissionTarget } from './permission-check.js';
import { docnameArg, nameArg } from './reply.js';
import { endWithSession } from './session-end.js';
import { notifyViewers } from './viewers.js';

/** What the core requests need. */
export interface CoreDeps {
  backchannel: Backchannel;
  broker: Broker;
  developerMode: boolean;
  logger: Logger;
  /** Herald's version, for herald_whoami. */
  version?: string;
  /** The connection state recovery window (0: off). */
  recoveryWindowMs?: number;
  /** What one socket may hold and send (rooms/limits.ts). */
  limits: SocketLimits;
  /** Every request is answered within this long of its arrival (about one backend timeout). */
  answerWithinMs: number;
  metrics?: Metrics | undefined;
}

/** Names of the core events: custom handlers may not shadow them. */
export const CORE_EVENTS = [
  'ping',
  'doctype_subscribe',
  'doctype_unsubscribe',
  'doc_subscribe',
  'doc_unsubscribe',
  'task_subscribe',
  'progress_subscribe',
  'task_unsubscribe',
  'doc_open',
  'doc_close',
  'open_in_editor',
  'herald_whoami',
] as const;
export type CoreEvent = (typeof CORE_EVENTS)[number];
const CORE_EVENT_SET: ReadonlySet<string> = new Set(CORE_EVENTS);

/** Whether `event` is one of the core events (answered by Herald itself). */
export const isCoreEvent = (event: string): boolean => CORE_EVENT_SET.has(event);

/**
 * One client request of section 5. `needs` validates the arguments and names what read permission
 * the request needs; `run` does it once allowed (`target` is what `needs` returned), and an object
 * it returns is merged into the `ok` answer. `waits` marks a request whose `run` is asynchronous.
 */
export interface CoreRequest {
  needs?: (args: unknown[], deps: CoreDeps) => PermissionTarget;
  run: (
    socket: HeraldSocket,
    args: unknown[],
    deps: CoreDeps,
    target: PermissionTarget | undefined,
  ) => unknown;
  waits?: true;
}

/**
 * Joins only while connected: a socket that left during the permission check keeps no room. A
 * socket at its --max-rooms joins nothing more and is told so.
 */
const join = (socket: HeraldSocket, room: string, event: string, deps: CoreDeps) => {
  if (!socket.connected || socket.rooms.has(room)) return;
  if (socket.rooms.size >= deps.limits.maxRooms) throw limitReached(event, 'rooms', deps.limits);
  socket.join(room);
};

/** A request that needs read permission on `needs(args)` and then joins `room(target)`. */
const subscribe = (
  event: string,
  needs: (args: unknown[], deps: CoreDeps) => PermissionTarget,
  room: (target: PermissionTarget) => string,
): CoreRequest => ({
  needs,
  run: (socket, _args, deps, target) => join(socket, room(target!), event, deps),
});

const subscribeTask = (event: string): CoreRequest => ({
  run: (socket, [taskId], deps) =>
    join(
      socket,
      taskRoom(nameArg(event, 'task_id', taskId, deps.limits.maxNameLength)),
      event,
      deps,
    ),
});

const doctypeOf =
  (event: string) =>
  ([doctype]: unknown[], deps: CoreDeps): PermissionTarget => [
    nameArg(event, 'doctype', doctype, deps.limits.maxNameLength),
  ];
const docOf =
  (event: string) =>
  ([doctype, docname]: unknown[], deps: CoreDeps): PermissionTarget => [
    nameArg(event, 'doctype', doctype, deps.limits.maxNameLength),
    docnameArg(event, docname, deps.limits.maxNameLength),
  ];

const DOCTYPE_UNSUBSCRIBE = doctypeOf('doctype_unsubscribe');
const DOC_UNSUBSCRIBE = docOf('doc_unsubscribe');
const DOC_CLOSE = docOf('doc_close');

/** The client requests of section 5 (all but `ping`), shared by every socket. */
export const CORE_REQUESTS: Record<Exclude<CoreEvent, 'ping'>, CoreRequest> = {
  doctype_subscribe: subscribe('doctype_subscribe', doctypeOf('doctype_subscribe'), ([dt]) =>
    doctypeRoom(dt),
  ),
  doctype_unsubscribe: {
    run: (socket, args, deps) => socket.leave(doctypeRoom(DOCTYPE_UNSUBSCRIBE(args, deps)[0])),
  },
  doc_subscribe: subscribe('doc_subscribe', docOf('doc_subscribe'), ([dt, dn]) => docRoom(dt, dn!)),
  doc_unsubscribe: {
    run: (socket, args, deps) => {
      const [dt, dn] = DOC_UNSUBSCRIBE(args, deps);
      socket.leave(docRoom(dt, dn!));
    },
  },
  task_subscribe: subscribeTask('task_subscribe'),
  progress_subscribe: subscribeTask('progress_subscribe'),
  task_unsubscribe: {
    run: (socket, [taskId], deps) =>
      socket.leave(
        taskRoom(nameArg('task_unsubscribe', 'task_id', taskId, deps.limits.maxNameLength)),
      ),
  },
  doc_open: {
    needs: docOf('doc_open'),
    run: (socket, _args, deps, target) => {
      if (!socket.connected) return;
      const [dt, dn] = target as [string, string];
      const room = openDocRoom(dt, dn);
      const session = socket.data;
      if (!session.openDocs?.has(room) && (session.openDocs?.size ?? 0) >= deps.limits.maxOpenDocs)
        throw limitReached('doc_open', 'open_docs', deps.limits);
      join(socket, room, 'doc_open', deps);
      if (!session.openDocs) {
        session.openDocs = new Map();
        endWithSession(socket);
      }
      session.openDocs.set(room, { doctype: dt, docname: dn });
      notifyViewers(socket.nsp, session.user, dt, dn, room);
    },
  },
  doc_close: {
    run: (socket, args, deps) => {
      const [dt, dn] = DOC_CLOSE(args, deps) as [string, string];
      const room = openDocRoom(dt, dn);
      socket.leave(room);
      // Only this document is forgotten (upstream's filter dropped every tracked document).
      if (socket.data.openDocs?.delete(room))
        notifyViewers(socket.nsp, socket.data.user, dt, dn, room);
    },
  },
  herald_whoami: {
    waits: true,
    run: async (socket, _args, deps) => {
      // For `herald doctor`: who this socket is, where it is, and whether the backchannel answers
      // now. The backchannel's URL and the backend's error text only for the operator's socket
      // (it presented the admin token): any other gets the code and the catalogue's words.
      const session = socket.data;
      const started = Date.now();
      let backchannelCheck: Record<string, unknown>;
      const url = session.operator ? { url: session.backchannel.base } : undefined;
      try {
        const identity = await deps.backchannel.userInfo(session.backchannel, { fresh: true });
        backchannelCheck = { ok: true, ...url, user: identity.user, ms: Date.now() - started };
      } catch (error) {
        const cause = asHeraldError(error);
        backchannelCheck = {
          ok: false,
          ...url,
          code: cause.code,
          message: ERRORS[cause.code].message,
          ...(session.operator && { detail: detailOf(cause) }),
          hint: cause.hint,
        };
      }
      return {
        server: 'herald',
        version: deps.version,
        site: session.site,
        user: session.user,
        userType: session.userType,
        installedApps: session.installedApps,
        rooms: [...socket.rooms].filter((room) => room !== socket.id),
        transport: socket.conn.transport.name,
        recovered: socket.recovered,
        backchannel: backchannelCheck,
      };
    },
  },
  open_in_editor: {
    waits: true,
    run: async (socket, [data], deps) => {
      if (!deps.developerMode)
        throw new HeraldError(
          'HERALD_DEVELOPER_MODE_ONLY',
          'open_in_editor: only available in developer mode',
        );
      if (socket.data.user === GUEST)
        throw new HeraldError('HERALD_PERMISSION_DENIED', 'open_in_editor: not for Guest');
      await deps.broker.publish(JSON.stringify(data ?? {}), 'open_in_editor');
    },
  },
};
