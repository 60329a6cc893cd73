import type { HeraldSocket } from '../session.js';

/** The parts of Socket.IO's per-connection Client this module relies on (socket.io 4.x). */
interface EngineClient {
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
const guarded = new WeakSet<object>();

/**
 * A client may send a second CONNECT for a namespace it is already in on the same Engine.IO
 * connection. Socket.IO answers that by closing the whole connection (every namespace of it);
 * Herald tolerates it instead: the older socket is closed quietly on the server side (it leaves its
 * rooms, and the viewers of its open documents are told, through the usual disconnect handling)
 * and the new CONNECT is authenticated like any other.
 */
export function tolerateDuplicateConnects(socket: HeraldSocket): void {
  const client = socket.client as unknown as EngineClient;
  if (guarded.has(client) || typeof client.ondecoded !== 'function' || !client.decoder) return;
  guarded.add(client);
  const original = client.ondecoded;
  const guard = (packet: Packet) => {
    if (packet.type === CONNECT) {
      const previous = client.nsps.get(packet.nsp || '/');
      // _onclose runs Socket.IO's own cleanup without sending DISCONNECT to the client.
      (previous as unknown as { _onclose?: (reason: string) => void } | undefined)?._onclose?.(
        'server namespace disconnect',
      );
    }
    original(packet);
  };
  client.decoder.off('decoded', original);
  client.decoder.on('decoded', guard);
  client.ondecoded = guard;
}
