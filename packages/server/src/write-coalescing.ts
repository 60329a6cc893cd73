import type { Server } from 'socket.io';
import { atTurnEnd } from './turn-end.js';

/** The parts of Engine.IO's websocket transport this relies on (engine.io 6 with ws 8). */
interface WsTransport {
  name: string;
  writable: boolean;
  send(packets: unknown[]): void;
  socket?: { _socket?: RawSocket };
  [HELD]?: boolean;
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

/** Sent to and not yet written: its TCP socket is corked, and it is in `held`. */
const HELD = Symbol('herald.held');
const ENGINE = Symbol('herald.engine');

/**
 * How many sockets' frames are held before they are written, if the turn has not ended first.
 * Each write to a socket whose reader sleeps pays for waking it; writes that leave back to back
 * find it awake. Answers to requests come a request's work apart (tens of µs), so held in groups
 * they cost a third less CPU each (BENCHMARKS.md); a broadcast's frames come about a µs apart, so
 * a group holds the first socket's frame back by some 16 µs.
 */
const GROUP = 16;

/**
 * Writes what a socket was sent since it was last written. Engine.IO hands over one batch and then
 * waits for its write: what came after it is still in Engine.IO's buffer, and is handed to `ws` now,
 * in the corked socket, so the uncork writes it all at once. (Engine.IO's callbacks stay in step:
 * every batch it hands over still ends in one write callback.)
 */
const release = (transport: WsTransport) => {
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
    transport.writable = true;
    // Its send comes back here still held: the batch goes into the corked socket.
    engine.flush();
  }
  transport[HELD] = false;
  if (open) raw.uncork();
};

/** The transports sent to and not yet written. */
let held: WsTransport[] = [];
let releaseScheduled = false;
const releaseAll = () => {
  const these = held;
  held = [];
  for (const transport of these) release(transport);
};
const atEndOfTurn = () => {
  releaseScheduled = false;
  releaseAll();
};

/**
 * The websocket transport's `send`. A socket's frames are held in its corked TCP socket and written
 * together: at the end of the event-loop turn (`atTurnEnd`, after the turn's batched emits), or
 * sooner, as soon as GROUP sockets hold frames. A burst to one socket is one write; the answers to
 * many sockets' requests leave back to back. One function for every connection: a connection costs
 * a flag, not closures.
 */
function coalescedSend(this: WsTransport, packets: unknown[]): void {
  const raw = this.socket?._socket;
  if (raw && !this[HELD]) {
    this[HELD] = true;
    raw.cork();
    held.push(this);
    if (!releaseScheduled) {
      releaseScheduled = true;
      atTurnEnd('flush', atEndOfTurn);
    }
  }
  (Object.getPrototypeOf(this) as WsTransport).send.call(this, packets);
  if (held.length >= GROUP) releaseAll();
}

/**
 * Coalesces each websocket's writes within one event-loop turn: a burst of events to a socket
 * becomes one write instead of one per frame, and the writes of a turn leave in groups. The frames
 * and their order are unchanged.
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
