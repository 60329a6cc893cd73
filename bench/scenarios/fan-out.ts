// 5: fan-out: a burst of events published back to back to a room of many sockets (then the
// steady trickle, trickle.ts, on the same server and sockets).
import { type Bench, type Scenario, users } from '../harness.js';
import type { Target } from '../results.js';
import { steadyTrickle } from './trickle.js';

const fanOut = (bench: Bench, target: Target) =>
  bench.withServer(target, async (gen, srv) => {
    const { sizes } = bench.options;
    await gen.open(users(sizes.fanout));
    await bench.mark(gen, srv);
    const burst = await bench.burst(gen, srv, sizes.fanout, sizes.burst);
    await bench.noteBusy('fan-out burst', target, gen, srv);
    const trickle = await steadyTrickle(bench, gen);
    return {
      rate: burst.deliveries / burst.seconds,
      cpuPerDelivery: burst.cpuPerDelivery,
      ...trickle,
    };
  });

export const fanout: Scenario = {
  name: 'fanout',
  async run(bench) {
    const paired = await bench.both((target) => fanOut(bench, target));
    const { results } = bench;
    results.record('fan-out burst', 'deliveries/s', paired, 'rate', {
      target: { ratio: 3, better: 'higher', of: 'baseline' },
    });
    results.record('fan-out burst', 'server CPU µs per delivery', paired, 'cpuPerDelivery', {
      target: { ratio: 1 / 3, better: 'lower', of: 'baseline' },
    });
    results.record('steady trickle', 'p50 latency ms', paired, 'p50');
    results.record('steady trickle', 'p99 latency ms', paired, 'p99', {
      target: { ratio: 1, better: 'lower', of: 'baseline' },
    });
  },
};
