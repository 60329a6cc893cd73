import type { HeraldNamespace, HeraldSocket } from '../session.js';
import type { TurnEnd } from '../socketio/turn-end.js';

/** While sessions start faster than this, they share one first event per this many ms. */
const SHARE_MS = 50;

/**
 * Socket.IO recovers a session only from the offset of an event the client received, so each new
 * session is sent a first event, `herald_session` (`{recoveryWindowMs}`): every client has an
 * offset even if nothing else reaches it before it loses its connection. The adapter keeps each
 * event it sends for the recovery window, with the set of rooms it went to, so new sessions share
 * one: sessions that start in one event-loop turn get it at the end of that turn (with the rest of
 * that turn's held-back frames), and when sessions start faster than one per 50 ms (a reconnect storm),
 * the sessions of each 50 ms share one. One stored packet and one encoding for all of them, not one
 * per socket.
 */
export class SessionOffsets {
  readonly #payload: { recoveryWindowMs: number };
  readonly #pending = new Map<HeraldNamespace, string[]>();
  #lastSent = Number.NEGATIVE_INFINITY;
  readonly #send = () => {
    this.#lastSent = performance.now();
    for (const [nsp, ids] of this.#pending) nsp.to(ids).emit('herald_session', this.#payload);
    this.#pending.clear();
  };
  readonly #turnEnd: TurnEnd;
  readonly #sendAtTurnEnd = () => this.#turnEnd.at('emit', this.#send);

  constructor(recoveryWindowMs: number, turnEnd: TurnEnd) {
    this.#payload = { recoveryWindowMs };
    this.#turnEnd = turnEnd;
  }

  /** `socket` is sent its first offset at the end of this turn, or with the next shared one. */
  add(socket: HeraldSocket): void {
    const first = this.#pending.size === 0;
    const ids = this.#pending.get(socket.nsp);
    if (ids) ids.push(socket.id);
    else this.#pending.set(socket.nsp, [socket.id]);
    if (!first) return;
    const wait = this.#lastSent + SHARE_MS - performance.now();
    if (wait <= 0) this.#sendAtTurnEnd();
    else setTimeout(this.#sendAtTurnEnd, wait).unref();
  }
}
