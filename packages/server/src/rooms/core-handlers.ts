import { autoRooms, docRoom, doctypeRoom, GUEST, openDocRoom, taskRoom } from '@herald/protocol';
import type { Backchannel } from '../auth/backchannel.js';
import type { Broker } from '../bridge/broker.js';
import { asHeraldError, HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HeraldSocket } from '../session.js';
import { type Ack, answer, docnameArg, failure, nameArg, splitAck } from './reply.js';
import { notifyViewers } from './viewers.js';

/** What the core handlers need. */
export interface CoreDeps {
  backchannel: Backchannel;
  broker: Broker;
  developerMode: boolean;
  logger: Logger;
  /** Herald's version, for herald_whoami. */
  version?: string;
  /** The connection state recovery window (0: off). */
  recoveryWindowMs?: number;
}

/** Socket.IO's disconnect reasons after which connection state recovery may restore the session. */
const RECOVERABLE = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
]);

/** Extra fields of a successful answer. */
type Reply = Record<string, unknown>;

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
type CoreEvent = (typeof CORE_EVENTS)[number];
const CORE_EVENT_SET: ReadonlySet<string> = new Set(CORE_EVENTS);

/** Whether `event` is one of the core events (answered by Herald itself). */
export const isCoreEvent = (event: string): boolean => CORE_EVENT_SET.has(event);

/** Asks the web server for read permission; a denial or a failed check throws a coded error. */
async function requirePermission(
  socket: HeraldSocket,
  backchannel: Backchannel,
  doctype: string,
  docname?: string,
): Promise<void> {
  let allowed: boolean;
  try {
    allowed = await backchannel.hasPermission(socket.data.backchannel, doctype, docname);
  } catch (error) {
    const cause = asHeraldError(error);
    throw new HeraldError(
      'HERALD_PERMISSION_CHECK_FAILED',
      `could not check read permission on ${docname === undefined ? doctype : `${doctype} ${docname}`}: ${cause.message}`,
      { cause, hint: cause.hint },
    );
  }
  if (!allowed) {
    throw new HeraldError(
      'HERALD_PERMISSION_DENIED',
      `${socket.data.user} is not permitted to read ${docname === undefined ? doctype : `${doctype} ${docname}`}`,
    );
  }
}

/**
 * A core request handler: its return value (an object) is merged into the `ok` answer. `checked`
 * is the request's permission check when it was started early (see `startCheck`).
 */
type CoreHandler = (
  socket: HeraldSocket,
  args: unknown[],
  deps: CoreDeps,
  checked: Promise<void> | undefined,
) => unknown;

/** Permission checks of one socket that may run ahead of its room changes. */
const MAX_EARLY_CHECKS = 8;

/** The doctype and document whose read permission a request needs, for the events that need one. */
const NEEDS_PERMISSION: Partial<Record<CoreEvent, (args: unknown[]) => [string, string?]>> = {
  doctype_subscribe: ([doctype]) => [nameArg('doctype_subscribe', 'doctype', doctype)],
  doc_subscribe: ([doctype, docname]) => [
    nameArg('doc_subscribe', 'doctype', doctype),
    docnameArg('doc_subscribe', docname),
  ],
  doc_open: ([doctype, docname]) => [
    nameArg('doc_open', 'doctype', doctype),
    docnameArg('doc_open', docname),
  ],
};

/**
 * Starts a request's permission check at once, before the socket's earlier requests are done: the
 * checks of a burst of subscribes wait on the web server together instead of one after another,
 * while their room changes still happen in the order the client sent them. At most
 * MAX_EARLY_CHECKS per socket run ahead; the rest are checked in turn. Bad arguments start nothing
 * (the handler answers them).
 */
