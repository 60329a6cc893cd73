import { Socket } from 'socket.io';
import { type IoSocket, type Missing, patchOnce } from './internals.js';
import { layerOf } from './link.js';

/**
 * Socket.IO hands every client event, after the catch-all listeners, to the socket's own listeners
 * in a later tick (`dispatch`: its middlewares, two closures and a `process.nextTick` per event),
 * even when the socket has no middleware and no listener for that event, when nothing would run.
 * Herald's core events are taken by one catch-all listener, so that is every core event; it is
 * skipped then, on servers that applied the layer. A socket with a middleware, or a listener for
 * the event, is dispatched as before. Returns what is missing when Socket.IO's socket is laid out
 * otherwise (then nothing changes).
 */
export function skipIdleDispatch(): Missing {
  return patchOnce<NonNullable<IoSocket['dispatch']>>(
    Socket.prototype,
    'socket.io Socket',
    'dispatch',
    (original) =>
      function dispatch(this: IoSocket, event) {
        if (this.fns?.length === 0 && this.listenerCount(event[0] as string) === 0) {
          const layer = layerOf(this.nsp.server);
          if (layer !== undefined) {
            layer.counts.dispatchSkipped += 1;
            return;
          }
        }
        original.call(this, event);
      },
  );
}
