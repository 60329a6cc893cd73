// How a patch on a shared prototype finds the server it is working for: each server that applied
// the layer carries its state under one symbol. A server without it (a plain Socket.IO server in
// the same process) is left as Socket.IO made it.

/** What the layer did on one server, since start: each patch's own count (socketio-internals.test.ts). */
export interface LayerCounts {
  /** Client events whose dispatch was skipped (event-dispatch.ts). */
  dispatchSkipped: number;
  /** Sockets made without their empty acknowledgements Map (connection-memory.ts). */
  acksDeferred: number;
  /** Handshakes kept with their time as a number (connection-memory.ts). */
  handshakesTrimmed: number;
  /** Decoders made with a one-listener array (connection-memory.ts). */
  leanDecoders: number;
  /** Engine.IO's early `error` listeners removed from websocket-first connections (connection-memory.ts). */
  upgradeErrorListenersDropped: number;
  /** Connections whose first HTTP request was released (connection-memory.ts). */
  requestsReleased: number;
  /** Websocket upgrade responses untied from their TCP socket (connection-memory.ts). */
  upgradeResponsesUntied: number;
  /** Broadcasts to one room that went through its members as they are (adapter.ts). */
  oneRoomBroadcasts: number;
  /** Intervals the base adapter started, captured to be stopped on close (adapter.ts). */
  adapterIntervalsCaptured: number;
  /** Sockets a second CONNECT replaced (duplicate-connect.ts). */
  duplicateConnectsReplaced: number;
  /** Packets the encoder could not encode, sent to nobody (encode-guard.ts). */
  encodeFailures: number;
}

/** A server's layer, as the patches on shared prototypes see it. */
export interface ServerLayer {
  readonly counts: LayerCounts;
  /** Whether a second CONNECT to a namespace replaces the socket (duplicate-connect.ts). */
  readonly duplicateConnects: boolean;
}

const LAYER = Symbol('herald.socketIoLayer');

/** Marks `server` (Socket.IO's Server) as running the layer. */
export function linkLayer(server: object, layer: ServerLayer): void {
  (server as { [LAYER]?: ServerLayer })[LAYER] = layer;
}

/** The layer of a Socket.IO server, if it applied one. */
export const layerOf = (server: object | undefined): ServerLayer | undefined =>
  (server as { [LAYER]?: ServerLayer } | undefined)?.[LAYER];

/** Zeroed counts. */
export const noCounts = (): LayerCounts => ({
  dispatchSkipped: 0,
  acksDeferred: 0,
  handshakesTrimmed: 0,
  leanDecoders: 0,
  upgradeErrorListenersDropped: 0,
  requestsReleased: 0,
  upgradeResponsesUntied: 0,
  oneRoomBroadcasts: 0,
  adapterIntervalsCaptured: 0,
  duplicateConnectsReplaced: 0,
  encodeFailures: 0,
});
