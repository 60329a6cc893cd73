import { Socket as EngineSocketClass } from 'engine.io';
import {
  type EngineSocket as BaseEngineSocket,
  type RawSocket as BaseRawSocket,
  type Missing,
  missingFunctions,
  patchOnce,
} from './internals.js';

// Bounds what waits to be written to each connection. Engine.IO keeps the packets of a transport
// that is still writing in its socket's `writeBuffer`, and `ws` keeps what the kernel did not take
// in the TCP socket's own buffer (write coalescing hands Engine.IO's buffer to it each turn): a
// client that stops reading, even one that still answers pings, would make both grow for as long
// as events come. Every packet Engine.IO is given passes through its socket's `sendPacket`, so the
// bytes waiting are counted there, on the prototype (one function for every connection, a number
// per connection): past a high-water mark Herald stops reading the connection's frames until its
// writes drain (a client that floods requests without reading their answers is read no faster
// than it reads), and past `--max-outgoing-bytes` the connection is closed and counted.

/** Past this many bytes waiting, a websocket's incoming frames are not read until its writes drain. */
export const READ_PAUSE_BYTES = 256 * 1024;

/** Engine.IO's socket and its TCP socket as the limit marks them. */
type EngineSocket = BaseEngineSocket & { [WAITING]?: number; [LIMIT]?: OutgoingLimit | undefined };
type RawSocket = BaseRawSocket & { [PAUSED]?: boolean };

const WAITING = Symbol('herald.outgoingWaiting');
const LIMIT = Symbol('herald.outgoingLimit');
const PAUSED = Symbol('herald.readPaused');

/** A server's bound on each connection's waiting bytes, and what to do past it. */
export interface OutgoingLimit {
  maxBytes: number;
  /** Called once for a connection closed for reading too slowly. */
  onDrop(engine: object, waiting: number): void;
  /** Connections whose reading was paused, since start. */
  paused: number;
  /** Connections closed past the bound, since start. */
  dropped: number;
}

const sizeOf = (data: unknown): number =>
  typeof data === 'string'
    ? data.length
    : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
      ? data.byteLength
      : 0;

function resumeReading(this: RawSocket): void {
  this[PAUSED] = false;
  if (!this.destroyed) this.resume();
}

/** Checks a connection's waiting bytes after a packet was handed to it. */
function check(engine: EngineSocket, limit: OutgoingLimit, waiting: number): void {
  const raw =
    engine.transport.name === 'websocket'
      ? (engine.transport.socket?._socket as RawSocket | undefined)
      : undefined;
  const total = waiting + (raw?.writableLength ?? 0);
  if (total > limit.maxBytes) {
    // Once: what it was sent goes with it (the TCP socket's buffer too, without waiting for a
    // close handshake that a client that does not read would never answer).
    engine[LIMIT] = undefined;
    limit.dropped += 1;
    limit.onDrop(engine, total);
    if (raw) raw.destroy();
    else engine.close(true);
    return;
  }
  if (raw && total > READ_PAUSE_BYTES && !raw[PAUSED] && !raw.destroyed) {
    raw[PAUSED] = true;
    limit.paused += 1;
    raw.pause();
    (raw as BaseRawSocket).once('drain', resumeReading);
  }
}

function patchSendPacket(): Missing {
  const proto = EngineSocketClass.prototype;
  const missing = missingFunctions(proto, 'engine.io Socket', ['sendPacket', 'flush']);
  if (missing.length > 0) return missing;
  patchOnce<(this: EngineSocket, ...args: unknown[]) => void>(
    proto,
    'engine.io Socket',
    'sendPacket',
    (sendPacket) =>
      function (this: EngineSocket, ...args: unknown[]) {
        sendPacket.apply(this, args);
        const limit = this[LIMIT];
        if (limit === undefined) return;
        // Engine.IO hands its whole buffer to the transport when it can: what is left waits.
        const waiting = this.writeBuffer.length === 0 ? 0 : (this[WAITING] ?? 0) + sizeOf(args[1]);
        this[WAITING] = waiting;
        check(this, limit, waiting);
      },
  );
  patchOnce<(this: EngineSocket) => void>(
    proto,
    'engine.io Socket',
    'flush',
    (flush) =>
      function (this: EngineSocket) {
        flush.call(this);
        if (this.writeBuffer.length === 0 && this[WAITING]) this[WAITING] = 0;
      },
  );
  return [];
}

/**
 * Bounds the bytes waiting to be written to each connection of a server (see above). Returns the
 * limit's state, or what is missing when Engine.IO is not laid out as expected (then nothing is
 * bounded, and the layer logs it).
 */
export function limitOutgoing(
  engine: { on(event: 'connection', fn: (socket: EngineSocket) => void): void },
  maxBytes: number,
  onDrop: OutgoingLimit['onDrop'],
): OutgoingLimit | Missing {
  const missing = patchSendPacket();
  if (missing.length > 0) return missing;
  const limit: OutgoingLimit = { maxBytes, onDrop, paused: 0, dropped: 0 };
  engine.on('connection', (socket) => {
    socket[LIMIT] = limit;
  });
  return limit;
}
