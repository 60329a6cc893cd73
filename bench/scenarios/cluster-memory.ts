// Cluster 5: Redis memory per stored event and per saved session, on one --cluster node.
// - Entries: a handler broadcasts events (the fan-out's, 100 bytes of padding) to a room nobody is
//   in, in batches of 100: one stream entry each. Redis's used_memory before and after, settled,
//   and the stream key's MEMORY USAGE before and after, over the entries.
// - Sessions: sockets as the desk has them (their automatic rooms, a document subscribed and open);
//   half are dropped (TCP closed: the node stores each session as it goes), then the node gets
//   SIGTERM (closing Socket.IO stores every other session before its Redis closes). used_memory
//   with the sessions stored and again once the bench has deleted them (both with the node gone,
//   so its connections are in neither), and each session key's MEMORY USAGE.
// - Anything else the node keeps in Redis per connected socket (per-socket records, presence):
//   the MEMORY USAGE of the prefix's other keys with the sockets connected, less before.
import { CLUSTER_1, Nodes } from '../cluster/nodes.js';
import type { Pair } from '../cluster/results.js';
import { type Bench, type Scenario, SITE, sleep, waitUntil } from '../harness.js';
import { LoadGenerator } from '../loadgen.js';

/** The room the entries are broadcast to: nobody is in it, so only the stream pays. */
const NOBODY = 'bench-memory-nobody';
/** Broadcasts per handler call. */
const BATCH = 100;
/**
 * A change of used_memory smaller than this is within its noise here (the other clients' buffers
 * come and go): no figure per entry or session (a smoke run's 30 sessions are about 15 KB).
 */
const NOISE_BYTES = 32 * 1024;
const perItem = (grown: number, count: number) =>
  count > 0 && Math.abs(grown) >= NOISE_BYTES ? grown / count : Number.NaN;

interface MemoryFigures {
  entryBytes: number;
  entryUsage: number;
  sessionBytes: number;
  sessionUsage: number;
  sessions: number;
  othersPerSocket: number;
  storedOnDrop: number;
  eventBytes: number;
  sessionValueBytes: number;
}

type Redis = Bench['publisher'];

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/**
 * used_memory once it holds still: readings 100 ms apart until two in a row are within 512
 * bytes (at most `tries`; Redis gives back clients' query buffers in its background cycle).
 */
async function settledMemory(redis: Redis, tries: number): Promise<number> {
  let previous = await usedMemory(redis);
  for (let i = 0; i < tries; i += 1) {
    await sleep(100);
    const now = await usedMemory(redis);
    if (Math.abs(now - previous) <= 512) return now;
    previous = now;
  }
  return previous;
}

const memoryUsage = async (redis: Redis, key: string) =>
  Number((await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])) ?? 0);

/**
 * MEMORY USAGE of the cluster's keys other than its stream and sessions (per-socket records,
 * presence, node records, the lease: whatever the node keeps per connected socket).
 */
async function otherKeysUsage(redis: Redis, prefix: string, stream: string): Promise<number> {
  let total = 0;
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 }))
    for (const key of batch)
      if (key !== stream && !key.startsWith(`${prefix}:session:`))
        total += await memoryUsage(redis, key);
  return total;
}

