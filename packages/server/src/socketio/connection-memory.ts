// What each connection keeps in memory, trimmed. Socket.IO, Engine.IO and `ws` keep a few things
// per connection that Herald never uses; each trim here leaves the libraries' behaviour as it was
// and does nothing if the library is laid out otherwise (a newer version): it only costs memory.
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Server, Socket } from 'socket.io';
import * as parser from 'socket.io-parser';
import {
  type EngineSocket,
  type IoServer,
  type IoSocket,
  type Listener,
  type Missing,
  missingFunctions,
  patchOnce,
} from './internals.js';
import { type LayerCounts, layerOf } from './link.js';

/**
 * What Socket.IO reads of a connection's HTTP request after the Engine.IO handshake: its headers,
 * URL and query, and of its TCP socket whether it is encrypted and the peer's address (read as
 * `request.socket.*` or `request.connection.*`, both this object).
 */
class RequestFacts {
  readonly headers: IncomingMessage['headers'];
  readonly url: string | undefined;
  readonly _query: unknown;
  readonly encrypted: boolean;
  readonly remoteAddress: string | undefined;

  constructor(request: IncomingMessage & { _query?: unknown }) {
    this.headers = request.headers;
    this.url = request.url;
    this._query = request._query;
    this.encrypted = Boolean((request.socket as { encrypted?: boolean }).encrypted);
    this.remoteAddress = request.socket.remoteAddress;
  }

  get socket(): { encrypted: boolean; remoteAddress: string | undefined } {
    return this;
  }

  get connection(): { encrypted: boolean; remoteAddress: string | undefined } {
    return this;
  }
}
/** Engine.IO's stand-in for the response to a websocket upgrade (engine.io 6). */
interface UpgradeResponse {
  socket: Duplex;
  listenerCount(event: 'close'): number;
}

/**
 * Engine.IO keeps each connection's first HTTP request (with its stream state, raw header list and
 * TCP socket) for as long as the connection lives; Socket.IO only reads its headers, URL, query and
 * whether it was encrypted, to build a namespace's handshake. Each connection keeps those facts
 * instead and the request is released. This matters for clients that start with HTTP long-polling
 * (Frappe's desk does): their first request and its keep-alive TCP socket would otherwise stay in
 * memory after the upgrade to websocket.
 */
function keepRequestFacts(conn: EngineSocket, counts: LayerCounts): void {
  const request = conn.request as (IncomingMessage & { _query?: unknown }) | undefined;
  if (request?.socket && !(request instanceof RequestFacts)) {
    conn.request = new RequestFacts(request);
    counts.requestsReleased += 1;
  }
}

/**
 * Engine.IO answers each websocket upgrade with a response object that it ties to the TCP
 * socket's `close` event (registered with `once`), for middlewares that wait for the response to
 * end. The tie keeps that object, and through it the upgrade request (its stream state and raw
 * header list), for as long as the connection lives. An `upgrade` listener that runs before
 * Engine.IO's counts the socket's `close` listeners; a last Engine.IO middleware (after CORS)
 * removes the `once` listener added since, unless a middleware listens to the response's `close`.
 * (`ws` registers its own `close` listener later, with `on`; it stays.)
 */
function untieUpgradeResponses(io: Server, counts: LayerCounts): Missing {
  const http = (io as unknown as IoServer).httpServer;
  if (!http) return ['socket.io Server.httpServer'];
  const closeListenersBefore = new WeakMap<Duplex, number>();
  http.prependListener('upgrade', (_req: IncomingMessage, socket: Duplex) => {
    closeListenersBefore.set(socket, socket.listenerCount('close'));
  });
  io.engine.use(
    (_req: IncomingMessage, res: ServerResponse | UpgradeResponse, next: () => void) => {
      if (!(res instanceof ServerResponse)) {
        const from = closeListenersBefore.get(res.socket);
        closeListenersBefore.delete(res.socket);
        if (from !== undefined && res.listenerCount('close') === 0) {
          const added = (res.socket.rawListeners('close') as Listener[]).slice(from);
          for (const listener of added)
            if (typeof listener.listener === 'function') {
              res.socket.removeListener('close', listener);
              counts.upgradeResponsesUntied += 1;
            }
        }
      }
      next();
    },
  );
  return [];
}

