import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { HeraldIo, HeraldSocket } from '../session.js';

/** The parts of Socket.IO's per-connection Client this module relies on (socket.io 4.x). */
interface EngineClient {
  server: unknown;
  nsps: Map<string, HeraldSocket>;
  decoder: {
    on(event: 'decoded', fn: (packet: Packet) => void): void;
    off(event: 'decoded', fn: (packet: Packet) => void): void;
  };
  ondecoded: (packet: Packet) => void;
}
interface Packet {
  type: number;
  nsp: string;
}
const CONNECT = 0;
/** The servers that tolerate duplicate CONNECTs (a guarded prototype is shared by every server). */
const tolerant = new WeakSet<object>();
/** Connections guarded one by one (when the prototype could not be). */
const guardedClients = new WeakSet<object>();

/** Closes the socket a second CONNECT replaces; `_onclose` does not send DISCONNECT. */
function closeReplaced(client: EngineClient, packet: Packet): void {
  if (packet.type !== CONNECT || !tolerant.has(client.server as object)) return;
  const previous = client.nsps.get(packet.nsp || '/');
  (previous as unknown as { _onclose?: (reason: string) => void } | undefined)?._onclose?.(
    'server namespace disconnect',
  );
}

/**
 * Socket.IO's Client class (not exported: loaded from the file its package index loads, so it is
 * the same class). Undefined if this version of socket.io is laid out otherwise.
 */
function clientPrototype(): EngineClient | undefined {
  try {
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('socket.io')), 'client.js');
    if (!existsSync(file)) return undefined;
    const { Client } = require(file) as { Client?: { prototype: EngineClient } };
    return typeof Client?.prototype.ondecoded === 'function' ? Client.prototype : undefined;
  } catch {
    return undefined;
  }
}

let prototypeGuarded: boolean | undefined;
/** Guards `ondecoded` on the Client prototype, once per process. */
function guardPrototype(): boolean {
  if (prototypeGuarded !== undefined) return prototypeGuarded;
  const proto = clientPrototype();
  prototypeGuarded = proto !== undefined;
  if (proto) {
    const original = proto.ondecoded;
    // A method (no `prototype` of its own), like the one it replaces: binding it per connection
    // stays on V8's fast path (a plain function's bound copy carried 300 bytes more, measured).
    proto.ondecoded = {
      ondecoded(this: EngineClient, packet: Packet) {
        closeReplaced(this, packet);
        original.call(this, packet);
      },
    }.ondecoded;
  }
  return prototypeGuarded;
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
 * what to call for each new socket: nothing to do then, unless the prototype could not be reached
 * (another socket.io layout), in which case each connection is guarded on its own.
 */
export function tolerateDuplicateConnects(io: HeraldIo): (socket: HeraldSocket) => void {
  tolerant.add(io);
  if (guardPrototype()) return () => undefined;
  return (socket) => {
    const client = socket.client as unknown as EngineClient;
    if (guardedClients.has(client) || !client.decoder) return;
    guardedClients.add(client);
    const original = client.ondecoded;
    const guard = (packet: Packet) => {
      closeReplaced(client, packet);
      original(packet);
    };
    client.decoder.off('decoded', original);
    client.decoder.on('decoded', guard);
    client.ondecoded = guard;
  };
}
