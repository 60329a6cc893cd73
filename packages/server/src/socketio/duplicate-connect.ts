import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type IoClient, type IoPacket, type Missing, patchOnce } from './internals.js';
import { layerOf } from './link.js';

const CONNECT = 0;

/** Closes the socket a second CONNECT replaces; `_onclose` does not send DISCONNECT. */
function closeReplaced(client: IoClient, packet: IoPacket): void {
  if (packet.type !== CONNECT) return;
  const layer = layerOf(client.server);
  if (!layer?.duplicateConnects) return;
  const previous = client.nsps.get(packet.nsp || '/');
  if (previous?._onclose === undefined) return;
  layer.counts.duplicateConnectsReplaced += 1;
  previous._onclose('server namespace disconnect');
}

/**
 * Socket.IO's Client class (not exported: loaded from the file its package index loads, so it is
 * the same class), or what is missing when this version of socket.io is laid out otherwise.
 */
function clientPrototype(): IoClient | Missing {
  const where = 'socket.io dist/client.js exporting Client with ondecoded()';
  try {
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('socket.io')), 'client.js');
    if (!existsSync(file)) return [where];
    const { Client } = require(file) as { Client?: { prototype: IoClient } };
    return typeof Client?.prototype.ondecoded === 'function' ? Client.prototype : [where];
  } catch {
    return [where];
  }
}

/** Guards `ondecoded` on the Client prototype, once per process; returns what is missing. */
function guardPrototype(): Missing {
  const proto = clientPrototype();
  if (Array.isArray(proto)) return proto;
  return patchOnce<(this: IoClient, packet: IoPacket) => void>(
    proto,
    'socket.io Client',
    'ondecoded',
    (original) =>
      // A method (no `prototype` of its own), like the one it replaces: binding it per connection
      // stays on V8's fast path (a plain function's bound copy carried 300 bytes more, measured).
      ({
        ondecoded(this: IoClient, packet: IoPacket) {
          closeReplaced(this, packet);
          original.call(this, packet);
        },
      }).ondecoded,
  );
}

/**
 * A client may send a second CONNECT for a namespace it is already in on the same Engine.IO
 * connection. Socket.IO answers that by closing the whole connection (every namespace of it);
 * Herald tolerates it instead: the older socket is closed quietly on the server side (it leaves its
 * rooms, and the viewers of its open documents are told, through the usual disconnect handling)
 * and the new CONNECT is authenticated like any other.
 *
 * Socket.IO's Client binds `ondecoded` when a connection is made, so the guard goes on the Client
 * prototype before the server takes connections: a connection costs no closure of its own. Returns
 * what is missing of the prototype (then a second CONNECT closes the connection, as in Socket.IO).
 */
export function tolerateDuplicateConnects(): Missing {
  return guardPrototype();
}
