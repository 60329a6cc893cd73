import { storedSessions } from '../socketio/adapter.js';

interface Held {
  /** The session-aware adapter that stored it. */
  store: object;
  rooms: number;
  at: number;
}

/**
 * The sessions of disconnected clients a server holds for connection state recovery, over all its
 * site namespaces, oldest first, bounded by the rooms they hold in all (--max-held-rooms). Each
 * socket's rooms are bounded by --max-rooms; without a bound in all, clients that connect, join
 * their fill of rooms and drop, again and again, would hold memory for the whole recovery window
 * with no socket connected. Past the bound the oldest sessions are forgotten: their clients come
 * back with `recovered: false`, as after the window.
 */
export class HeldSessions {
  readonly #held = new Map<string, Held>();
  #rooms = 0;
  /** Sessions forgotten to keep within the bound, since start. */
  forgotten = 0;

  constructor(
    readonly maxRooms: number,
    readonly windowMs: number,
    readonly now: () => number = Date.now,
  ) {}

  /** Rooms held in all. */
  get rooms(): number {
    return this.#rooms;
  }

  /** Counts a session its adapter has just stored, and forgets the oldest ones past the bound. */
  add(store: object, pid: string, rooms: number): void {
    const now = this.now();
    this.remove(pid);
    this.#held.set(pid, { store, rooms, at: now });
    this.#rooms += rooms;
    for (const [oldest, held] of this.#held) {
      const expired = held.at < now - this.windowMs;
      if (!expired && this.#rooms <= this.maxRooms) break;
      // The adapter drops an expired session by itself (on its own sweep): only the count goes.
      if (!expired && storedSessions(held.store)?.delete(oldest)) this.forgotten += 1;
      this.remove(oldest);
    }
  }

  /** Stops counting a session: restored, or gone. */
  remove(pid: string): void {
    const held = this.#held.get(pid);
    if (held === undefined) return;
    this.#held.delete(pid);
    this.#rooms -= held.rooms;
  }
}
