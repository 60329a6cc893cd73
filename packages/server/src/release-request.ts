import type { IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';

/** What Socket.IO reads of a connection's HTTP request after the Engine.IO handshake. */
type RequestFacts = Pick<IncomingMessage, 'headers' | 'url'> & {
  _query?: unknown;
  connection: { encrypted: boolean; remoteAddress: string | undefined };
  socket: { encrypted: boolean; remoteAddress: string | undefined };
};

/**
 * Engine.IO keeps each connection's first HTTP request (with its stream state, raw header list and
 * TCP socket) for as long as the connection lives; Socket.IO only reads its headers, URL, query and
 * whether it was encrypted, to build a namespace's handshake. Each connection keeps those facts
 * instead and the request is released. This matters for clients that start with HTTP long-polling
 * (Frappe's desk does): their first request and its keep-alive TCP socket would otherwise stay in
 * memory after the upgrade to websocket. (A websocket-first connection's request stays referenced by
 * Engine.IO's upgrade response object until the connection closes.)
 */
export function releaseRequests(io: Server): void {
  io.engine.on('connection', (conn: { request: IncomingMessage | RequestFacts }) => {
    const request = conn.request as IncomingMessage & { _query?: unknown };
    if (!request?.socket) return;
    const tcp = {
      encrypted: Boolean((request.socket as { encrypted?: boolean }).encrypted),
      remoteAddress: request.socket.remoteAddress,
    };
    conn.request = {
      headers: request.headers,
      url: request.url,
      _query: request._query,
      connection: tcp,
      socket: tcp,
    };
  });
}
