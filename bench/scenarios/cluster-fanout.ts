// Cluster 1 and 2: the server CPU per fan-out delivery, and the publish-to-receive latency at the
// trickle rate, of Herald with --cluster against Herald without it, on the same bursts.
// - Three layouts per repeat, each on fresh processes: one Herald without --cluster, one with it,
//   and three with it (the sockets spread over the three; the CPU is all three's).
// - Two paths for the same burst: messages of Redis `events` (Frappe's publish_realtime; at this
//   commit each node delivers them to its own sockets, docs/cluster-design.md 5.5's ingest lease
//   is not in yet), and a handler's room emit (bench_burst), which in a cluster goes through the
//   stream (an XADD per event, read back by every node), as `events` will once one node ingests.
// - The trickle: one message every 20 ms, timed to every tenth socket of a node that does not
//   hold the ingest lease (the last node when no node holds one), against the same to one Herald.
import { CLUSTER_1, CLUSTER_3, type Layout, type Node, Nodes, SINGLE } from '../cluster/nodes.js';
import type { ClusterResults, Pair } from '../cluster/results.js';
import {
  type Bench,
  percentile,
  type Scenario,
  SITE,
  sleep,
  users,
  waitUntil,
} from '../harness.js';
import type { LoadGenerator } from '../loadgen.js';
import { median } from '../stats.js';

/** The room every System User socket is in. */
const ALL = 'all';
/** The small room's document (its `doc:` room). */
const SMALL_DOC = ['ToDo', 'SMALL'] as const;
const SMALL_ROOM = `doc:${SMALL_DOC[0]}/${SMALL_DOC[1]}`;

interface FanoutFigures {
  eventsCpu: number;
  eventsRate: number;
  broadcastCpu: number;
  broadcastRate: number;
  smallEventsCpu: number;
  smallBroadcastCpu: number;
  eventsP50: number;
  eventsP99: number;
  broadcastP50: number;
  broadcastP99: number;
}

/** Sorted latencies of `count` events at the generator's listening sockets. */
async function collect(gen: LoadGenerator, count: number): Promise<number[]> {
  let latencies: number[] = [];
  await waitUntil(async () => {
    latencies = latencies.concat(await gen.latencies());
    return latencies.length >= count;
  });
  return latencies.sort((a, b) => a - b);
}

/**
 * The trickles: `events` messages to `all`, then handler broadcasts from `sender`'s first socket,
 * one every 20 ms each, timed at every tenth socket of `receiver` (from the publish for the
 * first, from the handler's emit for the second).
 */
async function trickles(nodes: Nodes, receiver: Node, sender: Node, events: number) {
  const { gen } = receiver;
  const listening = await gen.listen('trickle', 10);
  for (let i = 0; i < events; i += 1) {
    await nodes.bench.publisher.publish(
      'events',
      JSON.stringify({
        event: 'trickle',
        message: { sent: performance.timeOrigin + performance.now() },
        room: ALL,
        namespace: SITE,
      }),
    );
    await sleep(20);
  }
  const viaEvents = await collect(gen, events * listening);
  await gen.listen('broadcast_trickle', 10);
  for (let i = 0; i < events; i += 1) {
    await sender.gen.emit([[0, 'bench_burst', [ALL, 'broadcast_trickle', 1, '']]], false);
    await sleep(20);
  }
  const viaBroadcast = await collect(gen, events * listening);
  return {
    eventsP50: percentile(viaEvents, 0.5),
    eventsP99: percentile(viaEvents, 0.99),
    broadcastP50: percentile(viaBroadcast, 0.5),
    broadcastP99: percentile(viaBroadcast, 0.99),
  };
}

