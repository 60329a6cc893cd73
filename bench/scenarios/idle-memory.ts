// 6: idle cost per authenticated socket: live heap (after a full collection), resident memory
// and CPU while nothing happens.
import { type Bench, type Scenario, sleep, users } from '../harness.js';
import type { Target } from '../results.js';
import { type Child, cpuSeconds, liveHeapBytes, rssBytes } from '../servers.js';

/** RSS readings this close to the previous one (after a full collection each) count as settled. */
const SETTLED_BYTES = 256 * 1024;
/** Less RSS growth than this (over all the sockets) is within the noise: not measured. */
const RSS_NOISE_BYTES = 1024 * 1024;

/**
 * The server's resident memory once it has settled: a full collection, half a second, a reading,
 * until two readings in a row agree (V8 and the allocator give pages back some time after a
 * collection, so one reading right after start-up can be megabytes above the next). `drift` is
 * the last two readings' difference.
 */
async function settledRss(srv: Child): Promise<{ rss: number; drift: number }> {
  let previous = Number.NaN;
  let drift = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i += 1) {
    await liveHeapBytes(srv);
    await sleep(500);
    const rss = rssBytes(srv.proc.pid!);
    drift = Math.abs(rss - previous);
    if (drift <= SETTLED_BYTES) return { rss, drift };
    previous = rss;
  }
  return { rss: previous, drift };
}

const idleCost = (bench: Bench, target: Target) =>
  bench.withServer(target, async (gen, srv) => {
    const sockets = bench.options.sizes.presence;
    // Warm up with a few sockets, so start-up garbage is not counted against the idle ones.
    await gen.open(users(20));
    await sleep(1000);
    const heapBefore = await liveHeapBytes(srv);
    const rssBefore = await settledRss(srv);
    await gen.open(users(sockets));
    await sleep(1500);
    const heapPerSocket = ((await liveHeapBytes(srv)) - heapBefore) / sockets;
    const cpu = cpuSeconds(srv.proc.pid!);
    await sleep(2000);
    const idleCpu = (cpuSeconds(srv.proc.pid!) - cpu) / 2;
    // After the idle window, whose CPU the settling's collections would add to. RSS after minus
    // RSS before, both settled; growth within the noise (or none: pages given back meanwhile) is
    // no figure per socket.
    const rssAfter = await settledRss(srv);
    const grown = rssAfter.rss - rssBefore.rss;
    const noise = Math.max(RSS_NOISE_BYTES, rssBefore.drift + rssAfter.drift);
    const perSocket = grown > noise ? grown / sockets : Number.NaN;
    return { perSocket, heapPerSocket, idleCpu };
  });

export const idle: Scenario = {
  name: 'idle',
  async run(bench) {
    const paired = await bench.both((target) => idleCost(bench, target));
    const { results } = bench;
    results.record('idle', 'heap bytes per socket', paired, 'heapPerSocket', {
      target: { ratio: 0.8, better: 'lower', of: 'baseline' },
    });
    results.record('idle', 'RSS bytes per socket', paired, 'perSocket');
    results.record('idle', 'CPU share while idle', paired, 'idleCpu');
  },
};
