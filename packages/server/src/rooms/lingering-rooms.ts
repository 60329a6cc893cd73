import { Adapter, SessionAwareAdapter } from 'socket.io-adapter';

/** How long a room emptied by a leave may stay, empty, before it is removed (at most). */
const LINGER_MS = 10_000;

/**
 * Socket.IO's in-memory adapter (the session-aware one when connection state recovery is on), with
 * two changes: `close` also stops the base adapter's intervals (see there), and a room that its last
 * member leaves is kept, empty, and removed a while later if it is still empty. Documents are opened and closed all the time, and each time upstream's adapter
 * created and removed the document's room in the namespace's map of rooms, which also holds a room
 * per socket. V8's Map keeps a removed entry in its bucket's chain until it rehashes, so a room
 * removed and created again and again made every lookup of it slower, the more so the more sockets
 * the site had (BENCHMARKS.md). An empty room delivers nothing and lists no members; only the
 * adapter's `delete-room` event comes later. A socket that disconnects leaves its rooms as before.
 */
export function lingeringRooms(Base: typeof Adapter, lingerMs = LINGER_MS): typeof Adapter {
  return class LingeringRooms extends Base {
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
}

/** The adapter for a server: session-aware when connection state recovery is on, as Socket.IO's default. */
export const roomsAdapter = (recovery: boolean): typeof Adapter =>
  lingeringRooms(recovery ? SessionAwareAdapter : Adapter);
