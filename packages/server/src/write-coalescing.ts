import type { Server } from 'socket.io';
import { atTurnEnd } from './turn-end.js';

/** The parts of Engine.IO's websocket transport this relies on (engine.io 6 with ws 8). */
interface WsTransport {
  name: string;
  writable: boolean;
  send(packets: unknown[]): void;
  socket?: { _socket?: RawSocket };
  [TURN]?: boolean;
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

/** Sent to in this event-loop turn (registered for the turn's end). */
const TURN = Symbol('herald.turn');
/** Its TCP socket is corked until the turn ends. */
const CORKED = Symbol('herald.corked');
const ENGINE = Symbol('herald.engine');

/**
 * The end of a turn in which a socket was sent to. Its first frame left at once; what came after
 * it is held back: either corked in the TCP socket, or still in Engine.IO's buffer (Engine.IO
 * waits for the first frame's write before it hands over more). That is handed to `ws` now, as one
 * batch, and the socket uncorked: a turn's frames after the first leave in one write. (Engine.IO's
 * callbacks stay in step: every batch it hands over still ends in one write callback.)
 */
const endTurn = (transport: WsTransport) => {
  const raw = transport.socket?._socket;
  const engine = transport[ENGINE];
  const open = raw !== undefined && !raw.destroyed;
  if (
    open &&
    engine &&
    engine.transport === transport &&
    engine.writeBuffer.length > 0 &&
    !transport.writable
  ) {
    if (!transport[CORKED]) {
      transport[CORKED] = true;
      raw.cork();
    }
    transport.writable = true;
    engine.flush();
  }
  transport[TURN] = false;
  if (transport[CORKED]) {
    transport[CORKED] = false;
    if (open) raw.uncork();
  }
};

/** The transports sent to in this turn. */
let sentTo: WsTransport[] = [];
const endTurnAll = () => {
  const these = sentTo;
  sentTo = [];
  for (const transport of these) endTurn(transport);
};

/**
 * The websocket transport's `send`. The first frame of an event-loop turn leaves at once, as it
 * would without coalescing (a steady trickle of events waits for nothing); a second send in the
 * same turn corks the TCP socket, and everything after the first frame leaves in one write at the
 * end of the turn (`atTurnEnd`, after the turn's batched emits). One function for every
 * connection: a connection costs two flags, not closures.
 */
function coalescedSend(this: WsTransport, packets: unknown[]): void {
  const raw = this.socket?._socket;
  if (raw) {
    if (!this[TURN]) {
      this[TURN] = true;
      if (sentTo.length === 0) atTurnEnd('flush', endTurnAll);
      sentTo.push(this);
    } else if (!this[CORKED]) {
      this[CORKED] = true;
      raw.cork();
    }
  }
  (Object.getPrototypeOf(this) as WsTransport).send.call(this, packets);
}

/**
 * Coalesces each websocket's writes within one event-loop turn: a burst of events to a socket
 * becomes two writes (the first frame, then the rest) instead of one per frame. The frames and
 * their order are unchanged.
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
