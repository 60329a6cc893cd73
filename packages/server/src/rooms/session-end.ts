import type { HeraldSocket } from '../session.js';
import { notifyViewers } from './viewers.js';

/** Socket.IO's disconnect reasons after which connection state recovery may restore the session. */
const RECOVERABLE = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
]);

/** Whether a socket that left for `reason` may come back (connection state recovery, or a re-join). */
export const isRecoverable = (reason: string): boolean => RECOVERABLE.has(reason);

/** A socket with open documents or handler state disconnected. */
function onDisconnect(this: HeraldSocket, reason: string): void {
  const session = this.data;
  // Socket.IO has already removed the socket from its rooms: the viewers left are the others.
  for (const { doctype, docname } of session.openDocs?.values() ?? []) {
    notifyViewers(this.nsp, session.user, doctype, docname);
  }
  // A session that may be recovered keeps its open documents and state for its return.
  if (!RECOVERABLE.has(reason)) {
    session.openDocs = undefined;
    session.state = undefined;
  }
}

/**
 * Called when a socket's session gets something its disconnect must clean up (its first open
 * document, its first handler state, or both restored by recovery): from then on the socket's
 * disconnect tells the viewers of its open documents. One function shared by every socket, and
 * registered only on those sockets: an idle socket has no listener of its own.
 */
export function endWithSession(socket: HeraldSocket): void {
  if (!socket.listeners('disconnect').includes(onDisconnect)) socket.on('disconnect', onDisconnect);
}
