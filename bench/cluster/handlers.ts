// The bench's handler app, given to Herald as `--handlers frappe=bench/cluster/handlers.ts` (the
// backend stub's sites have `frappe` installed): `bench_burst` broadcasts events to a room through
// Socket.IO's adapter, which in a cluster is the cluster's stream (an XADD per event, read back by
// every node), where a message of Redis `events` is delivered by each node to its own sockets.
import type { Realtime } from '@herald/server';

export default (realtime: Realtime) => {
  realtime.on('bench_burst', (socket, room: string, event: string, count: number, pad: string) => {
    for (let i = 0; i < count; i += 1)
      socket.emit(event, { i, pad, sent: performance.timeOrigin + performance.now() }, room);
    return { ok: true };
  });
};
