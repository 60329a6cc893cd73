// The Herald processes of one run of a cluster scenario: one Herald without --cluster ("single"),
// or N `herald serve --cluster` nodes on the bench's redis-server (each a child process, as in
// packages/server/test/helpers/cluster.ts), each with a load generator of its own, so sockets can
// be placed on a chosen node. Also what the scenarios measure across nodes: the nodes' CPU summed,
// bursts, and which node holds the ingest lease.
import { freePort } from '@herald/testkit';
import { type Bench, SITE, sleep, waitUntil } from '../harness.js';
import { LoadGenerator } from '../loadgen.js';
import { type Child, childCpuSeconds, HERALD_CLI, STUB, start } from '../servers.js';

/** Herald's handler app for the bench (`bench_burst`): broadcasts through the adapter. */
const HANDLERS = 'bench/cluster/handlers.ts';
/** The admin token the nodes get, so their /health/ready answers carry the details. */
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** How many Herald processes, and whether they are cluster nodes. */
export interface Layout {
  nodes: number;
  cluster: boolean;
}

export const SINGLE: Layout = { nodes: 1, cluster: false };
export const CLUSTER_1: Layout = { nodes: 1, cluster: true };
export const CLUSTER_3: Layout = { nodes: 3, cluster: true };

/** One Herald process and the generator whose sockets connect to it. */
export interface Node {
  /** `node1`, `node2`, … (the --node-id of a cluster node). */
  id: string;
  port: number;
  child: Child;
  gen: LoadGenerator;
  /** Whether it was killed or stopped by the scenario (its CPU is no longer read). */
  gone: boolean;
}

let runs = 0;
/** A smoke run's nodes, one set per layout, shared by its cluster scenarios (see `Nodes.with`). */
const shared = new Map<Layout, Nodes>();
let startedShared = false;

/** Stops the nodes a smoke run's scenarios shared (run.ts calls it once they are done). */
export async function closeSharedNodes(): Promise<void> {
  for (const nodes of shared.values()) await nodes.close();
  shared.clear();
}

/** The Herald command line of one node. */
function heraldArgs(
  layout: Layout,
  id: string,
  port: number,
  redisUrl: string,
  backend: string,
  prefix: string,
): string[] {
  return [
    HERALD_CLI,
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--redis',
    redisUrl,
    '--backend',
    backend,
    '--handlers',
    `frappe=${HANDLERS}`,
    '--admin-token',
    ADMIN_TOKEN,
    ...(layout.cluster ? ['--cluster', '--node-id', id, '--cluster-prefix', prefix] : []),
  ];
}

export class Nodes {
  readonly nodes: Node[];
  /** The cluster's key prefix (a fresh one per run, so runs do not read each other's stream). */
  readonly prefix: string;
  #stub: Child;
  #cpuMark = { cpu: 0, at: 0 };

  private constructor(
    readonly bench: Bench,
    readonly layout: Layout,
    nodes: Node[],
    stub: Child,
    prefix: string,
  ) {
    this.nodes = nodes;
    this.#stub = stub;
    this.prefix = prefix;
  }

  /**
   * Starts a backend stub and the layout's Herald processes (in parallel) on the bench's
   * redis-server, each with a load generator of its own.
   */
  static async start(bench: Bench, layout: Layout): Promise<Nodes> {
    runs += 1;
    const prefix = `bench${process.pid}-${runs}`;
    const stub = await start([STUB, '2', '0'], /listening (\d+)/, 0);
    const backend = `http://127.0.0.1:${stub.port}`;
    const redisUrl = bench.redis.url;
    const threads = Math.max(1, Math.floor(bench.options.threads / layout.nodes));
    const started: Node[] = [];
    try {
      await Promise.all(
        Array.from({ length: layout.nodes }, async (_, i) => {
          const id = `node${i + 1}`;
          const port = await freePort();
          const child = await start(
            heraldArgs(layout, id, port, redisUrl, backend, prefix),
            /Herald listening/,
            port,
          );
          started[i] = {
            id,
            port,
            child,
            gen: new LoadGenerator(port, SITE, threads),
            gone: false,
          };
        }),
      );
      for (const node of started)
        await waitUntil(
          async () =>
            (await fetch(`http://127.0.0.1:${node.port}/health/ready`).catch(() => undefined))
              ?.status === 200,
          30_000,
        );
    } catch (error) {
      for (const node of started) {
        if (!node) continue;
        await node.gen.stop();
        await node.child.stop();
      }
      await stub.stop();
      throw error;
    }
    return new Nodes(bench, layout, started, stub, prefix);
  }

