import type { Server } from 'socket.io';

/** The parts of Engine.IO's websocket transport this relies on (engine.io 6 with ws 8). */
interface WsTransport {
  name: string;
  send(packets: unknown[]): void;
  socket?: { _socket?: { cork(): void; uncork(): void; destroyed?: boolean } };
}
interface EngineSocket {
  transport: WsTransport;
  on(event: 'upgrade', fn: (transport: WsTransport) => void): void;
}

const patched = new WeakSet<object>();

/**
 * Coalesces each websocket's writes within one event-loop turn: the TCP socket is corked at the
 * first frame of a turn and uncorked when the turn ends, so a burst of events to a socket becomes
 * one write instead of one per frame. The frames and their order are unchanged.
 */
function coalesce(transport: WsTransport): void {
  if (transport.name !== 'websocket' || patched.has(transport)) return;
  const raw = transport.socket?._socket;
  if (!raw || typeof raw.cork !== 'function') return;
  patched.add(transport);
  const send = transport.send.bind(transport);
  let corked = false;
  transport.send = (packets) => {
    if (!corked) {
      corked = true;
      raw.cork();
      setImmediate(() => {
        corked = false;
        if (!raw.destroyed) raw.uncork();
      });
    }
    send(packets);
  };
}

/** Applies write coalescing to every websocket connection of a server, upgraded ones included. */
export function enableWriteCoalescing(io: Server): void {
  io.engine.on('connection', (socket: EngineSocket) => {
    coalesce(socket.transport);
    socket.on('upgrade', (transport) => coalesce(transport));
  });
}
