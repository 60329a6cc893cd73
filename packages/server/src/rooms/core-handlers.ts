import { autoRooms } from '@herald/protocol';
import { takeDirectly } from '../direct-requests.js';
import type { HeraldSocket } from '../session.js';
import {
  CORE_EVENTS,
  CORE_REQUESTS,
  type CoreDeps,
  type CoreEvent,
  type CoreRequest,
  isCoreEvent,
} from './core-requests.js';
import {
  cachedPermission,
  type PermissionTarget,
  requirePermission,
  startEarlyCheck,
} from './permission-check.js';
import { type Ack, answer, failure, OK, takeAck } from './reply.js';
import { endWithSession } from './session-end.js';
import { SessionOffsets } from './session-offsets.js';
import { notifyViewers } from './viewers.js';

export { CORE_EVENTS, type CoreDeps, isCoreEvent } from './core-requests.js';

type AnyListener = (this: HeraldSocket, event: string, ...raw: unknown[]) => void;

/**
 * `socket.onAny(listener)` for a socket's one catch-all listener. Socket.IO keeps catch-all
 * listeners in an array it grows by push, which reserves room for 16 (about 130 bytes more per
 * socket); the first listener gets an array of its own size instead.
 */
function listenToAll(socket: HeraldSocket, listener: AnyListener): void {
  const any = socket as unknown as { _anyListeners?: AnyListener[] };
  if (any._anyListeners === undefined) any._anyListeners = [listener];
  else socket.onAny(listener);
}

/** Answers a request that succeeded, with the fields its `run` returned. */
function succeed(socket: HeraldSocket, event: string, ack: Ack | undefined, extra: unknown): void {
  answer(
    socket,
    event,
    ack,
    typeof extra === 'object' && extra !== null ? { ...extra, ok: true } : OK,
  );
}

/** Answers a request that failed, and logs it (as an error when it was Herald's own fault). */
function fail(
  socket: HeraldSocket,
  event: string,
  ack: Ack | undefined,
  error: unknown,
  deps: CoreDeps,
): void {
  const reply = failure(error);
  const where = { site: socket.data.site, user: socket.data.user, socket: socket.id, event };
  if (!reply.ok && reply.error.code === 'HERALD_INTERNAL')
    deps.logger.error({ ...where, err: error }, 'handler failed');
  else
    deps.logger.debug({ ...where, error: reply.ok ? undefined : reply.error }, 'request refused');
  answer(socket, event, ack, reply);
}

/**
 * Runs a request at once when nothing has to be waited for: no earlier request of the socket is
 * still running, and its permission (if it needs one) is cached. Returns false, having done
 * nothing, when it must wait its turn. Most subscribes after the first of a session end here,
 * without a promise.
 */
function runNow(
  socket: HeraldSocket,
  event: CoreEvent,
  request: CoreRequest,
  args: unknown[],
  ack: Ack | undefined,
  deps: CoreDeps,
  target: PermissionTarget | undefined,
  invalid: unknown,
): boolean {
  if (request.waits || socket.data.pending !== undefined) return false;
  try {
    if (invalid !== undefined) throw invalid;
    if (target && cachedPermission(socket, deps.backchannel, target) === undefined) return false;
    succeed(socket, event, ack, request.run(socket, args, deps, target));
  } catch (error) {
    fail(socket, event, ack, error, deps);
  }
  return true;
}

/** Runs a request in its turn (after the socket's earlier ones) and answers it. */
async function settle(
  socket: HeraldSocket,
  event: CoreEvent,
  request: CoreRequest,
  args: unknown[],
  ack: Ack | undefined,
  deps: CoreDeps,
  target: PermissionTarget | undefined,
  invalid: unknown,
  early: Promise<void> | undefined,
): Promise<void> {
  try {
    if (invalid !== undefined) throw invalid;
    if (target) await (early ?? requirePermission(socket, deps.backchannel, target));
    const extra = request.run(socket, args, deps, target);
    succeed(socket, event, ack, request.waits ? await extra : extra);
  } catch (error) {
    fail(socket, event, ack, error, deps);
  }
}

/**
 * The core client events (section 5) of every socket of a server. Nothing is built per socket but
 * its rooms: one shared listener takes every event, so an idle socket costs no closures. Room
 * changes of one socket happen one after another, in the order the client sent them, so a
 * doc_close can never overtake the doc_open before it; only their permission checks may run ahead.
 */
export class CoreHandlers {
  readonly #onEvent: AnyListener;
  readonly #offsets: SessionOffsets | undefined;

  /** `otherEvents` gets every event that is not a core event (the installed apps' handlers). */
  constructor(deps: CoreDeps, otherEvents?: AnyListener) {
    this.#offsets = deps.recoveryWindowMs ? new SessionOffsets(deps.recoveryWindowMs) : undefined;
    this.#onEvent = function (event, ...raw) {
      if (!isCoreEvent(event)) {
        otherEvents?.call(this, event, ...raw);
        return;
      }
      const args = raw;
      const ack = takeAck(args);
      if (event === 'ping') {
        this.emit('pong');
        if (ack) answer(this, 'ping', ack, OK);
        return;
      }
      const name = event as Exclude<CoreEvent, 'ping'>;
      const request = CORE_REQUESTS[name];
      // The arguments are checked once; bad ones are answered in the request's turn.
      let target: PermissionTarget | undefined;
      let invalid: unknown;
      try {
        target = request.needs?.(args);
      } catch (error) {
        invalid = error;
      }
      if (runNow(this, name, request, args, ack, deps, target, invalid)) return;
      const early = target && startEarlyCheck(this, deps.backchannel, target);
      const session = this.data;
      const run = () => settle(this, name, request, args, ack, deps, target, invalid, early);
      // settle never rejects: it answers every failure.
      const next: Promise<void> = (session.pending ? session.pending.then(run) : run()).then(() => {
        // Drained: an idle socket holds no promise.
        if (session.pending === next) session.pending = undefined;
      });
      session.pending = next;
    };
    takeDirectly(this.#onEvent, CORE_EVENTS, OK);
  }

  /** Joins the automatic rooms and takes the socket's core events from now on. */
  attach(socket: HeraldSocket): void {
    const session = socket.data;
    socket.join(autoRooms(session.user, session.userType));
    listenToAll(socket, this.#onEvent);
    if (!socket.recovered) {
      // A first event gives the client an offset to recover its session from.
      this.#offsets?.add(socket);
      return;
    }
    // Back within the recovery window: its rooms were restored, open documents included.
    if (session.openDocs || session.state) endWithSession(socket);
    for (const { doctype, docname } of session.openDocs?.values() ?? [])
      notifyViewers(socket.nsp, session.user, doctype, docname);
  }
}
