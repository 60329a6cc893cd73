// What each connection keeps in memory, trimmed. Socket.IO, Engine.IO and `ws` keep a few things
// per connection that Herald never uses; each trim here leaves the libraries' behaviour as it was
// and does nothing if the library is laid out otherwise (a newer version): it only costs memory.
import { type Server as HttpServer, type IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Server, Socket } from 'socket.io';
import * as parser from 'socket.io-parser';

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
type Listener = ((...args: unknown[]) => void) & { listener?: unknown };
/** Engine.IO's stand-in for the response to a websocket upgrade (engine.io 6). */
interface UpgradeResponse {
  socket: Duplex;
  listenerCount(event: 'close'): number;
}
/** The parts of an Engine.IO connection read here. */
interface EngineConnection {
  request: IncomingMessage | RequestFacts;
  transport: { name: string; socket?: { listeners(event: 'error'): Listener[] } & Duplex };
}

/**
 * Engine.IO keeps each connection's first HTTP request (with its stream state, raw header list and
 * TCP socket) for as long as the connection lives; Socket.IO only reads its headers, URL, query and
 * whether it was encrypted, to build a namespace's handshake. Each connection keeps those facts
 * instead and the request is released. This matters for clients that start with HTTP long-polling
 * (Frappe's desk does): their first request and its keep-alive TCP socket would otherwise stay in
 * memory after the upgrade to websocket.
 */
function keepRequestFacts(conn: EngineConnection): void {
  const request = conn.request as IncomingMessage & { _query?: unknown };
  if (request?.socket && !(request instanceof RequestFacts))
    conn.request = new RequestFacts(request);
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
function untieUpgradeResponses(io: Server): void {
  const http = (io as unknown as { httpServer?: HttpServer }).httpServer;
  if (!http) return;
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
            if (typeof listener.listener === 'function')
              res.socket.removeListener('close', listener);
        }
      }
      next();
    },
  );
}

/**
 * Engine.IO listens for errors on a new websocket until its transport takes over, but removes
 * that listener only on upgrades from polling: a websocket-first connection keeps it (and its
 * closure) for life, beside the transport's own error listener. It is removed once the
 * connection is made.
 */
function dropUpgradeErrorListener(conn: EngineConnection): void {
  const ws = conn.transport.socket;
  if (conn.transport.name !== 'websocket' || typeof ws?.listeners !== 'function') return;
  const errorListeners = ws.listeners('error');
  const early = errorListeners.find((listener) => listener.name === 'onUpgradeError');
  // Only when the transport's own listener is there to take the errors.
  if (early && errorListeners.length > 1) ws.removeListener('error', early);
}

/**
 * Socket.IO gives every socket a Map for the acknowledgements of the events it sends to the
 * client (184 bytes, empty), which Herald's sockets rarely use. An accessor on the prototype makes
 * it on first use instead: the constructor's empty Map is not kept, and the first read or a
 * non-empty assignment gives the socket a Map of its own, as before. Once per process.
 */
function makeAcksOnFirstUse(): void {
  const proto = Socket.prototype as object;
  if (Object.getOwnPropertyDescriptor(proto, 'acks')) return;
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
    set(this: object, value: Map<unknown, unknown>) {
      if (!(value instanceof Map) || value.size > 0) own(this, value);
    },
  });
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

/** Every socket's handshake is a `Handshake`. Once per process. */
function keepHandshakeTimeAsNumber(): void {
  const proto = Socket.prototype as unknown as {
    buildHandshake?: (this: Socket, auth: unknown) => HandshakeFields;
    [HANDSHAKE]?: true;
  };
  const build = proto.buildHandshake;
  if (proto[HANDSHAKE] || typeof build !== 'function') return;
  proto[HANDSHAKE] = true;
  proto.buildHandshake = {
    buildHandshake(this: Socket, auth: unknown) {
      return new Handshake(build.call(this, auth)) as unknown as HandshakeFields;
    },
  }.buildHandshake;
}
const HANDSHAKE = Symbol('herald.handshake');

/**
 * Socket.IO's parser, but a connection's decoder keeps its one listener in an array of that size
 * (the emitter's push reserves room for 16: about 130 bytes per connection).
 */
class Decoder extends parser.Decoder {}
const emitterOn = parser.Decoder.prototype.on;
Decoder.prototype.on = function on(this: Decoder, event: string, listener: unknown) {
  const emitter = this as unknown as { _callbacks?: Record<string, unknown[]> };
  if (emitter._callbacks !== undefined)
    return emitterOn.call(this, event as never, listener as never);
  const callbacks: Record<string, unknown[]> = {};
  callbacks[`$${event}`] = [listener];
  emitter._callbacks = callbacks;
  return this;
} as typeof emitterOn;
export const leanParser = { Encoder: parser.Encoder, Decoder };

/**
 * Trims what every connection of this server keeps (see each step). The server must have been made
 * with `parser: leanParser`.
 */
export function trimConnectionMemory(io: Server): void {
  makeAcksOnFirstUse();
  keepHandshakeTimeAsNumber();
  untieUpgradeResponses(io);
  io.engine.on('connection', (conn: EngineConnection) => {
    keepRequestFacts(conn);
    dropUpgradeErrorListener(conn);
  });
}
