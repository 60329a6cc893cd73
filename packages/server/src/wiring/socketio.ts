import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Adapter } from 'socket.io-adapter';
import { WebSocketServer } from 'ws';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Presence } from '../presence/presence.js';
import { HeldSessions } from '../rooms/held-sessions.js';
import { roomsAdapterChecked } from '../rooms/rooms-adapter.js';
import { limitViewerNotices } from '../rooms/viewers.js';
import type { HeraldIo } from '../session.js';
import { SocketIoLayer } from '../socketio/layer.js';

/** Herald's Socket.IO server on `http`, with the layer over it applied (socketio/layer.ts). */
export function createSocketIo(
  http: HttpServer,
  config: Config,
  logger: Logger,
  /** The server's metrics, once made (they read the server): the layer may report before. */
  metrics: () => Metrics | undefined,
  /** The cluster's adapter (cluster/adapter.ts), in cluster mode. */
  clusterAdapter?: typeof Adapter,
  /** Who views which document: this process's sockets (default), or the cluster's. */
  presence?: Presence,
): { io: HeraldIo; layer: SocketIoLayer } {
  const layer = new SocketIoLayer({
    logger,
    writeCoalescing: config.writeCoalescing,
    directRequests: config.directRequests,
    maxOutgoingBytes: config.maxOutgoingBytes,
    onOutgoingDrop: (engine, waiting) => {
      logger.warn(
        { engine: engine.id, address: engine.remoteAddress, waiting, max: config.maxOutgoingBytes },
        'closed a connection that reads slower than it is sent to (--max-outgoing-bytes)',
      );
      metrics()?.dropped.inc({ reason: 'outgoing_buffer' });
    },
    onEncodeFailure: (error, packet) => {
      metrics()?.encodeFailures.inc();
      const data = (packet as { data?: unknown }).data;
      logger.error(
        {
          err: error,
          nsp: packet.nsp,
          event: Array.isArray(data) && typeof data[0] === 'string' ? data[0] : undefined,
        },
        'a packet could not be encoded for a client and was sent to nobody',
      );
    },
  });
  // Sessions of disconnected clients kept for recovery, bounded in all (rooms/held-sessions.ts).
  const held =
    config.recoveryWindowMs > 0 && !clusterAdapter
      ? new HeldSessions(config.maxHeldRooms, config.recoveryWindowMs)
      : undefined;
  const adapter = roomsAdapterChecked(held);
  layer.report('one-room broadcast', adapter.missing);
  const io: HeraldIo = new Server(http, {
    // The origin is checked per namespace by the connect middleware, as upstream does.
    cors: { origin: true, credentials: true },
    serveClient: false,
    // Socket.IO's own parser, with a decoder that keeps less per connection and an encoder that
    // never throws (socketio/encode-guard.ts).
    parser: layer.parser,
    // ws 8.23 or later (Engine.IO's own pin is older) lets go of the last frame's read buffer once
    // the frame is read, instead of pinning it on an idle connection until the next frame.
    wsEngine: WebSocketServer,
    // Compression costs CPU on every frame for small JSON events; off, as upstream.
    perMessageDeflate: false,
    // Socket.IO's in-memory adapter, keeping emptied rooms a while (rooms/rooms-adapter.ts).
    // In a cluster, the streams adapter with the same changes (cluster/adapter.ts).
    adapter: clusterAdapter ?? adapter.adapter,
    ...(config.recoveryWindowMs > 0 && {
      // A client back within the window gets what its rooms missed, in order, and keeps its rooms
      // and session; it is not authenticated again.
      connectionStateRecovery: {
        maxDisconnectionDuration: config.recoveryWindowMs,
        skipMiddlewares: true,
      },
    }),
  });
  layer.apply(io as unknown as Server);
  limitViewerNotices(io, config.viewersIntervalMs, presence);
  return { io, layer };
}
