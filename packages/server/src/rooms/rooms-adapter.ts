import { Adapter, SessionAwareAdapter } from 'socket.io-adapter';
import type { HeldSessions, SessionStore } from './held-sessions.js';

/** How long a room emptied by a leave may stay, empty, before it is removed (at most). */
const LINGER_MS = 10_000;

/** The base adapter's `apply` (internal to socket.io-adapter: its type declares it private). */
interface Applying {
  apply(
    opts: { rooms: Set<string>; except?: Set<string> },
    callback: (socket: unknown) => void,
  ): void;
  rooms: Map<string, Set<string>>;
  nsp: { sockets: Map<string, unknown> };
}

/**
 * Herald's Socket.IO adapter: Socket.IO's in-memory one (the session-aware one when connection
 * state recovery is on), with three changes, each measured in BENCHMARKS.md:
 * - a room that its last member leaves is kept, empty, and removed a while later if it is still
 *   empty. Documents are opened and closed all the time, and each time upstream's adapter created
 *   and removed the document's room in the namespace's map of rooms, which also holds a room per
 *   socket. V8's Map keeps a removed entry in its bucket's chain until it rehashes, so a room
 *   removed and created again and again made every lookup of it slower, the more so the more
 *   sockets the site had. An empty room delivers nothing and lists no members; only the adapter's
 *   `delete-room` event comes later. A socket that disconnects leaves its rooms as before;
 * - a broadcast to one room, with no exceptions, goes through the room's members as they are: the
 *   base adapter first builds a set of every recipient to deliver once to a socket in several
 *   rooms, which for one room is only garbage (a set of a thousand ids per event to a thousand);
 * - `close` also stops the base adapter's intervals (see there).
 */
export function heraldAdapter(
  Base: typeof Adapter,
  lingerMs = LINGER_MS,
  held?: HeldSessions,
): typeof Adapter {
  const HeraldAdapter = class HeraldAdapter extends Base {
    /** Rooms emptied by a leave since the last sweep. */
    #emptied = new Set<string>();
    #sweep: NodeJS.Timeout | undefined;
    /** Intervals the base adapter started in its constructor (see `close`). */
    readonly #intervals: NodeJS.Timeout[];

    constructor(nsp: ConstructorParameters<typeof Adapter>[0]) {
      const intervals: NodeJS.Timeout[] = [];
      const setIntervalAsBefore = globalThis.setInterval;
      globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
        const interval = setIntervalAsBefore(...args);
        intervals.push(interval);
        return interval;
      }) as typeof setInterval;
      try {
        super(nsp);
      } finally {
        globalThis.setInterval = setIntervalAsBefore;
      }
      this.#intervals = intervals;
    }

    override del(id: string, room: string): void {
      this.sids.get(id)?.delete(room);
      const members = this.rooms.get(room);
      if (!members?.delete(id)) return;
      this.emit('leave-room', room, id);
      if (members.size > 0) return;
      this.#emptied.add(room);
      this.#sweep ??= setTimeout(() => this.#removeEmptied(), lingerMs).unref();
    }

    /** Removes the rooms emptied since the last sweep that are still empty. */
    #removeEmptied(): void {
      this.#sweep = undefined;
      for (const room of this.#emptied) {
        if (this.rooms.get(room)?.size === 0 && this.rooms.delete(room))
          this.emit('delete-room', room);
      }
      this.#emptied.clear();
    }

    /** A disconnected session, stored by the base, counts toward the server's bound (held-sessions.ts). */
    override persistSession(session: Parameters<Adapter['persistSession']>[0]): void {
      super.persistSession(session);
      held?.add(this as unknown as SessionStore, session.pid, session.rooms.length);
    }

    /** A restored session is live again: it is no longer kept (it is stored anew when it drops). */
    override restoreSession(pid: string, offset: string): ReturnType<Adapter['restoreSession']> {
      // null when there is nothing to restore (its type says otherwise).
      const restored = super.restoreSession(pid, offset) as ReturnType<
        Adapter['restoreSession']
      > | null;
      if (held && restored) {
        held.remove(pid);
        (this as unknown as SessionStore).sessions.delete(pid);
      }
      return restored as ReturnType<Adapter['restoreSession']>;
    }

    /**
     * Also stops the intervals the base adapter started: Socket.IO's session-aware adapter sweeps
     * its stored sessions every minute on an interval that its own `close` leaves running, so a
     * removed site namespace stayed reachable through it, with its sessions and packets, for the
     * life of the process (a connect to a made-up site name was enough to create one).
     */
    override close(): Promise<void> | void {
      clearTimeout(this.#sweep);
      for (const interval of this.#intervals) clearInterval(interval);
      this.#removeEmptied();
      return super.close();
    }
  };
  const baseApply = (Base.prototype as unknown as Partial<Applying>).apply;
  if (typeof baseApply === 'function') {
    (HeraldAdapter.prototype as unknown as Applying).apply = function apply(
      this: Applying,
      opts,
      callback,
    ) {
      if (opts.rooms.size !== 1 || (opts.except !== undefined && opts.except.size > 0)) {
        baseApply.call(this, opts, callback);
        return;
      }
      const [room] = opts.rooms;
      // A member that leaves meanwhile is skipped, as in the base adapter's own loop.
      for (const id of this.rooms.get(room!) ?? []) {
        const socket = this.nsp.sockets.get(id);
        if (socket) callback(socket);
      }
    };
  }
  return HeraldAdapter;
}

/**
 * The adapter for a server: session-aware when connection state recovery is on (as Socket.IO's
 * default), its stored sessions bounded by `held`.
 */
export const roomsAdapter = (held: HeldSessions | undefined): typeof Adapter =>
  held ? heraldAdapter(SessionAwareAdapter, LINGER_MS, held) : heraldAdapter(Adapter);