  /**
   * Runs `work` on freshly started nodes, and stops everything after. In a smoke run the cluster
   * scenarios share one set of nodes per layout instead (starting a Herald from its sources takes
   * seconds, three at once up to ten on two busy cores, and a smoke run's figures mean nothing):
   * the first call starts all three layouts at once, its sockets are closed after `work`, and a
   * scenario that kills or stops a node (`ends`) takes the set out of the pool, so those
   * scenarios run last.
   */
  static async with<T>(
    bench: Bench,
    layout: Layout,
    work: (nodes: Nodes) => Promise<T>,
    options: { ends?: boolean } = {},
  ): Promise<T> {
    const share = bench.options.mode === 'smoke';
    if (share && shared.size === 0 && !startedShared) {
      // The first cluster scenario of a smoke run starts every layout at once.
      startedShared = true;
      const layouts = [SINGLE, CLUSTER_1, CLUSTER_3];
      const all = await Promise.allSettled(layouts.map((l) => Nodes.start(bench, l)));
      all.forEach((one, i) => {
        if (one.status === 'fulfilled') shared.set(layouts[i]!, one.value);
      });
      const failed = all.find((one) => one.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const nodes = (share ? shared.get(layout) : undefined) ?? (await Nodes.start(bench, layout));
    if (share) shared.set(layout, nodes);
    let ok = false;
    try {
      const result = await work(nodes);
      ok = true;
      return result;
    } finally {
      if (share && ok && !options.ends) {
        await nodes.closeSockets();
      } else {
        shared.delete(layout);
        await nodes.close();
      }
    }
  }

  /** Total sockets open on all the nodes' generators. */
  get sockets(): number {
    return this.nodes.reduce((sum, node) => sum + node.gen.size, 0);
  }

  /** Opens one socket per sid, socket i on node i % nodes (each node's sockets in order). */
  async spread(sids: readonly string[]): Promise<void> {
    const n = this.nodes.length;
    await Promise.all(
      this.nodes.map((node, k) => node.gen.open(sids.filter((_, i) => i % n === k))),
    );
  }

  /**
   * Waits until the stream reader of every node with sockets runs: a probe broadcast from the
   * first socket of the first such node (repeated until it does) reaches the first socket of each.
   * A node's reader starts with the site's namespace, at its first socket, and does not read an
   * entry written before it started. Nothing to wait for without --cluster.
   */
  async ready(): Promise<void> {
    if (!this.layout.cluster) return;
    const withSockets = this.nodes.filter((node) => node.gen.size > 0);
    const from = withSockets[0];
    if (!from) return;
    for (const node of withSockets) await node.gen.record([0], 'bench_probe');
    const seen = new Set<string>();
    await waitUntil(async () => {
      await from.gen.emit([[0, 'bench_burst', ['all', 'bench_probe', 1, '']]], true);
      const deadline = performance.now() + 1000;
      while (performance.now() < deadline) {
        for (const node of withSockets)
          if ((await node.gen.arrivals()).length > 0) seen.add(node.id);
        if (seen.size === withSockets.length) return true;
        await sleep(20);
      }
      return false;
    }, 30_000);
  }

  /** Events received by the sockets of every node so far. */
  async received(): Promise<number> {
    const counts = await Promise.all(this.nodes.map((node) => node.gen.received()));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * CPU seconds the nodes still running used so far (killed ones are left out), as each counts
   * them (µs: a burst of 100,000 deliveries is a few tenths of a second, tens of /proc's ticks).
   */
  async cpu(): Promise<number> {
    const each = await Promise.all(
      this.nodes.filter((node) => !node.gone).map((node) => childCpuSeconds(node.child)),
    );
    return each.reduce((a, b) => a + b, 0);
  }

  /** Starts a timed window: the generators' busy time and the nodes' CPU from now. */
  async mark(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.gen.mark()));
    this.#cpuMark = { cpu: await this.cpu(), at: performance.now() };
  }

  /** The busiest generator thread's share since `mark`, and the nodes' CPU in cores. */
  async busy(): Promise<{ generator: number; server: number }> {
    const generator = Math.max(...(await Promise.all(this.nodes.map((n) => n.gen.busy()))));
    const server =
      ((await this.cpu()) - this.#cpuMark.cpu) / ((performance.now() - this.#cpuMark.at) / 1000);
    return { generator, server };
  }

  /**
   * Waits until `deliveries` more events than `base` have been received, then the seconds since
   * `t` and the nodes' CPU per delivery (µs) since `cpu`.
   */
  async #delivered(base: number, deliveries: number, t: number, cpu: number) {
    await waitUntil(async () => (await this.received()) - base >= deliveries);
    const seconds = (performance.now() - t) / 1000;
    const cpuSeconds = (await this.cpu()) - cpu;
    return { seconds, deliveries, cpuSeconds, cpuPerDelivery: (cpuSeconds / deliveries) * 1e6 };
  }

  /**
   * `events` messages published back to back on Redis `events` (as Frappe does) to `room`, which
   * `members` sockets are in; each node delivers them to its own sockets (Herald at this commit,
   * before the ingest lease). Waits until all are received.
   */
  async eventsBurst(events: number, room: string, members: number, padBytes = 100) {
    const base = await this.received();
    const cpu = await this.cpu();
    const pad = 'x'.repeat(padBytes);
    const t = performance.now();
    for (let i = 0; i < events; i += 1)
      await this.bench.publisher.publish(
        'events',
        JSON.stringify({ event: 'burst', message: { i, pad }, room, namespace: SITE }),
      );
    return this.#delivered(base, members * events, t, cpu);
  }

  /**
   * `events` events broadcast back to back to `room` by a handler (bench_burst) on `from`'s first
   * socket: through Socket.IO's adapter, which in a cluster is the stream (an XADD each, read back
   * by every node, own broadcasts included). Waits until all are received.
   */
  async broadcastBurst(from: Node, events: number, room: string, members: number, padBytes = 100) {
    const base = await this.received();
    const cpu = await this.cpu();
    const t = performance.now();
    await from.gen.emit([[0, 'bench_burst', [room, 'burst', events, 'x'.repeat(padBytes)]]], true);
    return this.#delivered(base, members * events, t, cpu);
  }

  /**
   * The node holding the ingest lease, and where that was read: the `cluster.leaseHolder` of a
   * node's /health/ready (docs/cluster-design.md 5.9), else the lease key itself
   * (`<prefix>:{ingest}:lease`, value `<node id>:<epoch>`, 5.5). Undefined when neither has one:
   * at this commit no node holds a lease, and every node delivers `events` to its own sockets.
   */
  async leaseHolder(): Promise<{ holder: string; from: string } | undefined> {
    if (!this.layout.cluster) return undefined;
    for (const node of this.nodes) {
      const answer = await fetch(`http://127.0.0.1:${node.port}/health/ready`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
        .then((res) => res.json() as Promise<{ cluster?: { leaseHolder?: unknown } }>)
        .catch(() => undefined);
      const holder = answer?.cluster?.leaseHolder;
      if (typeof holder === 'string' && holder !== '')
        return { holder, from: `${node.id}'s /health/ready` };
    }
    const value = await this.bench.publisher.get(`${this.prefix}:{ingest}:lease`);
    if (value) return { holder: value.slice(0, value.lastIndexOf(':')), from: 'the lease key' };
    return undefined;
  }

  /** Closes every socket of the generators (the nodes keep running). */
  async closeSockets(): Promise<void> {
    for (const node of this.nodes) await node.gen.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const node of this.nodes) {
      await node.gen.close().catch(() => undefined);
      await node.gen.stop();
      await node.child.stop();
    }
    await this.#stub.stop();
  }
}
