// Cluster 4: the clients of a SIGKILLed node back within 10 s. Three --cluster nodes; desk-like
// socket.io-client sockets connect to node3 through two TCP proxies (@herald/testkit's startTcpProxy, standing
// where a balancer would), each subscribes to a document and opens it; the proxies are pointed at
// node1 and node2, node3 gets SIGKILL, and a `doc_update` of every document is published on Redis
// `events` every 200 ms from then on. Timed from the kill: until every socket is connected again,
// and until every one has received a `doc_update` published after the kill (which needs Herald to
// re-join the rooms of a client that comes back without recovery, docs/cluster-design.md 5.8: the
// desk never subscribes again after a reconnect).

import { startTcpProxy } from '@herald/testkit';
import { io, type Socket } from 'socket.io-client';
import { CLUSTER_3, type Node, Nodes } from '../cluster/nodes.js';
import type { Pair } from '../cluster/results.js';
import { type Bench, type Scenario, SITE, sleep, waitUntil } from '../harness.js';
import { pool } from '../wire.js';

/**
 * Frappe's desk client (frappe/public/js/frappe/socketio_client.js) is `io(url, { secure: true,
 * withCredentials: true, reconnectionAttempts: 3 })` with socket.io-client's other defaults
 * (transports polling then websocket, reconnectionDelay 1000, reconnectionDelayMax 5000,
 * randomizationFactor 0.5, timeout 20000). Three attempts span about 7 s of back-off, too few for
 * a thousand clients coming back at once on two busy cores: the bench gives 20 (over 90 s) and
 * keeps every other default. (`secure` only matters for https.)
 */
const RECONNECTION_ATTEMPTS = 20;
/** The target: every client back within this. */
const WITHIN_MS = 10_000;
/** A doc_update of every document this often after the kill. */
const UPDATE_EVERY_MS = 200;

interface KillFigures {
  backMedian: number;
  backSeconds: number;
  failedAttempts: number;
  backWithin: number;
  updatedSeconds: number;
  updatedWithin: number;
  recovered: number;
  nodesCpu: number;
  clientsCpu: number;
}

interface DeskClient {
  socket: Socket;
  doc: string;
  /** When it was connected again after the kill, and when it first got a doc_update sent after it (epoch ms). */
  backAt: number;
  updatedAt: number;
  recovered: boolean;
  /** Reconnect attempts that failed (the manager's reconnect_error) after the kill. */
  failed: number;
}

const now = () => performance.timeOrigin + performance.now();

