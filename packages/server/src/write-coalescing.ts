import type { Server } from 'socket.io';
import { atTurnEnd } from './turn-end.js';

/** The parts of Engine.IO's websocket transport this relies on (engine.io 6 with ws 8). */
interface WsTransport {
  name: string;
  writable: boolean;
  send(packets: unknown[]): void;
  socket?: { _socket?: RawSocket };
  [CORKED]?: boolean;
  [ENGINE]?: EngineSocket;
}
interface RawSocket {
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
}
/** The parts of Engine.IO's socket this relies on. */
interface EngineSocket {
  transport: WsTransport;
  writeBuffer: unknown[];
  flush(): void;
  on(event: 'upgrade', fn: (this: EngineSocket, transport: WsTransport) => void): void;
}

const CORKED = Symbol('herald.corked');
const ENGINE = Symbol('herald.engine');

/**
 * The end of a corked turn. Engine.IO held back the packets that came after the turn's first
 * frame (it waits for that frame's write); they are handed to `ws` now, as one batch, so they
 * leave in the same write as the first instead of in a write of their own a turn later. Then
 * the socket is uncorked. (Engine.IO's callbacks stay in step: every batch it hands over still
 * ends in one write callback.)
 */
const uncork = (transport: WsTransport) => {
  const raw = transport.socket?._socket;
  const engine = transport[ENGINE];
  if (
    raw &&
    !raw.destroyed &&
    engine &&
    engine.transport === transport &&
    engine.writeBuffer.length > 0 &&
    !transport.writable
  ) {
    transport.writable = true;
    engine.flush();
  }
  transport[CORKED] = false;
  if (raw && !raw.destroyed) raw.uncork();
};

/** The transports corked in this turn, uncorked together when it ends. */
let corked: WsTransport[] = [];
const uncorkAll = () => {
  const these = corked;
  corked = [];
  for (const transport of these) uncork(transport);
};

/**
 * The websocket transport's `send`, corking its TCP socket at the first frame of an event-loop
 * turn and uncorking it when the turn ends (`atTurnEnd`, after the turn's batched emits). One
 * function for every connection: a connection costs a flag, not closures.
 */
function coalescedSend(this: WsTransport, packets: unknown[]): void {
  const raw = this.socket?._socket;
  if (raw && !this[CORKED]) {
    this[CORKED] = true;
    raw.cork();
    if (corked.length === 0) atTurnEnd('flush', uncorkAll);
    corked.push(this);
  }
  (Object.getPrototypeOf(this) as WsTransport).send.call(this, packets);
}

/**
 * Coalesces each websocket's writes within one event-loop turn: a burst of events to a socket
 * becomes one write instead of one per frame. The frames and their order are unchanged.
 */
function coalesce(transport: WsTransport, engine: EngineSocket): void {
  if (transport.name !== 'websocket' || transport.send === coalescedSend) return;
  if (typeof transport.socket?._socket?.cork !== 'function') return;
  transport[ENGINE] = engine;
  transport.send = coalescedSend;
}

function onUpgrade(this: EngineSocket, transport: WsTransport): void {
  coalesce(transport, this);
}

/** Applies write coalescing to every websocket connection of a server, upgraded ones included. */
export function enableWriteCoalescing(io: Server): void {
  io.engine.on('connection', (socket: EngineSocket) => {
    coalesce(socket.transport, socket);
    // Only a connection that did not start on websocket can upgrade to it.
    if (socket.transport.name !== 'websocket') socket.on('upgrade', onUpgrade);
  });
}
