// Socket.IO's private session id of a socket (`socket.pid`, private in socket.io's types): the id
// a socket.io-client presents again as `auth.pid` in every reconnect's CONNECT packet, also when
// the server then cannot recover the session. Herald keys its per-socket records in Redis by it
// (cluster/socket-records.ts).
import type { IoSocket } from './internals.js';

/** A socket's private session id: undefined when connection state recovery is off. */
export function privateSessionId(socket: object): string | undefined {
  const pid = (socket as IoSocket).pid;
  return typeof pid === 'string' && pid !== '' ? pid : undefined;
}
