import type { Server } from 'socket.io';

/** The parts of Engine.IO's websocket transport this relies on (engine.io 6 with ws 8). */
interface WsTransport {
  name: string;
  writable: boolean;
  send(packets: unknown[]): void;
  socket?: { _socket?: RawSocket };
  [CORKED]?: boolean;
}
interface RawSocket {
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
}
interface EngineSocket {
  transport: WsTransport;
  on(event: 'upgrade', fn: (transport: WsTransport) => void): void;
}

const CORKED = Symbol('herald.corked');

const uncork = (raw: RawSocket, transport: WsTransport) => {
  transport[CORKED] = false;
  if (!raw.destroyed) raw.uncork();
};

/**
 * The websocket transport's `send`, corking its TCP socket at the first frame of an event-loop
 * turn and uncorking it when the turn ends. One function for every connection: a connection
 * costs a flag, not closures.
 */
function coalescedSend(this: WsTransport, packets: unknown[]): void {
  const raw = this.socket?._socket;
  if (raw && !this[CORKED]) {
    this[CORKED] = true;
    raw.cork();
    setImmediate(uncork, raw, this);
  }
  (Object.getPrototypeOf(this) as WsTransport).send.call(this, packets);
  // Engine.IO holds further packets back until the frames just given to `ws` are written, which
  // with the socket corked is the end of the turn: they would leave in a write of their own. The
  // transport stays writable while corked, so every packet of the turn joins the same write. (Each
  // send still ends in its own write callback, which is what Engine.IO counts its callbacks by.)
  if (this[CORKED]) this.writable = true;
}

/**
 * Coalesces each websocket's writes within one event-loop turn: a burst of events to a socket
 * becomes one write instead of one per frame. The frames and their order are unchanged.
 */
function coalesce(transport: WsTransport): void {
  if (transport.name !== 'websocket' || transport.send === coalescedSend) return;
  if (typeof transport.socket?._socket?.cork !== 'function') return;
  transport.send = coalescedSend;
}

/** Applies write coalescing to every websocket connection of a server, upgraded ones included. */
export function enableWriteCoalescing(io: Server): void {
  io.engine.on('connection', (socket: EngineSocket) => {
    coalesce(socket.transport);
    socket.on('upgrade', coalesce);
  });
}