/**
 * Engine.IO listens for errors on a new websocket until its transport takes over, but removes
 * that listener only on upgrades from polling: a websocket-first connection keeps it (and its
 * closure) for life, beside the transport's own error listener. It is removed once the
 * connection is made.
 */
function dropUpgradeErrorListener(conn: EngineSocket, counts: LayerCounts): Missing {
  const ws = conn.transport.socket;
  if (conn.transport.name !== 'websocket') return [];
  if (typeof ws?.listeners !== 'function') return ['websocket transport.socket.listeners()'];
  const errorListeners = ws.listeners('error');
  // Found by its name: engine.io's server.js names it so (a local function of its upgrade handler).
  const early = errorListeners.find((listener) => listener.name === 'onUpgradeError');
  if (!early) return ["engine.io's 'error' listener named onUpgradeError on a new websocket"];
  // Only when the transport's own listener is there to take the errors.
  if (errorListeners.length > 1) {
    ws.removeListener('error', early);
    counts.upgradeErrorListenersDropped += 1;
  }
  return [];
}

/**
 * Socket.IO gives every socket a Map for the acknowledgements of the events it sends to the
 * client (184 bytes, empty), which Herald's sockets rarely use. An accessor on the prototype makes
 * it on first use instead: the constructor's empty Map is not kept, and the first read or a
 * non-empty assignment gives the socket a Map of its own, as before. Once per process; a socket of
 * a server without the layer keeps its Map.
 */
function makeAcksOnFirstUse(): Missing {
  const proto = Socket.prototype as object;
  // Socket.IO reads the Map in onack (the client's answers) and emitWithAck.
  const missing = missingFunctions(proto, 'socket.io Socket', ['onack', 'emitWithAck']);
  if (missing.length > 0) return missing;
  if (Object.getOwnPropertyDescriptor(proto, 'acks')) return [];
  const own = (socket: object, value: Map<unknown, unknown>) => {
    Object.defineProperty(socket, 'acks', {
      value,
      writable: true,
      configurable: true,
      enumerable: true,
    });
    return value;
  };
  Object.defineProperty(proto, 'acks', {
    configurable: true,
    get(this: object) {
      return this === proto ? undefined : own(this, new Map());
    },
    set(this: IoSocket, value: Map<unknown, unknown>) {
      const layer =
        value instanceof Map && value.size === 0 ? layerOf(this.nsp?.server) : undefined;
      if (layer === undefined) own(this, value);
      else layer.counts.acksDeferred += 1;
    },
  });
  return [];
}

/** A socket's handshake as Socket.IO builds it. */
interface HandshakeFields {
  headers: unknown;
  time: string;
  address: string;
  xdomain: boolean;
  secure: boolean;
  issued: number;
  url: string;
  query: unknown;
  auth: unknown;
}

/**
 * Socket.IO's `socket.handshake`, with `time` (the date as text, about 80 bytes per socket) made
 * from `issued` when read instead of kept; JSON (the admin UI's) still carries it.
 */
class Handshake {
  readonly headers: unknown;
  readonly address: string;
  readonly xdomain: boolean;
  readonly secure: boolean;
  readonly issued: number;
  readonly url: string;
  readonly query: unknown;
  readonly auth: unknown;

  constructor(built: HandshakeFields) {
    this.headers = built.headers;
    this.address = built.address;
    this.xdomain = built.xdomain;
    this.secure = built.secure;
    this.issued = built.issued;
    this.url = built.url;
    this.query = built.query;
    this.auth = built.auth;
  }

  get time(): string {
    return new Date(this.issued).toString();
  }

  toJSON(): HandshakeFields {
    return { ...this, time: this.time };
  }
}

