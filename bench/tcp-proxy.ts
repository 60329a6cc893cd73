// A minimal TCP proxy for the cluster bench: it stands where a load balancer would, in front of
// one node, and can be pointed at another (`retarget`), as a balancer sends a client's next
// connection elsewhere once its node is gone. A connection whose far end closes is closed on the
// client's side too, so the client sees its node go.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** The port new connections go to from now on (open ones stay where they are). */
  retarget(port: number): void;
  /** Connections made through it so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Starts a proxy on a free port of 127.0.0.1 to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let connections = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect(target, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  // A long accept queue: a thousand clients reconnect through it at once.
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
  );
  return {
    port: (server.address() as AddressInfo).port,
    retarget: (port) => {
      target = port;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
