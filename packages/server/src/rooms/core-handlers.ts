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
 * Joins the automatic rooms and registers the client events of section 5 on an authenticated
 * socket. Room changes of one socket run one after another, in the order the client sent them,
 * so a doc_close can never overtake the doc_open before it.
 */
export function registerCoreHandlers(socket: HeraldSocket, deps: CoreDeps): void {
  const { backchannel } = deps;
  const session = socket.data;
  const log = deps.logger;
  socket.join(autoRooms(session.user, session.userType));

  let queue: Promise<void> = Promise.resolve();
  /** Registers a request handler: arguments checked, run in order, answered through ack or herald_error. */
  const handle = (event: string, run: (args: unknown[]) => unknown) => {
    socket.on(event, (...raw: unknown[]) => {
      const { args, ack } = splitAck(raw);
      queue = queue.then(() => settle(event, ack, () => run(args)));
    });
  };
  const settle = async (event: string, ack: Ack | undefined, run: () => unknown) => {
    try {
      const extra = await run();
      const fields = typeof extra === 'object' && extra !== null ? (extra as Reply) : {};
      answer(socket, event, ack, { ...fields, ok: true });
    } catch (error) {
      const reply = failure(error);
      if (!reply.ok && reply.error.code === 'HERALD_INTERNAL')
        log.error({ err: error, event }, 'handler failed');
      else log.debug({ event, error: reply.ok ? undefined : reply.error }, 'request refused');
      answer(socket, event, ack, reply);
    }
  };
  /** Joins only while connected: a socket that left during the permission check keeps no room. */
  const join = (room: string) => {
    if (socket.connected) socket.join(room);
  };

  socket.on('ping', (...raw: unknown[]) => {
    socket.emit('pong');
    const { ack } = splitAck(raw);
    if (ack) answer(socket, 'ping', ack, { ok: true });
  });

  handle('doctype_subscribe', async ([doctype]) => {
    const dt = nameArg('doctype_subscribe', 'doctype', doctype);
    await requirePermission(socket, backchannel, dt);
    join(doctypeRoom(dt));
  });
  handle('doctype_unsubscribe', ([doctype]) => {
    socket.leave(doctypeRoom(nameArg('doctype_unsubscribe', 'doctype', doctype)));
  });
  handle('doc_subscribe', async ([doctype, docname]) => {
    const dt = nameArg('doc_subscribe', 'doctype', doctype);
    const dn = docnameArg('doc_subscribe', docname);
    await requirePermission(socket, backchannel, dt, dn);
    join(docRoom(dt, dn));
  });
  handle('doc_unsubscribe', ([doctype, docname]) => {
    socket.leave(
      docRoom(
        nameArg('doc_unsubscribe', 'doctype', doctype),
        docnameArg('doc_unsubscribe', docname),
      ),
    );
  });
  for (const event of ['task_subscribe', 'progress_subscribe']) {
    handle(event, ([taskId]) => join(taskRoom(nameArg(event, 'task_id', taskId))));
  }
  handle('task_unsubscribe', ([taskId]) => {
    socket.leave(taskRoom(nameArg('task_unsubscribe', 'task_id', taskId)));
  });
  handle('doc_open', async ([doctype, docname]) => {
    const dt = nameArg('doc_open', 'doctype', doctype);
    const dn = docnameArg('doc_open', docname);
    await requirePermission(socket, backchannel, dt, dn);
    if (!socket.connected) return;
    const room = openDocRoom(dt, dn);
    join(room);
    session.openDocs.set(room, { doctype: dt, docname: dn });
    notifyViewers(socket.nsp, session.user, dt, dn);
  });
  handle('doc_close', ([doctype, docname]) => {
    const dt = nameArg('doc_close', 'doctype', doctype);
    const dn = docnameArg('doc_close', docname);
    const room = openDocRoom(dt, dn);
    socket.leave(room);
    // Only this document is forgotten (upstream's filter dropped every tracked document).
    if (session.openDocs.delete(room)) notifyViewers(socket.nsp, session.user, dt, dn);
  });
  handle('herald_whoami', async () => {
    // For `herald doctor`: who this socket is, where it is, and whether the backchannel answers now.
    const started = Date.now();
    let backchannelCheck: Record<string, unknown>;
    try {
      const identity = await backchannel.userInfo(session.backchannel, { fresh: true });
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
  });
  handle('open_in_editor', async ([data]) => {
    if (!deps.developerMode)
      throw new HeraldError(
        'HERALD_BAD_ARGUMENT',
        'open_in_editor: only available in developer mode',
      );
    if (session.user === GUEST)
      throw new HeraldError('HERALD_PERMISSION_DENIED', 'open_in_editor: not for Guest');
    await deps.broker.publish(JSON.stringify(data ?? {}), 'open_in_editor');
  });

  if (deps.recoveryWindowMs && !socket.recovered) {
    // Socket.IO recovers a session only from the offset of an event the client received: a first
    // event gives every client one, even if nothing else reaches it before it loses its connection.
    socket.emit('herald_session', { recoveryWindowMs: deps.recoveryWindowMs });
  }
  if (socket.recovered) {
    // Back within the recovery window: its rooms were restored, open documents included.
    for (const { doctype, docname } of session.openDocs.values())
      notifyViewers(socket.nsp, session.user, doctype, docname);
  }

  socket.on('disconnect', (reason) => {
    // Socket.IO has already removed the socket from its rooms: the viewers left are the others.
    for (const { doctype, docname } of session.openDocs.values()) {
      notifyViewers(socket.nsp, session.user, doctype, docname);
    }
    // A session that may be recovered keeps its open documents and state for its return.
    if (!RECOVERABLE.has(reason)) {
      session.openDocs.clear();
      session.state.clear();
    }
  });
}