/** Every socket's handshake is a `Handshake`, on servers that applied the layer. Once per process. */
function keepHandshakeTimeAsNumber(): Missing {
  return patchOnce<(this: IoSocket, auth: unknown) => HandshakeFields>(
    Socket.prototype,
    'socket.io Socket',
    'buildHandshake',
    (build) =>
      // A method, like the one it replaces.
      ({
        buildHandshake(this: IoSocket, auth: unknown) {
          const built = build.call(this, auth);
          const layer = layerOf(this.nsp.server);
          if (layer === undefined) return built;
          layer.counts.handshakesTrimmed += 1;
          return new Handshake(built) as unknown as HandshakeFields;
        },
      }).buildHandshake,
  );
}

/** The socket.io-parser Decoder keeps its listeners as component-emitter does: `_callbacks['$event']`. */
function decoderMissing(): Missing {
  const missing = missingFunctions(parser.Decoder.prototype, 'socket.io-parser Decoder', ['on']);
  if (missing.length > 0) return missing;
  const probe = new parser.Decoder() as unknown as { _callbacks?: Record<string, unknown[]> };
  const listener = () => undefined;
  (probe as unknown as parser.Decoder).on('decoded', listener);
  return probe._callbacks?.$decoded?.[0] === listener
    ? []
    : ["socket.io-parser Decoder's listeners in _callbacks['$decoded']"];
}

/**
 * Socket.IO's parser, but a connection's decoder keeps its one listener in an array of that size
 * (the emitter's push reserves room for 16: about 130 bytes per connection). One per server: its
 * decoders are counted. Socket.IO's own Decoder when `missing` is not empty.
 */
export function leanParser(counts: LayerCounts, missing: Missing = decoderMissing()) {
  if (missing.length > 0) return { Encoder: parser.Encoder, Decoder: parser.Decoder, missing };
  const emitterOn = parser.Decoder.prototype.on;
  class Decoder extends parser.Decoder {}
  Decoder.prototype.on = function on(this: Decoder, event: string, listener: unknown) {
    const emitter = this as unknown as { _callbacks?: Record<string, unknown[]> };
    if (emitter._callbacks !== undefined)
      return emitterOn.call(this, event as never, listener as never);
    const callbacks: Record<string, unknown[]> = {};
    callbacks[`$${event}`] = [listener];
    emitter._callbacks = callbacks;
    counts.leanDecoders += 1;
    return this;
  } as typeof emitterOn;
  return { Encoder: parser.Encoder, Decoder, missing };
}

/** What trimming each connection found missing, by trim (see each step). */
export interface TrimsMissing {
  'acks on first use': Missing;
  'handshake time': Missing;
  'upgrade response': Missing;
}

/**
 * Trims what every connection of this server keeps (see each step). The server must have been made
 * with `parser: leanParser(...)`. `report` is told, once per connection at most, what a trim of a
 * connection found missing.
 */
export function trimConnectionMemory(
  io: Server,
  counts: LayerCounts,
  report: (trim: string, missing: Missing) => void,
): TrimsMissing {
  const missing: TrimsMissing = {
    'acks on first use': makeAcksOnFirstUse(),
    'handshake time': keepHandshakeTimeAsNumber(),
    'upgrade response': untieUpgradeResponses(io, counts),
  };
  io.engine.on('connection', (conn: EngineSocket) => {
    keepRequestFacts(conn, counts);
    const early = dropUpgradeErrorListener(conn, counts);
    if (early.length > 0) report('upgrade error listener', early);
  });
  return missing;
}

/**
 * `socket.onAny(listener)` for a socket's one catch-all listener. Socket.IO keeps catch-all
 * listeners in an array it grows by push, which reserves room for 16 (about 130 bytes more per
 * socket); the first listener gets an array of its own size instead.
 */
export function listenToAll<S extends { onAny(listener: never): unknown }>(
  socket: S,
  listener: Parameters<S['onAny']>[0],
): void {
  const any = socket as unknown as IoSocket;
  if (any._anyListeners === undefined)
    any._anyListeners = [listener as unknown as (...args: unknown[]) => void];
  else socket.onAny(listener as never);
}
