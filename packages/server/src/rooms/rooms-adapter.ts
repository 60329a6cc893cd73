import { Adapter, SessionAwareAdapter } from 'socket.io-adapter';
import { broadcastOneRoomAsIs, captureIntervals, storedSessions } from '../socketio/adapter.js';
import type { Missing } from '../socketio/internals.js';
import type { HeldSessions } from './held-sessions.js';

/** How long a room emptied by a leave may stay, empty, before it is removed (at most). */
const LINGER_MS = 10_000;

/**
 * An adapter's map of rooms, whose `delete` keeps a room emptied by a leave (`keeping`): the base
 * adapter's `del` removes a room its last member left, and Herald's keeps it a while instead (see
 * heraldAdapter). The base's `del` runs whole, so a subclass or an engine that hooks `del` (the
 * µWebSockets.js engine unsubscribes the socket's topic there) sees every leave.
 */
class LingeringRooms extends Map<string, Set<string>> {
  /** Set while a leave runs: an emptied room is kept, and `onKept` told. */
  keeping = false;

  constructor(readonly onKept: (room: string) => void) {
    super();
  }

  override delete(room: string): boolean {
    if (this.keeping && this.get(room)?.size === 0) {
      this.onKept(room);
      // Not deleted: the base does not emit `delete-room`.
      return false;
    }
    return super.delete(room);
  }

  /** Deletes a room, kept or not. */
  remove(room: string): boolean {
    return super.delete(room);
  }
}

/**
 * Herald's Socket.IO adapter: Socket.IO's in-memory one (the session-aware one when connection
 * state recovery is on), with three changes, each measured in BENCHMARKS.md:
 * - a room that its last member leaves is kept, empty, and removed a while later if it is still
 *   empty (`lingerMs`; 0: removed at once, as the base does). Documents are opened and closed all the time, and each time upstream's adapter created
 *   and removed the document's room in the namespace's map of rooms, which also holds a room per
 *   socket. V8's Map keeps a removed entry in its bucket's chain until it rehashes, so a room
 *   removed and created again and again made every lookup of it slower, the more so the more
 *   sockets the site had. An empty room delivers nothing and lists no members; only the adapter's
 *   `delete-room` event comes later. A socket that disconnects leaves its rooms as before. The leave
 *   itself is the base's `del` (it must run: engines and adapters hook it); the room is kept by
 *   the adapter's map of rooms (LingeringRooms), whose `delete` the base calls, so the namespace's
 *   map is never churned by a room deleted and made again;
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
  return heraldAdapterChecked(Base, lingerMs, held).adapter;
}

/** heraldAdapter, and what its one-room broadcast found missing of the base (socketio/adapter.ts). */
export function heraldAdapterChecked(
  Base: typeof Adapter,
  lingerMs = LINGER_MS,
  held?: HeldSessions,
): { adapter: typeof Adapter; missing: Missing } {
  const HeraldAdapter = class HeraldAdapter extends Base {
    /** Rooms emptied by a leave since the last sweep. */
    #emptied = new Set<string>();
    #sweep: NodeJS.Timeout | undefined;
    /** Intervals the base adapter started in its constructor (see `close`). */
    readonly #intervals: NodeJS.Timeout[];

    readonly #rooms: LingeringRooms;

    constructor(nsp: ConstructorParameters<typeof Adapter>[0]) {
      const captured = captureIntervals(nsp);
      let intervals: NodeJS.Timeout[];
      try {
        super(nsp);
      } finally {
        intervals = captured();
      }
      this.#intervals = intervals;
      // Made before any socket joins: the base's own map is still empty.
      this.#rooms = new LingeringRooms((room) => this.#keep(room));
      this.rooms = this.#rooms;
    }

    /** The base's leave, keeping the room if it empties (see LingeringRooms). */
    override del(id: string, room: string): void {
      if (lingerMs <= 0) {
        super.del(id, room);
        return;
      }
      this.#rooms.keeping = true;
      try {
        super.del(id, room);
      } finally {
        this.#rooms.keeping = false;
      }
    }

    #keep(room: string): void {
      this.#emptied.add(room);
      this.#sweep ??= setTimeout(() => this.#removeEmptied(), lingerMs).unref();
    }

    /** Removes the rooms emptied since the last sweep that are still empty. */
    #removeEmptied(): void {
      this.#sweep = undefined;
      for (const room of this.#emptied) {
        if (this.#rooms.get(room)?.size === 0 && this.#rooms.remove(room))
          this.emit('delete-room', room);
      }
      this.#emptied.clear();
    }

    /** A disconnected session, stored by the base, counts toward the server's bound (held-sessions.ts). */
    override persistSession(session: Parameters<Adapter['persistSession']>[0]): void {
      super.persistSession(session);
      held?.add(this, session.pid, session.rooms.length);
    }

    /** A restored session is live again: it is no longer kept (it is stored anew when it drops). */
    override restoreSession(pid: string, offset: string): ReturnType<Adapter['restoreSession']> {
      // null when there is nothing to restore (its type says otherwise).
      const restored = super.restoreSession(pid, offset) as ReturnType<
        Adapter['restoreSession']
      > | null;
      if (held && restored) {
        held.remove(pid);
        storedSessions(this)?.delete(pid);
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
  const missing = broadcastOneRoomAsIs(HeraldAdapter.prototype, Base);
  return { adapter: HeraldAdapter, missing };
}

/**
 * The adapter for a server: session-aware when connection state recovery is on (as Socket.IO's
 * default), its stored sessions bounded by `held`.
 */
export const roomsAdapter = (held: HeldSessions | undefined): typeof Adapter =>
  roomsAdapterChecked(held).adapter;

/** roomsAdapter, and what it found missing of socket.io-adapter. */
export const roomsAdapterChecked = (held: HeldSessions | undefined) =>
  held ? heraldAdapterChecked(SessionAwareAdapter, LINGER_MS, held) : heraldAdapterChecked(Adapter);

/**
 * Keeps rooms emptied by a leave on one adapter instance, as heraldAdapter's class does (see
 * there), for adapters Herald cannot subclass (the cluster's streams adapter, whose class is not
 * exported). Call before any socket joins. Returns what stops it (on the adapter's close).
 */
export function lingerEmptiedRooms(
  adapter: {
    rooms: Map<string, Set<string>>;
    del(id: string, room: string): void;
    emit(event: string, ...args: unknown[]): boolean;
  },
  lingerMs = LINGER_MS,
): () => void {
  const emptied = new Set<string>();
  let sweep: NodeJS.Timeout | undefined;
  const removeEmptied = () => {
    sweep = undefined;
    for (const room of emptied) {
      if (rooms.get(room)?.size === 0 && rooms.remove(room)) adapter.emit('delete-room', room);
    }
    emptied.clear();
  };
  const rooms = new LingeringRooms((room) => {
    emptied.add(room);
    sweep ??= setTimeout(removeEmptied, lingerMs).unref();
  });
  adapter.rooms = rooms;
  const baseDel = adapter.del;
  adapter.del = function del(id: string, room: string): void {
    rooms.keeping = true;
    try {
      baseDel.call(adapter, id, room);
    } finally {
      rooms.keeping = false;
    }
  };
  return () => {
    clearTimeout(sweep);
    removeEmptied();
  };
}
