import { autoRooms } from '@herald/protocol';
import { ERRORS, HeraldError } from '../errors.js';
import type { HeraldSocket } from '../session.js';
import { listenToAll } from '../socketio/connection-memory.js';
import { TurnEnd } from '../socketio/turn-end.js';
import {
  CORE_EVENTS,
  CORE_REQUESTS,
  type CoreDeps,
  type CoreEvent,
  type CoreRequest,
  isCoreEvent,
} from './core-requests.js';
import { type RateVerdict, rateLimited, spendEvent } from './limits.js';
import {
  cachedPermission,
  type PermissionTarget,
  requirePermission,
  startEarlyCheck,
} from './permission-check.js';
import { type Ack, answer, failure, OK, type Reply, takeAck } from './reply.js';
import { endWithSession } from './session-end.js';
import { SessionOffsets } from './session-offsets.js';
import { notifyViewers } from './viewers.js';

export { CORE_EVENTS, type CoreDeps, isCoreEvent } from './core-requests.js';

type AnyListener = (this: HeraldSocket, event: string, ...raw: unknown[]) => void;

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
 * Answers an event over the socket's rate limit (without running it), or drops a socket that kept
 * sending past it.
 */
function refuse(
  socket: HeraldSocket,
  event: string,
  args: unknown[],
  verdict: RateVerdict,
  deps: CoreDeps,
): void {
  // Frames already read when it was dropped: nobody to answer.
  if (!socket.connected) return;
  deps.metrics?.limited.inc({ limit: 'rate' });
  if (verdict === 'drop') {
    deps.logger.warn(
      {
        site: socket.data.site,
        user: socket.data.user,
        socket: socket.id,
        address: socket.handshake.address,
        event,
        limits: { ratePerSecond: deps.limits.ratePerSecond, rateBurst: deps.limits.rateBurst },
      },
      'disconnected a socket that kept sending past its rate limit (--rate-limit, --rate-burst)',
    );
    deps.metrics?.dropped.inc({ reason: 'rate_limited' });
    socket.disconnect(true);
    return;
  }
  answer(socket, event, takeAck(args), failure(rateLimited(event, deps.limits)));
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

/** Runs a request in its turn (after the socket's earlier ones) and answers it by `deadline`. */
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
  deadline: number,
): Promise<void> {
  try {
    if (invalid !== undefined) throw invalid;
    if (target)
      await beforeDeadline(
        early ?? requirePermission(socket, deps.backchannel, target),
        deadline,
        () =>
          new HeraldError(
            'HERALD_PERMISSION_CHECK_FAILED',
            `${event}: the web server did not answer the permission check on ${target.join(' ')} in time (${deps.answerWithinMs} ms from the request)`,
            { hint: ERRORS.HERALD_BACKEND_TIMEOUT.hint },
          ),
      );
    const extra = request.run(socket, args, deps, target);
    succeed(
      socket,
      event,
      ack,
      request.waits
        ? await beforeDeadline(
            extra as Promise<unknown>,
            deadline,
            () =>
              new HeraldError(
                'HERALD_BACKEND_TIMEOUT',
                `${event}: not done within ${deps.answerWithinMs} ms of the request`,
              ),
          )
        : extra,
    );
  } catch (error) {
    fail(socket, event, ack, error, deps);
  }
}

/**
 * `work`, or the error of `late()` once `deadline` (performance.now()) has passed. A socket's
 * requests wait for its earlier ones, so without a deadline the last of many requests held by a
 * hanging web server would be answered only after all the timeouts before it, one after another.
 * The work itself goes on (a permission answer is still cached); its outcome is no longer waited for.
 */
async function beforeDeadline<T>(
  work: Promise<T>,
  deadline: number,
  late: () => HeraldError,
): Promise<T> {
  const left = deadline - performance.now();
  if (left <= 0) {
    work.catch(() => undefined);
    throw late();
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(late()), left);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a core request of `socket`: at once when nothing need be waited for, else in its turn
 * (after the socket's earlier room changes), its permission checked (early when it may), answered
 * through `ack` (or `herald_error`) by `now + deps.answerWithinMs`.
 */
function handle(
  socket: HeraldSocket,
  name: Exclude<CoreEvent, 'ping'>,
  args: unknown[],
  ack: Ack | undefined,
  deps: CoreDeps,
  now: number,
): void {
  const request = CORE_REQUESTS[name];
  // The arguments are checked once; bad ones are answered in the request's turn.
  let target: PermissionTarget | undefined;
  let invalid: unknown;
  try {
    target = request.needs?.(args, deps);
  } catch (error) {
    invalid = error;
  }
  if (runNow(socket, name, request, args, ack, deps, target, invalid)) return;
  const early = target && startEarlyCheck(socket, deps.backchannel, target);
  const session = socket.data;
  const deadline = now + deps.answerWithinMs;
  const run = () =>
    settle(socket, name, request, args, ack, deps, target, invalid, early, deadline);
  // settle never rejects: it answers every failure.
  const next: Promise<void> = (session.pending ? session.pending.then(run) : run()).then(() => {
    // Drained: an idle socket holds no promise.
    if (session.pending === next) session.pending = undefined;
  });
  session.pending = next;
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
  readonly #deps: CoreDeps;

  /** `otherEvents` gets every event that is not a core event (the installed apps' handlers). */
  /** `turnEnd`: the server's end of each event-loop turn (the first offsets of sessions go there). */
  constructor(deps: CoreDeps, otherEvents?: AnyListener, turnEnd: TurnEnd = new TurnEnd()) {
    this.#offsets = deps.recoveryWindowMs
      ? new SessionOffsets(deps.recoveryWindowMs, turnEnd)
      : undefined;
    this.#onEvent = function (event, ...raw) {
      // Every event of the socket, core or an app's, spends from its budget first.
      const now = performance.now();
      const verdict = spendEvent(this.data, deps.limits, now);
      if (verdict !== 'take') {
        refuse(this, event, raw, verdict, deps);
        return;
      }
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
      handle(this, event as Exclude<CoreEvent, 'ping'>, args, ack, deps, now);
    };
    this.#deps = deps;
  }

  /** The one listener of every socket's events, and the events it answers (direct requests). */
  get directRequests(): { listener: AnyListener; events: readonly string[]; ok: object } {
    return { listener: this.#onEvent, events: CORE_EVENTS, ok: OK };
  }

  /**
   * Runs a core request on Herald's own behalf (rooms/rejoin.ts): exactly as if the client had sent
   * it (its turn, its arguments and permission checked the same way, its limits), but outside the
   * socket's event budget, and answered to the caller, never to the client.
   */
  request(
    socket: HeraldSocket,
    event: Exclude<CoreEvent, 'ping'>,
    args: unknown[],
  ): Promise<Reply> {
    return new Promise((resolve) =>
      handle(socket, event, args, resolve as Ack, this.#deps, performance.now()),
    );
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
