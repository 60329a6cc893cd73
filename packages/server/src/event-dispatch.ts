import { Socket } from 'socket.io';

type Dispatch = (this: DispatchingSocket, event: unknown[]) => void;
interface DispatchingSocket {
  /** The socket's middlewares (`socket.use`). */
  fns?: unknown[];
  listenerCount(event: string): number;
}

/**
 * Socket.IO hands every client event, after the catch-all listeners, to the socket's own listeners
 * in a later tick (`dispatch`: its middlewares, two closures and a `process.nextTick` per event),
 * even when the socket has no middleware and no listener for that event, when nothing would run.
 * Herald's core events are taken by one catch-all listener, so that is every core event; it is
 * skipped then. A socket with a middleware, or a listener for the event, is dispatched as before.
 * If Socket.IO's socket is laid out otherwise, nothing changes. Once per process (marked on the
 * prototype, as connection-memory.ts marks its own).
 */
export function skipIdleDispatch(): void {
  const proto = Socket.prototype as unknown as { dispatch?: Dispatch; [SKIPS]?: true };
  const original = proto.dispatch;
  if (proto[SKIPS] || typeof original !== 'function') return;
  proto[SKIPS] = true;
  proto.dispatch = function dispatch(event) {
    if (this.fns?.length === 0 && this.listenerCount(event[0] as string) === 0) return;
    original.call(this, event);
  };
}
const SKIPS = Symbol('herald.skipIdleDispatch');