function startCheck(
  socket: HeraldSocket,
  event: CoreEvent,
  args: unknown[],
  deps: CoreDeps,
): Promise<void> | undefined {
  const needs = NEEDS_PERMISSION[event];
  const session = socket.data;
  if (!needs || (session.earlyChecks ?? 0) >= MAX_EARLY_CHECKS) return undefined;
  let target: [string, string?];
  try {
    target = needs(args);
  } catch {
    return undefined;
  }
  session.earlyChecks = (session.earlyChecks ?? 0) + 1;
  const check = requirePermission(socket, deps.backchannel, ...target).finally(() => {
    session.earlyChecks = (session.earlyChecks ?? 1) - 1;
  });
  // Awaited in turn by the handler; until then a denial must not count as unhandled.
  check.catch(() => undefined);
  return check;
}

/** Joins only while connected: a socket that left during the permission check keeps no room. */
const join = (socket: HeraldSocket, room: string) => {
  if (socket.connected) socket.join(room);
};

const subscribeTask: (event: string) => CoreHandler =
  (event) =>
  (socket, [taskId]) =>
    join(socket, taskRoom(nameArg(event, 'task_id', taskId)));

/** The client events of section 5, one function each, shared by every socket. */
const HANDLERS: Record<Exclude<CoreEvent, 'ping'>, CoreHandler> = {
  doctype_subscribe: async (socket, [doctype], deps, checked) => {
    const dt = nameArg('doctype_subscribe', 'doctype', doctype);
    await (checked ?? requirePermission(socket, deps.backchannel, dt));
    join(socket, doctypeRoom(dt));
  },
  doctype_unsubscribe: (socket, [doctype]) => {
    socket.leave(doctypeRoom(nameArg('doctype_unsubscribe', 'doctype', doctype)));
  },
  doc_subscribe: async (socket, [doctype, docname], deps, checked) => {
    const dt = nameArg('doc_subscribe', 'doctype', doctype);
    const dn = docnameArg('doc_subscribe', docname);
    await (checked ?? requirePermission(socket, deps.backchannel, dt, dn));
    join(socket, docRoom(dt, dn));
  },
  doc_unsubscribe: (socket, [doctype, docname]) => {
    socket.leave(
      docRoom(
        nameArg('doc_unsubscribe', 'doctype', doctype),
        docnameArg('doc_unsubscribe', docname),
      ),
    );
  },
  task_subscribe: subscribeTask('task_subscribe'),
  progress_subscribe: subscribeTask('progress_subscribe'),
  task_unsubscribe: (socket, [taskId]) => {
    socket.leave(taskRoom(nameArg('task_unsubscribe', 'task_id', taskId)));
  },
  doc_open: async (socket, [doctype, docname], deps, checked) => {
    const dt = nameArg('doc_open', 'doctype', doctype);
    const dn = docnameArg('doc_open', docname);
    await (checked ?? requirePermission(socket, deps.backchannel, dt, dn));
    if (!socket.connected) return;
    const room = openDocRoom(dt, dn);
    socket.join(room);
    const session = socket.data;
    session.openDocs ??= new Map();
    session.openDocs.set(room, { doctype: dt, docname: dn });
    notifyViewers(socket.nsp, session.user, dt, dn);
  },
  doc_close: (socket, [doctype, docname]) => {
    const dt = nameArg('doc_close', 'doctype', doctype);
    const dn = docnameArg('doc_close', docname);
    const room = openDocRoom(dt, dn);
    socket.leave(room);
    // Only this document is forgotten (upstream's filter dropped every tracked document).
    if (socket.data.openDocs?.delete(room)) notifyViewers(socket.nsp, socket.data.user, dt, dn);
  },
  herald_whoami: async (socket, _args, deps) => {
    // For `herald doctor`: who this socket is, where it is, and whether the backchannel answers now.
    const session = socket.data;
    const started = Date.now();
    let backchannelCheck: Record<string, unknown>;
    try {
      const identity = await deps.backchannel.userInfo(session.backchannel, { fresh: true });
      backchannelCheck = {
        ok: true,
        url: session.backchannel.base,
        user: identity.user,
        ms: Date.now() - started,
      };
    } catch (error) {
      const cause = asHeraldError(error);
      backchannelCheck = {
        ok: false,
        url: session.backchannel.base,
        code: cause.code,
        detail: cause.message,
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
  open_in_editor: async (socket, [data], deps) => {
    if (!deps.developerMode)
      throw new HeraldError(
        'HERALD_BAD_ARGUMENT',
        'open_in_editor: only available in developer mode',
      );
    if (socket.data.user === GUEST)
      throw new HeraldError('HERALD_PERMISSION_DENIED', 'open_in_editor: not for Guest');
    await deps.broker.publish(JSON.stringify(data ?? {}), 'open_in_editor');
  },
};

/** Runs one request and answers it: through its acknowledgement, or `herald_error` on failure. */
async function settle(
  socket: HeraldSocket,
  event: CoreEvent,
  args: unknown[],
  ack: Ack | undefined,
  deps: CoreDeps,
  checked: Promise<void> | undefined,
): Promise<void> {
  try {
    const extra = await HANDLERS[event as Exclude<CoreEvent, 'ping'>](socket, args, deps, checked);
    const fields = typeof extra === 'object' && extra !== null ? (extra as Reply) : {};
    answer(socket, event, ack, { ...fields, ok: true });
  } catch (error) {
    const reply = failure(error);
    const where = { site: socket.data.site, user: socket.data.user, socket: socket.id, event };
    if (!reply.ok && reply.error.code === 'HERALD_INTERNAL')
      deps.logger.error({ ...where, err: error }, 'handler failed');
    else
      deps.logger.debug({ ...where, error: reply.ok ? undefined : reply.error }, 'request refused');
    answer(socket, event, ack, reply);
  }
}

/**
 * The core client events (section 5) of every socket of a server. Nothing is built per socket but
 * its rooms: one shared listener takes every event, so an idle socket costs no closures. Room
 * changes of one socket run one after another, in the order the client sent them, so a doc_close
 * can never overtake the doc_open before it; only their permission checks may run ahead.
 */
export class CoreHandlers {
  readonly #deps: CoreDeps;
  readonly #onEvent: (this: HeraldSocket, event: string, ...raw: unknown[]) => void;
  readonly #onDisconnect: (this: HeraldSocket, reason: string) => void;

  constructor(deps: CoreDeps) {
    this.#deps = deps;
    this.#onEvent = function (event, ...raw) {
      if (!CORE_EVENT_SET.has(event)) return;
      const { args, ack } = splitAck(raw);
      if (event === 'ping') {
        this.emit('pong');
        if (ack) answer(this, 'ping', ack, { ok: true });
        return;
      }
      const session = this.data;
      const checked = startCheck(this, event as CoreEvent, args, deps);
      const run = () => settle(this, event as CoreEvent, args, ack, deps, checked);
      const next: Promise<void> = (session.pending ?? Promise.resolve()).then(run).finally(() => {
        // Drained: an idle socket holds no promise.
        if (session.pending === next) session.pending = undefined;
      });
      session.pending = next;
    };
    this.#onDisconnect = function (reason) {
      const session = this.data;
      // Socket.IO has already removed the socket from its rooms: the viewers left are the others.
      for (const { doctype, docname } of session.openDocs?.values() ?? []) {
        notifyViewers(this.nsp, session.user, doctype, docname);
      }
      // A session that may be recovered keeps its open documents and state for its return.
      if (!RECOVERABLE.has(reason)) {
        session.openDocs = undefined;
        session.state = undefined;
      }
    };
  }

  /** Joins the automatic rooms and takes the socket's core events from now on. */
  attach(socket: HeraldSocket): void {
    const session = socket.data;
    socket.join(autoRooms(session.user, session.userType));
    socket.onAny(this.#onEvent);
    socket.on('disconnect', this.#onDisconnect);
    const { recoveryWindowMs } = this.#deps;
    if (recoveryWindowMs && !socket.recovered) {
      // Socket.IO recovers a session only from the offset of an event the client received: a first
      // event gives every client one, even if nothing else reaches it before it loses its connection.
      socket.emit('herald_session', { recoveryWindowMs });
    }
    if (socket.recovered) {
      // Back within the recovery window: its rooms were restored, open documents included.
      for (const { doctype, docname } of session.openDocs?.values() ?? [])
        notifyViewers(socket.nsp, session.user, doctype, docname);
    }
  }
}
