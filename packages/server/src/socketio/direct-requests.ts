import { Transport as TransportClass } from 'engine.io';
import type { Server } from 'socket.io';
import {
  type EngineSocket,
  type EngineTransport,
  type IoClient,
  type IoSocket,
  type Missing,
  missingFunctions,
  patchOnce,
} from './internals.js';

// Client requests taken straight from the websocket, past Engine.IO's and Socket.IO's packet layers,
// when nothing else could see them there.
//
// A Socket.IO event travels from `ws` through Engine.IO's transport and socket (three events
// emitted), Socket.IO's client and decoder (a fourth, and a scan of the string), a tick, the
// socket's `onevent` and a new acknowledgement closure; its answer goes back through the socket,
// the client, the encoder (a walk of the data for binary parts) and Engine.IO. For a core request,
// answered by Herald's one catch-all listener, that was about a fifth of the server's CPU per
// request (BENCHMARKS.md, presence churn). Here a text EVENT frame on an open websocket is decoded
// once (its namespace, its acknowledgement id, one `JSON.parse`) and handed to the listener in a
// tick of its own, as Socket.IO hands it over (so it keeps its place among frames Socket.IO is
// still handling); an `{ ok: true }` answer goes to Engine.IO encoded once.
//
// Only when nothing else could see the frame on its way: the connection is open and not waiting
// for a pong (Engine.IO refreshes its timer then), nothing else listens to its packets, the decoder
// is not in the middle of a binary packet, and the socket's only catch-all listener is one that
// registered for the event, with no `socket.use` middleware and no listener of the event itself
// (the Admin UI, for one, adds a catch-all listener: its sockets go the long way). Anything else,
// a frame that does not parse included, goes the long way and is answered or refused there, as
// before. If Engine.IO or Socket.IO are laid out otherwise (another version), every frame goes the
// long way.

/** A catch-all listener (Socket.IO's `onAny`), called with the socket as `this`. */
type Listener = (event: string, ...args: unknown[]) => void;

/** Engine.IO's transport and socket as direct requests mark them. */
type Transport = EngineTransport & { [ENGINE]?: Engine };
type Engine = EngineSocket & {
  transport: Transport;
  [CLIENT]?: IoClient;
  [DIRECT]?: DirectRequests;
};

const ENGINE = Symbol('herald.directEngine');
const CLIENT = Symbol('herald.directClient');
const DIRECT = Symbol('herald.direct');
/** Socket.IO's packet type of an acknowledgement. */
const ACK = 3;

/**
 * One server's direct requests: the listeners that may be handed events straight from the
 * websocket, the reply of plain successes, and how many requests were taken so.
 */
export class DirectRequests {
  /** Requests taken directly, since start. */
  taken = 0;
  /** Listeners that may be handed events directly, and those events. */
  readonly listeners = new Map<Listener, ReadonlySet<string>>();
  /** The one reply object of plain successes, and its encoding in an acknowledgement. */
  okReply: object | undefined;
  okEncoded = '';

  /**
   * `listener`, when it is a socket's only catch-all listener, may be handed `events` straight
   * from the websocket. `ok` is the reply object it answers plain successes with (its encoding is
   * kept).
   */
  take(listener: Listener, events: Iterable<string>, ok: object): void {
    this.listeners.set(listener, new Set(events));
    this.okReply = ok;
    this.okEncoded = JSON.stringify([ok]);
  }
}

/**
 * The acknowledgement of a direct request: as Socket.IO's (answers once), with `okReply` encoded
 * once. (An arrow function: a named function made per request would be renamed at run time by a
 * TypeScript loader that keeps names, at some 2% of a request.)
 */
function acknowledgement(direct: DirectRequests, socket: IoSocket, nsp: string, id: number) {
  let sent = false;
  return (...args: unknown[]): void => {
    if (sent) return;
    sent = true;
    if (args.length !== 1 || args[0] !== direct.okReply) {
      socket.packet({ type: ACK, id, data: args });
      return;
    }
    // What Socket.IO's encoder would make of it, written as Socket.IO writes it.
    const conn = socket.client.conn;
    if (conn.readyState === 'open')
      conn.write(`${ACK}${nsp === '/' ? '' : `${nsp},`}${id}${direct.okEncoded}`, {
        compress: true,
      });
  };
}

/** Hands a direct request to its listener, as Socket.IO's `onevent` does. */
function deliver(
  direct: DirectRequests,
  socket: IoSocket,
  listener: Listener,
  args: unknown[],
  nsp: string,
  id: number,
) {
  if (id >= 0) args.push(acknowledgement(direct, socket, nsp, id));
  listener.apply(socket, args as [string, ...unknown[]]);
}

/**
 * Takes a text frame of an Engine.IO message holding a Socket.IO EVENT ("42...") directly, or
 * returns false, having done nothing.
 */
