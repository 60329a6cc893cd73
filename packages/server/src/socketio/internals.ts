// The internal shapes of Socket.IO, Engine.IO and `ws` that the layer relies on, declared once, one
// name per shape, for the versions pinned in packages/server/package.json (socket.io 4.8,
// engine.io 6.6, socket.io-adapter 2.5, socket.io-parser 4.2, ws 8). None of these is in the
// libraries' public types: a new version may change any of them, which is why each patch checks the
// parts it needs at start (`missing`), and test/socketio-internals.test.ts checks that each is
// active. Only modules of this folder import this file.

/** An EventEmitter listener, as `rawListeners` returns it (`listener`: the one a `once` wraps). */
export type Listener = ((...args: unknown[]) => void) & { listener?: unknown };

/** The TCP socket under a websocket (Node's net.Socket, a stream.Duplex). */
export interface RawSocket {
  cork(): void;
  uncork(): void;
  destroyed: boolean;
  writableLength: number;
  pause(): void;
  resume(): void;
  destroy(): void;
  once(event: 'drain', fn: (this: RawSocket) => void): void;
}

/** `ws`'s WebSocket: `_socket` is the TCP socket it writes to. */
export interface WsSocket {
  _socket?: RawSocket;
  listeners(event: 'error'): Listener[];
  removeListener(event: 'error', fn: Listener): void;
}

/** Engine.IO's transport (websocket or polling; engine.io 6). */
export interface EngineTransport {
  name: string;
  /** False while a write it was handed is pending: Engine.IO then keeps packets in `writeBuffer`. */
  writable: boolean;
  send(packets: unknown[]): void;
  /** The websocket transport's `ws` socket. */
  socket?: WsSocket;
  listenerCount(event: string): number;
  /** Decodes one frame: Engine.IO's `Transport.prototype.onData`. */
  onData?(data: unknown): void;
}

/** Engine.IO's socket: one per connection (`io.engine`'s `connection` event, Socket.IO's `socket.conn`). */
export interface EngineSocket {
  id: string;
  remoteAddress: string;
  readyState: string;
  protocol: number;
  transport: EngineTransport;
  /** The packets not yet handed to the transport. */
  writeBuffer: { data?: unknown }[];
  /** Set while Engine.IO waits for a pong (it refreshes its timer on every packet then). */
  pingTimeoutTimer: unknown;
  /** The connection's first HTTP request (kept for its life). */
  request: unknown;
  flush(): void;
  sendPacket(type: string, data?: unknown, options?: unknown, callback?: unknown): void;
  write(data: string, options: { compress: boolean }): void;
  close(discard?: boolean): void;
  listenerCount(event: string): number;
  on(event: 'upgrade', fn: (this: EngineSocket, transport: EngineTransport) => void): void;
}

/** Socket.IO's Client: one per connection, holding its sockets by namespace (not exported). */
export interface IoClient {
  server: object;
  conn: EngineSocket;
  nsps: Map<string, IoSocket>;
  decoder: {
    /** Set while a binary packet's attachments are still coming. */
    reconstructor?: unknown;
    on(event: 'decoded', fn: (packet: IoPacket) => void): void;
    off(event: 'decoded', fn: (packet: IoPacket) => void): void;
  };
  /** Handles a decoded packet; bound per connection in the constructor. */
  ondecoded(packet: IoPacket): void;
}

/** A Socket.IO packet as its decoder hands it over. */
export interface IoPacket {
  type: number;
  nsp: string;
  id?: number;
  data?: unknown;
}

/** Socket.IO's Socket: one per namespace a connection joined. */
export interface IoSocket {
  nsp: { server: object };
  client: IoClient;
  /** The catch-all listeners (`onAny`): made by the first one. */
  _anyListeners?: Array<(...args: unknown[]) => void>;
  /** The socket's middlewares (`socket.use`). */
  fns?: unknown[];
  listenerCount(event: string): number;
  packet(packet: { type: number; id: number; data: unknown[] }): void;
  /** Closes the socket on the server side without telling the client. */
  _onclose?(reason: string): void;
  /** Hands a client event to the middlewares, then to the socket's own listeners. */
  dispatch?(event: unknown[]): void;
  buildHandshake?(auth: unknown): unknown;
  /**
   * Its private session id, set when connection state recovery is on: the client keeps it and
   * presents it again in every reconnect's CONNECT (`auth.pid`).
   */
  pid?: unknown;
}