const killRun = (bench: Bench) =>
  Nodes.with(
    bench,
    CLUSTER_3,
    async (nodes): Promise<KillFigures> => {
      const { killClients, killDocs } = bench.options.sizes.cluster;
      const smoke = bench.options.mode === 'smoke';
      const [node1, node2, node3] = nodes.nodes as [Node, Node, Node];
      const proxies = [await startTcpProxy(node3.port), await startTcpProxy(node3.port)];
      let killAt = Number.POSITIVE_INFINITY;
      /** CPU seconds of node1 and node2, and of this process (the clients), from the kill until all are back. */
      let nodesCpu = Number.NaN;
      let clientsCpu = process.cpuUsage();
      let clientsSeconds = Number.NaN;
      const clients: DeskClient[] = Array.from({ length: killClients }, (_, i) => {
        const proxy = proxies[i % 2]!;
        const socket = io(`http://127.0.0.1:${proxy.port}/${SITE}`, {
          forceNew: true,
          autoConnect: false,
          withCredentials: true,
          reconnectionAttempts: RECONNECTION_ATTEMPTS,
          // The site as nginx names it in front of a Frappe bench (the proxy is a trusted peer:
          // loopback). socket.io-client's polling transport cannot set Host in Node.
          extraHeaders: { cookie: `sid=desk-${i}`, 'x-frappe-site-name': SITE },
        });
        const client: DeskClient = {
          socket,
          doc: `K-${i % killDocs}`,
          backAt: Number.NaN,
          updatedAt: Number.NaN,
          recovered: false,
          failed: 0,
        };
        socket.io.on('reconnect_error', () => {
          if (killAt !== Number.POSITIVE_INFINITY) client.failed += 1;
        });
        socket.on('connect', () => {
          if (killAt === Number.POSITIVE_INFINITY || !Number.isNaN(client.backAt)) return;
          client.backAt = now();
          client.recovered = socket.recovered;
        });
        socket.on('doc_update', (data: { sent?: number }) => {
          if (Number.isNaN(client.updatedAt) && (data.sent ?? 0) >= killAt)
            client.updatedAt = now();
        });
        return client;
      });
      let publishing: Promise<void> | undefined;
      let stop = false;
      try {
        // Connected, subscribed, open: 50 at a time, as desks open over a while.
        await pool(clients, 50, async (client) => {
          const { socket } = client;
          // A refused first try is retried by the client itself (reconnection is on).
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error('a desk client did not connect in 60 s')),
              60_000,
            );
            socket.once('connect', () => {
              clearTimeout(timer);
              resolve();
            });
            socket.connect();
          });
          await socket.timeout(20_000).emitWithAck('doc_subscribe', 'ToDo', client.doc);
          await socket.timeout(20_000).emitWithAck('doc_open', 'ToDo', client.doc);
        });
        // Whether node3 held the ingest lease (events then wait for another node to take it).
        const lease = await nodes.leaseHolder();
        bench.results.cluster.note(
          `cluster node killed: ${lease ? `${lease.holder} held the ingest lease when node3 was killed${lease.holder === node3.id ? ' (events waited for another node to take it over)' : ''}` : 'no node held an ingest lease (each node delivers `events` itself)'}`,
        );
        // The balancer sends the next connections to the nodes that are left; node3 dies.
        proxies[0]!.retarget(node1.port);
        proxies[1]!.retarget(node2.port);
        killAt = now();
        node3.gone = true;
        await node3.child.kill('SIGKILL');
        nodesCpu = -(await nodes.cpu());
        clientsCpu = process.cpuUsage();
        publishing = (async () => {
          while (!stop) {
            const sent = now();
            for (let d = 0; d < killDocs; d += 1)
              await bench.publisher.publish(
                'events',
                JSON.stringify({
                  event: 'doc_update',
                  message: { doctype: 'ToDo', name: `K-${d}`, sent },
                  room: `doc:ToDo/K-${d}`,
                  namespace: SITE,
                }),
              );
            await sleep(UPDATE_EVERY_MS);
          }
        })();
        const allBack = () => clients.every((c) => !Number.isNaN(c.backAt));
        const allUpdated = () => clients.every((c) => !Number.isNaN(c.updatedAt));
        // Back: up to 60 s (30 in a smoke run); updated: up to 20 s after the kill (in a smoke run,
        // 1 s after the last is back), so a Herald without the re-join costs a bounded wait.
        await waitUntil(() => allBack() || now() - killAt > (smoke ? 30_000 : 60_000), 90_000);
        const backDone = now();
        nodesCpu += await nodes.cpu();
        const used = process.cpuUsage(clientsCpu);
        clientsSeconds = (used.user + used.system) / 1e6;
        await waitUntil(
          () => allUpdated() || now() > (smoke ? backDone + 1000 : killAt + 20_000),
          90_000,
        );
      } finally {
        stop = true;
        await publishing;
        for (const { socket } of clients) socket.disconnect();
        for (const proxy of proxies) await proxy.close();
      }
      const since = (at: number) => at - killAt;
      const within = (at: number) => !Number.isNaN(at) && since(at) <= WITHIN_MS;
      const latest = (key: 'backAt' | 'updatedAt') =>
        clients.every((c) => !Number.isNaN(c[key]))
          ? Math.max(...clients.map((c) => since(c[key]))) / 1000
          : Number.NaN;
      const back = clients
        .filter((c) => !Number.isNaN(c.backAt))
        .map((c) => since(c.backAt) / 1000)
        .sort((a, b) => a - b);
      return {
        backMedian: back.length > 0 ? back[Math.floor(back.length / 2)]! : Number.NaN,
        backSeconds: latest('backAt'),
        failedAttempts: clients.reduce((sum, c) => sum + c.failed, 0),
        backWithin: clients.filter((c) => within(c.backAt)).length,
        updatedSeconds: latest('updatedAt'),
        updatedWithin: clients.filter((c) => within(c.updatedAt)).length,
        recovered: clients.filter((c) => c.recovered).length,
        nodesCpu,
        clientsCpu: clientsSeconds,
      };
    },
    { ends: true },
  );

export const clusterKill: Scenario = {
  name: 'cluster-kill',
  async run(bench) {
    const runs: KillFigures[] = [];
    for (let i = 0; i < bench.options.repeat; i += 1) runs.push(await killRun(bench));
    // No single side: a Herald without --cluster has no other node to go to.
    const pairs = (key: keyof KillFigures): Pair[] =>
      runs.map((run) => ({ single: Number.NaN, cluster: run[key] }));
    const results = bench.results.cluster;
    const n = bench.options.sizes.cluster.killClients;
    const s = 'cluster node killed';
    results.record(s, 'seconds until half the clients are back', pairs('backMedian'));
    results.record(s, `seconds until all ${n} clients are back`, pairs('backSeconds'));
    results.record(s, 'reconnect attempts that failed', pairs('failedAttempts'));
    results.record(s, `clients back within 10 s (of ${n})`, pairs('backWithin'), {
      target: { on: 'value', better: 'higher', value: n, text: `all ${n} back within 10 s` },
    });
    results.record(s, 'seconds until all got a doc_update', pairs('updatedSeconds'));
    results.record(s, `got a doc_update within 10 s (of ${n})`, pairs('updatedWithin'), {
      target: {
        on: 'value',
        better: 'higher',
        value: n,
        text: `all ${n} re-joined and sent a doc_update published after the kill within 10 s`,
      },
    });
    results.record(s, `came back recovered (of ${n})`, pairs('recovered'));
    results.record(s, "node1 and node2's CPU s until all back", pairs('nodesCpu'));
    results.record(s, "the clients' CPU s (the bench process)", pairs('clientsCpu'));
    results.note(
      `cluster node killed: desk-like socket.io-client 4.8.4 sockets (polling then websocket, reconnectionDelay 1000, reconnectionDelayMax 5000, randomizationFactor 0.5, timeout 20000, reconnectionAttempts ${RECONNECTION_ATTEMPTS} in place of the desk's 3), ${bench.options.sizes.cluster.killDocs} documents; a doc_update of each every ${UPDATE_EVERY_MS} ms after the kill`,
    );
  },
};