/** Which node the trickle is timed on: one that does not hold the ingest lease. */
async function receiverOf(nodes: Nodes, results: ClusterResults): Promise<Node> {
  const last = nodes.nodes[nodes.nodes.length - 1]!;
  if (!nodes.layout.cluster || nodes.nodes.length === 1) return last;
  const lease = await nodes.leaseHolder();
  if (!lease) {
    // Before the ingest lease (main before 814af66) no node ingests for the others and every node
    // delivers `events` itself: the trickle is timed on the last node. With the lease, the holder
    // is read from /health/ready's cluster.leaseHolder (checked against main at 89b2ed8).
    results.note(
      `cluster trickle: no node holds the ingest lease at this commit (no cluster.leaseHolder in /health/ready, no ${nodes.prefix}:{ingest}:lease key): every node delivers \`events\` to its own sockets; timed on ${last.id}, the broadcasts sent from node1`,
    );
    return last;
  }
  const other = nodes.nodes.filter((node) => node.id !== lease.holder);
  const receiver = other[other.length - 1] ?? last;
  results.note(
    `cluster trickle: ${lease.holder} holds the ingest lease (read from ${lease.from}); timed on ${receiver.id}`,
  );
  return receiver;
}

const fanOutRun = (bench: Bench, layout: Layout) =>
  Nodes.with(bench, layout, async (nodes): Promise<FanoutFigures> => {
    const sizes = bench.options.sizes.cluster;
    const results = bench.results.cluster;
    await nodes.spread(users(sizes.fanout));
    // The small room: its first sockets (spread over the nodes too) subscribe to one document.
    const n = nodes.nodes.length;
    await Promise.all(
      nodes.nodes.map((node, k) => {
        const members = Math.ceil(Math.max(0, sizes.smallRoom - k) / n);
        const items = Array.from(
          { length: members },
          (_, j) => [j, 'doc_subscribe', [...SMALL_DOC]] as [number, string, string[]],
        );
        return node.gen.emit(items, true);
      }),
    );
    await nodes.ready();
    const sockets = nodes.sockets;
    const first = nodes.nodes[0]!;
    // Untimed warm-up of both paths.
    const warm = Math.max(1, Math.ceil(sizes.burst / 10));
    await nodes.eventsBurst(warm, ALL, sockets);
    await nodes.broadcastBurst(first, warm, ALL, sockets);
    const label = layout.cluster ? `cluster, ${n} node${n === 1 ? '' : 's'}` : 'single';
    // Each burst `rounds` times (3 in the quick set, 5 in the full one); the medians count.
    const { rounds } = bench.options;
    const timed = async (
      burst: () => Promise<{ cpuPerDelivery: number; deliveries: number; seconds: number }>,
    ) => {
      const each = [];
      for (let r = 0; r < rounds; r += 1) each.push(await burst());
      return {
        cpuPerDelivery: median(each.map((b) => b.cpuPerDelivery)),
        rate: median(each.map((b) => b.deliveries / b.seconds)),
      };
    };
    await nodes.mark();
    const events = await timed(() => nodes.eventsBurst(sizes.burst, ALL, sockets));
    const busy = await nodes.busy();
    if (layout !== CLUSTER_1)
      results.noteBusy(
        'events burst, 3 nodes',
        layout.cluster ? 'cluster' : 'single',
        busy.generator,
        busy.server,
      );
    const broadcast = await timed(() => nodes.broadcastBurst(first, sizes.burst, ALL, sockets));
    const smallEvents = await timed(() =>
      nodes.eventsBurst(sizes.smallBurst, SMALL_ROOM, sizes.smallRoom),
    );
    const smallBroadcast = await timed(() =>
      nodes.broadcastBurst(first, sizes.smallBurst, SMALL_ROOM, sizes.smallRoom),
    );
    let latency = { eventsP50: NaN, eventsP99: NaN, broadcastP50: NaN, broadcastP99: NaN };
    if (layout !== CLUSTER_1) {
      const receiver = await receiverOf(nodes, results);
      const sender = nodes.nodes.find((node) => node !== receiver) ?? first;
      latency = await trickles(nodes, receiver, sender, sizes.trickle);
    }
    process.stderr.write(
      `bench: cluster fan-out (${label}): ${events.cpuPerDelivery.toFixed(2)} µs/delivery via events, ${broadcast.cpuPerDelivery.toFixed(2)} via broadcast\n`,
    );
    return {
      eventsCpu: events.cpuPerDelivery,
      eventsRate: events.rate,
      broadcastCpu: broadcast.cpuPerDelivery,
      broadcastRate: broadcast.rate,
      // Per event: in a small room the cost is the event's, not the deliveries'.
      smallEventsCpu: smallEvents.cpuPerDelivery * sizes.smallRoom,
      smallBroadcastCpu: smallBroadcast.cpuPerDelivery * sizes.smallRoom,
      ...latency,
    };
  });

