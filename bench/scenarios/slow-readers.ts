// 7: slow readers: a burst of events published back to back to the `all` room of sockets that
// read slowly, against the same burst to sockets that read at once (each on a fresh server):
// the server's CPU per delivery in both, to see whether a server's writes stay grouped when its
// readers lag (Herald groups a turn's frames per socket, write-coalescing.ts).
import { type Bench, type Scenario, users } from '../harness.js';
import type { Target } from '../results.js';
import type { SlowRead } from '../wire.js';

/** 200 KB per socket a second: 100 events of 2 KB take each socket about a second to read. */
const SLOW_READ: SlowRead = { chunkBytes: 4096, delayMs: 20 };
/**
 * Padding per event. A socket's 100 events (200 KB) are more than a loopback receive buffer
 * holds at first (128 KB here), so the slow readers' windows close and the server's kernel holds
 * the rest of what the server wrote.
 */
const PAD_BYTES = 2000;

const slowReaders = async (bench: Bench, target: Target) => {
  const { slowReaders: sockets, slowEvents: events } = bench.options.sizes;
  const fast = await bench.withServer(target, async (gen, srv) => {
    await gen.open(users(sockets));
    return bench.burst(gen, srv, sockets, events, PAD_BYTES);
  });
  const slow = await bench.withServer(target, async (gen, srv) => {
    await gen.open(users(sockets), 200, SLOW_READ);
    await bench.mark(gen, srv);
    const burst = await bench.burst(gen, srv, sockets, events, PAD_BYTES);
    await bench.noteBusy('slow readers', target, gen, srv);
    return burst;
  });
  return {
    cpuPerDelivery: slow.cpuPerDelivery,
    fastCpuPerDelivery: fast.cpuPerDelivery,
    seconds: slow.seconds,
    fastSeconds: fast.seconds,
  };
};

export const slow: Scenario = {
  name: 'slow',
  async run(bench) {
    const paired = await bench.both((target) => slowReaders(bench, target));
    const { results } = bench;
    results.record('slow readers', 'server CPU µs per delivery', paired, 'cpuPerDelivery');
    results.record(
      'slow readers',
      'CPU µs per delivery, fast readers',
      paired,
      'fastCpuPerDelivery',
    );
    results.record('slow readers', 'seconds until all read', paired, 'seconds');
    results.record('slow readers', 'seconds, fast readers', paired, 'fastSeconds');
  },
};