/** The session keys of the cluster's prefix. */
async function sessionKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}:session:*`, COUNT: 1000 }))
    keys.push(...batch);
  return keys;
}

const memoryRun = (bench: Bench) =>
  Nodes.with(
    bench,
    CLUSTER_1,
    async (nodes): Promise<MemoryFigures> => {
      const redis = bench.publisher;
      const { entries, sessions } = bench.options.sizes.cluster;
      // At most 3 s per reading (1 s in a smoke run, whose figures mean nothing).
      const settled = () => settledMemory(redis, bench.options.mode === 'smoke' ? 10 : 30);
      const node = nodes.nodes[0]!;
      const stream = `${nodes.prefix}:{ingest}:stream`;
      await node.gen.open(['memory-writer']);
      await nodes.ready();

      // Stream entries.
      const lengthBefore = await redis.xLen(stream);
      const usageBefore = await memoryUsage(redis, stream);
      const before = await settled();
      const calls = Array.from({ length: Math.ceil(entries / BATCH) }, (_, k) =>
        Math.min(BATCH, entries - k * BATCH),
      );
      for (const count of calls)
        await node.gen.emit([[0, 'bench_burst', [NOBODY, 'burst', count, 'x'.repeat(100)]]], true);
      await waitUntil(async () => (await redis.xLen(stream)) - lengthBefore >= entries);
      const after = await settled();
      const written = (await redis.xLen(stream)) - lengthBefore;
      const usageAfter = await memoryUsage(redis, stream);
      const last = await redis.xRevRange(stream, '+', '-', { COUNT: 1 });
      const eventBytes = Buffer.byteLength(last[0]?.message.data ?? '');

      // Sessions: the writer's goes first (stored as it drops, and not counted); then half of the
      // sessions on a generator of their own, dropped, and the rest stored by the SIGTERM.
      const writerKeys = (await sessionKeys(redis, nodes.prefix)).length;
      await node.gen.close();
      await waitUntil(
        async () => (await sessionKeys(redis, nodes.prefix)).length > writerKeys,
        30_000,
      );
      const keysBefore = new Set(await sessionKeys(redis, nodes.prefix));
      const fresh = async () =>
        (await sessionKeys(redis, nodes.prefix)).filter((key) => !keysBefore.has(key));
      const half = Math.floor(sessions / 2);
      const othersBefore = await otherKeysUsage(redis, nodes.prefix, stream);
      let othersPerSocket = Number.NaN;
      const dropped = new LoadGenerator(node.port, SITE, 1);
      let storedOnDrop = 0;
      try {
        const sids = Array.from({ length: sessions }, (_, i) => `session-${i}`);
        await dropped.open(sids.slice(0, half));
        await node.gen.open(sids.slice(half));
        // As a desk has them: a document subscribed and open (50 documents in all).
        const desk = (gen: LoadGenerator, count: number, first: number) =>
          gen.sequence(
            Array.from({ length: count }, (_, j) => {
              const doc = `M-${(first + j) % 50}`;
              return [
                j,
                [
                  ['doc_subscribe', ['ToDo', doc]],
                  ['doc_open', ['ToDo', doc]],
                ],
              ] as [number, [string, string[]][]];
            }),
            true,
          );
        await desk(dropped, half, 0);
        await desk(node.gen, sessions - half, half);
        othersPerSocket =
          ((await otherKeysUsage(redis, nodes.prefix, stream)) - othersBefore) / sessions;
        await dropped.close();
        await waitUntil(async () => (await fresh()).length >= half, 30_000);
        storedOnDrop = (await fresh()).length;
      } finally {
        await dropped.stop();
      }
      node.gone = true;
      await node.child.kill('SIGTERM');
      // The node has exited: every session it stored is in.
      const stored = await fresh();
      const withSessions = await settled();
      let usage = 0;
      for (const key of stored) usage += await memoryUsage(redis, key);
      const sessionValueBytes = stored[0] ? await redis.strLen(stored[0]) : Number.NaN;
      for (let i = 0; i < stored.length; i += 500) await redis.del(stored.slice(i, i + 500));
      const without = await settled();
      return {
        entryBytes: perItem(after - before, written),
        entryUsage: (usageAfter - usageBefore) / written,
        sessionBytes: perItem(withSessions - without, stored.length),
        sessionUsage: stored.length > 0 ? usage / stored.length : Number.NaN,
        sessions: stored.length,
        othersPerSocket,
        storedOnDrop,
        eventBytes,
        sessionValueBytes,
      };
    },
    { ends: true },
  );

export const clusterMemory: Scenario = {
  name: 'cluster-memory',
  async run(bench) {
    const runs: MemoryFigures[] = [];
    for (let i = 0; i < bench.options.repeat; i += 1) runs.push(await memoryRun(bench));
    const pairs = (key: keyof MemoryFigures): Pair[] =>
      runs.map((run) => ({ single: Number.NaN, cluster: run[key] }));
    const results = bench.results.cluster;
    const { entries, sessions } = bench.options.sizes.cluster;
    const last = runs[runs.length - 1]!;
    const s = 'cluster Redis memory';
    results.record(s, `bytes per stream entry (used_memory, ${entries})`, pairs('entryBytes'));
    results.record(s, 'bytes per stream entry (MEMORY USAGE)', pairs('entryUsage'));
    results.record(s, `bytes per saved session (used_memory, ${sessions})`, pairs('sessionBytes'));
    results.record(s, 'bytes per saved session (MEMORY USAGE)', pairs('sessionUsage'));
    results.record(s, `sessions stored (of ${sessions})`, pairs('sessions'));
    results.record(s, 'other keys, bytes per connected socket', pairs('othersPerSocket'));
    results.note(
      `cluster Redis memory: an entry's event JSON is ${last.eventBytes} bytes (the fan-out's event, 100 bytes of padding); a saved session's value ${last.sessionValueBytes} bytes (a desk socket: its automatic rooms, one document subscribed and open); ${last.storedOnDrop} sessions stored as their clients dropped, ${last.sessions - last.storedOnDrop} by the SIGTERM`,
    );
  },
};