const cpuTarget = {
  on: 'ratio',
  better: 'lower',
  value: 1.3,
  text: 'cluster ≤ 1.3× single CPU per delivery',
} as const;
const latencyTarget = {
  on: 'difference',
  better: 'lower',
  value: 10,
  text: 'cluster p99 ≤ single p99 + 10 ms',
} as const;

export const clusterFanout: Scenario = {
  name: 'cluster-fanout',
  async run(bench) {
    const runs: Record<'single' | 'one' | 'three', FanoutFigures>[] = [];
    for (let i = 0; i < bench.options.repeat; i += 1)
      runs.push({
        single: await fanOutRun(bench, SINGLE),
        one: await fanOutRun(bench, CLUSTER_1),
        three: await fanOutRun(bench, CLUSTER_3),
      });
    const pairs = (key: keyof FanoutFigures, cluster: 'one' | 'three'): Pair[] =>
      runs.map((run) => ({ single: run.single[key], cluster: run[cluster][key] }));
    const { cluster: results } = bench.results;
    const { fanout, smallRoom } = bench.options.sizes.cluster;
    const s = 'cluster fan-out';
    results.record(
      s,
      `events, room of ${fanout}: CPU µs/delivery, 1 node`,
      pairs('eventsCpu', 'one'),
      {
        compare: 'ratio',
        target: cpuTarget,
      },
    );
    results.record(
      s,
      `events, room of ${fanout}: CPU µs/delivery, 3 nodes`,
      pairs('eventsCpu', 'three'),
      {
        compare: 'ratio',
        target: cpuTarget,
      },
    );
    results.record(s, 'events: deliveries/s, 3 nodes', pairs('eventsRate', 'three'), {
      compare: 'ratio',
    });
    results.record(
      s,
      `broadcast, room of ${fanout}: CPU µs/delivery, 1 node`,
      pairs('broadcastCpu', 'one'),
      { compare: 'ratio', target: cpuTarget },
    );
    results.record(
      s,
      `broadcast, room of ${fanout}: CPU µs/delivery, 3 nodes`,
      pairs('broadcastCpu', 'three'),
      { compare: 'ratio', target: cpuTarget },
    );
    results.record(s, 'broadcast: deliveries/s, 3 nodes', pairs('broadcastRate', 'three'), {
      compare: 'ratio',
    });
    results.record(
      s,
      `events, room of ${smallRoom}: CPU µs/event, 3 nodes`,
      pairs('smallEventsCpu', 'three'),
      { compare: 'ratio' },
    );
    results.record(
      s,
      `broadcast, room of ${smallRoom}: CPU µs/event, 3 nodes`,
      pairs('smallBroadcastCpu', 'three'),
      { compare: 'ratio' },
    );
    const t = 'cluster trickle';
    results.record(t, 'events → other node: p50 ms', pairs('eventsP50', 'three'), {
      compare: 'difference',
    });
    results.record(t, 'events → other node: p99 ms', pairs('eventsP99', 'three'), {
      compare: 'difference',
      target: latencyTarget,
    });
    results.record(t, 'broadcast → other node: p50 ms', pairs('broadcastP50', 'three'), {
      compare: 'difference',
    });
    results.record(t, 'broadcast → other node: p99 ms', pairs('broadcastP99', 'three'), {
      compare: 'difference',
      target: latencyTarget,
    });
  },
};
