// The parts of socket.io-adapter's in-memory adapter that Herald's rooms adapter
// (rooms/rooms-adapter.ts) reaches past its public interface for: its `apply` (the loop behind
// every broadcast), the intervals its constructor starts, and the session-aware adapter's stored
// sessions. The subclass itself uses only the public interface.
import type { Adapter } from 'socket.io-adapter';
import { type AdapterInternals, type Missing, missingFunctions, patchOnce } from './internals.js';
import { layerOf } from './link.js';

/**
 * Starts capturing the intervals set from now on, until the returned function is called: it stops
 * capturing and returns them. For an adapter's constructor: socket.io-adapter's session-aware
 * adapter sweeps its sessions on an interval its own `close` leaves running.
 */
export function captureIntervals(nsp: { server: object }): () => NodeJS.Timeout[] {
  const intervals: NodeJS.Timeout[] = [];
  const setIntervalAsBefore = globalThis.setInterval;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const interval = setIntervalAsBefore(...args);
    intervals.push(interval);
    return interval;
  }) as typeof setInterval;
  return () => {
    globalThis.setInterval = setIntervalAsBefore;
    const layer = layerOf(nsp.server);
    if (layer) layer.counts.adapterIntervalsCaptured += intervals.length;
    return intervals;
  };
}

/**
 * A broadcast to one room, with no exceptions, goes through the room's members as they are: the
 * base adapter's `apply` first builds a set of every recipient to deliver once to a socket in
 * several rooms, which for one room is only garbage (a set of a thousand ids per event to a
 * thousand). Installed on `proto` (the rooms adapter's own prototype, not the base's), once.
 * Returns what is missing of the base (then every broadcast goes through the base's loop).
 */
export function broadcastOneRoomAsIs(proto: object, base: typeof Adapter): Missing {
  const missing = missingFunctions(base.prototype, 'socket.io-adapter Adapter', ['apply']);
  if (missing.length > 0) return missing;
  // On the subclass: the base's own `apply` is inherited until then.
  if (!Object.hasOwn(proto, 'apply'))
    Object.defineProperty(proto, 'apply', {
      value: (base.prototype as unknown as AdapterInternals).apply,
      writable: true,
      configurable: true,
    });
  return patchOnce<AdapterInternals['apply']>(proto, 'rooms adapter', 'apply', oneRoomApply);
}

/** The one-room form of an adapter's `apply` (see broadcastOneRoomAsIs), over `baseApply`. */
export function oneRoomApply(baseApply: AdapterInternals['apply']): AdapterInternals['apply'] {
  return function apply(this: AdapterInternals, opts, callback) {
    if (opts.rooms.size !== 1 || (opts.except !== undefined && opts.except.size > 0)) {
      baseApply.call(this, opts, callback);
      return;
    }
    const layer = layerOf(this.nsp.server);
    if (layer) layer.counts.oneRoomBroadcasts += 1;
    const [room] = opts.rooms;
    // A member that leaves meanwhile is skipped, as in the base adapter's own loop.
    for (const id of this.rooms.get(room!) ?? []) {
      const socket = this.nsp.sockets.get(id);
      if (socket) callback(socket);
    }
  };
}

/** A session-aware adapter's stored sessions by private id (socket.io-adapter's own map). */
export function storedSessions(adapter: object): Map<string, unknown> | undefined {
  const sessions = (adapter as AdapterInternals).sessions;
  return sessions instanceof Map ? sessions : undefined;
}