/** Socket.IO's Server: its namespaces by name, and the HTTP server it is attached to. */
export interface IoServer {
  _nsps: Map<string, { name: string }>;
  httpServer?: import('node:http').Server;
}

/** A parent namespace (`io.of(regex)`): the namespaces it made. */
export interface IoParentNamespace {
  children?: Set<unknown>;
}

/** socket.io-adapter's in-memory adapter: what its `apply` and sessions are. */
export interface AdapterInternals {
  rooms: Map<string, Set<string>>;
  nsp: { server: object; sockets: Map<string, unknown> };
  /** Calls `callback` once per socket the broadcast options select (private in its types). */
  apply(
    opts: { rooms: Set<string>; except?: Set<string> },
    callback: (socket: unknown) => void,
  ): void;
  /** The session-aware adapter's stored sessions by private id (private in its types). */
  sessions?: Map<string, unknown>;
}

/**
 * An instance of `@socket.io/redis-streams-adapter` 0.3.1's RedisStreamsAdapter (its class is not
 * exported): a ClusterAdapter whose reader hands each stream entry of its namespace to
 * `onRawMessage`, and whose `publishAndReturnOffset` XADDs a message and resolves its entry id.
 */
export interface StreamsAdapterInternals {
  /** This node's id in the adapter's messages (random per adapter instance). */
  uid: string;
  nsp: { name: string; server: { opts: { connectionStateRecovery?: unknown } } };
  /** Called by the node's reader for each entry of this namespace, with the entry's id. */
  onRawMessage(raw: Record<string, string>, offset: string): void;
  /** XADDs (or publishes) a message with this node's uid; resolves the entry id. */
  publishAndReturnOffset(message: { type: number; data: unknown }): Promise<string>;
  /** Appends the offset to an event packet's data when recovery is on. */
  addOffsetIfNecessary(packet: unknown, opts: unknown, offset: string): void;
  broadcast(packet: unknown, opts: unknown): Promise<void> | void;
  persistSession(session: unknown): void;
  restoreSession(pid: string, offset: string): Promise<unknown>;
  close(): Promise<void> | void;
  del(id: string, room: string): void;
  rooms: Map<string, Set<string>>;
  constructor: {
    decode?: (raw: Record<string, string>) => { uid: string; type: number; data?: unknown };
  };
}

/** What a patch found missing of the shapes it relies on: none when it is applied. */
export type Missing = string[];

/** The names of `names` that are not functions on `target`. */
export function missingFunctions(
  target: object | undefined,
  owner: string,
  names: string[],
): Missing {
  if (target === undefined) return [owner];
  return names
    .filter((name) => typeof (target as Record<string, unknown>)[name] !== 'function')
    .map((name) => `${owner}.${name}()`);
}

/** Originals of the prototype methods replaced by `patchOnce`, by prototype and name. */
const patched = new WeakMap<object, Map<PropertyKey, unknown>>();

/**
 * Replaces `proto[name]` by `make(original)`, once per process (a prototype is shared by every
 * server: what the replacement does per server, it decides from the object it is called on).
 * Returns what is missing (the method is not a function), or an empty list once it is patched.
 */
export function patchOnce<F extends (...args: never[]) => unknown>(
  proto: object,
  owner: string,
  name: string,
  make: (original: F) => F,
): Missing {
  const done = patched.get(proto);
  if (done?.has(name)) return [];
  const original = (proto as Record<string, unknown>)[name];
  if (typeof original !== 'function') return [`${owner}.${name}()`];
  const replacement = make(original as F);
  (proto as Record<string, unknown>)[name] = replacement;
  if (done) done.set(name, original);
  else patched.set(proto, new Map([[name, original]]));
  return [];
}
