// Cluster 3: viewer-change latency across nodes. A watcher has a document open on node 2; at 100
// opens a second, an opener on node 1 opens the same document (subscribed first, as the desk
// does), and is timed until the watcher receives a `doc_viewers` naming the opener. Against the
// same with both on one Herald without --cluster. Each such list is also checked for naming the
// watcher itself: until viewers are merged across nodes (docs/cluster-design.md 5.6), node 1 knows
// only its own viewers, and the watcher is told a list without itself.
import { CLUSTER_3, type Node, Nodes, SINGLE } from '../cluster/nodes.js';
import type { Pair } from '../cluster/results.js';
import { type Bench, percentile, type Scenario, waitUntil } from '../harness.js';

/** doc_open per second. */
const RATE = 100;
/** How long after the opens a watcher may still be told (then it counts as not told). */
const GRACE_MS = 3000;
/** The same in a smoke run (whose figures mean nothing), where every second counts. */
const SMOKE_GRACE_MS = 1000;

interface ViewerFigures {
  p50: number;
  p99: number;
  told: number;
  complete: number;
}

type Items = [number, string, string[]][];

/** The indexes of the sockets a node's generator opens for `sids` (after those it has). */
async function openOn(node: Node, sids: string[]): Promise<number[]> {
  const first = node.gen.size;
  await node.gen.open(sids);
  return sids.map((_, k) => first + k);
}

const viewersRun = (bench: Bench, cluster: boolean) =>
  Nodes.with(bench, cluster ? CLUSTER_3 : SINGLE, async (nodes): Promise<ViewerFigures> => {
    const pairs = bench.options.sizes.cluster.viewers;
    const openerNode = nodes.nodes[0]!;
    const watcherNode = nodes.nodes[cluster ? 1 : 0]!;
    const docs = Array.from({ length: pairs }, (_, k) => `V-${k}`);
    const watchers = await openOn(
      watcherNode,
      docs.map((_, k) => `watcher-${k}`),
    );
    const openers = await openOn(
      openerNode,
      docs.map((_, k) => `opener-${k}`),
    );
    // Each watcher has its document open; each opener has subscribed to it.
    await watcherNode.gen.sequence(
      watchers.map((index, k) => [
        index,
        [
          ['doc_subscribe', ['Note', docs[k]!]],
          ['doc_open', ['Note', docs[k]!]],
        ],
      ]),
      true,
    );
    await openerNode.gen.emit(
      openers.map((index, k) => [index, 'doc_subscribe', ['Note', docs[k]!]]) as Items,
      true,
    );
    await nodes.ready();
    // Lists from before an opener's open (the watchers' own opens) name no opener: not counted.
    await watcherNode.gen.record(watchers, 'doc_viewers');
    const sent = await openerNode.gen.paced(
      openers.map((index, k) => [index, 'doc_open', ['Note', docs[k]!]]) as Items,
      RATE,
    );
    const byWatcher = new Map(watchers.map((index, k) => [index, k]));
    const latency = new Array<number>(pairs).fill(Number.NaN);
    const complete = new Array<boolean>(pairs).fill(false);
    const grace = bench.options.mode === 'smoke' ? SMOKE_GRACE_MS : GRACE_MS;
    const deadline = performance.now() + grace;
    await waitUntil(async () => {
      for (const [index, data, at] of await watcherNode.gen.arrivals()) {
        const k = byWatcher.get(index);
        if (k === undefined || !Number.isNaN(latency[k]!)) continue;
        const viewers = data as { docname?: string; users?: string[] };
        if (viewers.docname !== docs[k] || !viewers.users?.includes(`opener-${k}`)) continue;
        if (at < sent[k]!) continue;
        latency[k] = at - sent[k]!;
        complete[k] = viewers.users.includes(`watcher-${k}`);
      }
      return latency.every((l) => !Number.isNaN(l)) || performance.now() > deadline;
    });
    const told = latency.filter((l) => !Number.isNaN(l)).sort((a, b) => a - b);
    return {
      p50: told.length > 0 ? percentile(told, 0.5) : Number.NaN,
      p99: told.length > 0 ? percentile(told, 0.99) : Number.NaN,
      told: told.length,
      complete: complete.filter(Boolean).length,
    };
  });

export const clusterViewers: Scenario = {
  name: 'cluster-viewers',
  async run(bench) {
    const runs: { single: ViewerFigures; cluster: ViewerFigures }[] = [];
    for (let i = 0; i < bench.options.repeat; i += 1)
      runs.push({ single: await viewersRun(bench, false), cluster: await viewersRun(bench, true) });
    const pairs = (key: keyof ViewerFigures): Pair[] =>
      runs.map((run) => ({ single: run.single[key], cluster: run.cluster[key] }));
    const results = bench.results.cluster;
    const n = bench.options.sizes.cluster.viewers;
    const s = 'cluster viewers';
    results.record(s, `doc_open node1 → doc_viewers node2: p50 ms at ${RATE}/s`, pairs('p50'), {
      compare: 'difference',
    });
    results.record(s, `doc_open node1 → doc_viewers node2: p99 ms at ${RATE}/s`, pairs('p99'), {
      compare: 'difference',
    });
    results.record(s, `watchers told of the opener (of ${n})`, pairs('told'));
    results.record(s, `… in a list naming the watcher too (of ${n})`, pairs('complete'));
    const last = runs[runs.length - 1]!.cluster;
    if (last.told < n)
      results.note(
        `cluster viewers: ${n - last.told} of the ${n} watchers on node2 were never told of the opener on node1 (within ${(bench.options.mode === 'smoke' ? SMOKE_GRACE_MS : GRACE_MS) / 1000} s of the opens): node1 knows only the viewers it holds, finds the opener alone with the document and tells nobody (viewers are not merged across nodes at this commit)`,
      );
    if (last.complete < last.told)
      results.note(
        `cluster viewers: ${last.told - last.complete} of the ${last.told} doc_viewers lists the watchers on node2 received did not name the watcher itself (node1 told only the viewers it holds)`,
      );
  },
};