function takeFrame(engine: Engine, transport: Transport, data: string): boolean {
  const client = engine[CLIENT];
  const direct = engine[DIRECT];
  if (
    client === undefined ||
    direct === undefined ||
    engine.transport !== transport ||
    engine.readyState !== 'open' ||
    engine.protocol !== 4 ||
    engine.pingTimeoutTimer !== null ||
    client.decoder.reconstructor ||
    transport.listenerCount('packet') !== 1 ||
    engine.listenerCount('packet') !== 0 ||
    engine.listenerCount('message') !== 0 ||
    engine.listenerCount('data') !== 1
  )
    return false;
  // "42", then "/<namespace>," unless it is the main one, then the acknowledgement id's digits.
  let i = 2;
  let nsp = '/';
  if (data.charCodeAt(i) === 47 /* / */) {
    const comma = data.indexOf(',', i);
    if (comma < 0) return false;
    nsp = data.slice(i, comma);
    i = comma + 1;
  }
  const digits = i;
  while (data.charCodeAt(i) >= 48 && data.charCodeAt(i) <= 57) i += 1;
  const id = i > digits ? Number(data.slice(digits, i)) : -1;
  if (data.charCodeAt(i) !== 91 /* [ */) return false;
  const socket = client.nsps.get(nsp);
  const listeners = socket?._anyListeners;
  if (socket === undefined || listeners?.length !== 1 || socket.fns?.length !== 0) return false;
  const listener = listeners[0] as Listener;
  const events = direct.listeners.get(listener);
  if (events === undefined) return false;
  let args: unknown;
  try {
    args = JSON.parse(data.slice(i));
  } catch {
    return false;
  }
  if (!Array.isArray(args) || typeof args[0] !== 'string' || !events.has(args[0])) return false;
  if (socket.listenerCount(args[0]) !== 0) return false;
  process.nextTick(deliver, direct, socket, listener, args, nsp, id);
  direct.taken += 1;
  return true;
}

/**
 * Engine.IO's transports decode each frame in `onData`: a text EVENT frame of a connection of a
 * server with direct requests is offered here first. Once per process; returns what is missing.
 */
function offerFrames(): Missing {
  return patchOnce<(this: Transport, data: unknown) => void>(
    TransportClass.prototype,
    'engine.io Transport',
    'onData',
    (original) =>
      function onData(this: Transport, data: unknown) {
        const engine = this[ENGINE];
        if (
          engine !== undefined &&
          typeof data === 'string' &&
          data.charCodeAt(0) === 52 /* 4: message */ &&
          data.charCodeAt(1) === 50 /* 2: event */ &&
          takeFrame(engine, this, data)
        )
          return;
        original.call(this, data);
      },
  );
}

function onUpgrade(this: Engine, transport: Transport): void {
  if (transport.name === 'websocket') transport[ENGINE] = this;
}

/**
 * Takes direct requests on every websocket of a server (a connection that starts with polling, once
 * it is upgraded). Each socket that connects to a namespace must then be `attach`ed, and the
 * listeners given with `take`. Returns the server's direct requests, or what is missing of
 * Engine.IO and Socket.IO (then every frame goes the long way).
 */
export function enableDirectRequests(
  io: Server,
  report: (missing: Missing) => void,
): DirectRequests | Missing {
  const missing = [
    ...offerFrames(),
    ...missingFunctions(TransportClass.prototype, 'engine.io Transport', [
      'onPacket',
      'listenerCount',
    ]),
  ];
  if (missing.length > 0) return missing;
  const direct = new DirectRequests();
  let checked = false;
  let off = false;
  io.engine.on('connection', (engine: Engine) => {
    // A connection's own fields, read for every frame: checked on the first connection.
    if (!checked) {
      checked = true;
      const gone = engineMissing(engine);
      off = gone.length > 0;
      report(gone);
    }
    if (off) return;
    engine[DIRECT] = direct;
    if (engine.transport.name === 'websocket') engine.transport[ENGINE] = engine;
    else engine.on('upgrade', onUpgrade);
  });
  return direct;
}

/** What `takeFrame` reads of an Engine.IO socket that is not there (none: all there). */
function engineMissing(engine: Engine): Missing {
  const missing: Missing = [];
  if (typeof engine.readyState !== 'string') missing.push('engine socket.readyState');
  if (typeof engine.protocol !== 'number') missing.push('engine socket.protocol');
  if (!('pingTimeoutTimer' in engine)) missing.push('engine socket.pingTimeoutTimer');
  if (typeof engine.write !== 'function') missing.push('engine socket.write()');
  return missing;
}

/** A socket connected to a namespace: the frames of its connection may be taken directly. */
export function attachDirectRequests(socket: { conn: object; client: object }): void {
  const conn = socket.conn as Engine;
  conn[CLIENT] ??= socket.client as IoClient;
}
