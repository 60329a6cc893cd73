// 1: connect storm: thousands of sockets of users never seen before connect at once (then the
// reconnect storm, reconnect.ts, on the same server). Runs against the floor too.
import { type Bench, type Scenario, users } from '../harness.js';
import { median, type Subject } from '../results.js';
import { reconnectStorm } from './reconnect.js';

const connectStorm = (bench: Bench, subject: Subject) =>
  bench.withServer(subject, async (gen, srv, backend) => {
    const { sizes, rounds } = bench.options;
    // Warm-up: a tenth as many sockets of other users connect and leave, untimed. Then `rounds`
    // connect storms, each of users never seen before (the median counts), and the last round's
    // sockets reconnect at once.
    await gen.open(
      Array.from({ length: Math.ceil(sizes.sockets / 10) }, (_, i) => `warm-${i % 20}`),
    );
    await gen.close();
    const warmCalls = (await backend.counts()).get_user_info;
    const rates: number[] = [];
    let sids: string[] = [];
    await bench.mark(gen, srv);
    for (let round = 0; round < rounds; round += 1) {
      if (round > 0) await gen.close();
      sids = users(sizes.sockets).map((user) => `r${round}-${user}`);
      const t = performance.now();
      await gen.open(sids);
      rates.push(sids.length / ((performance.now() - t) / 1000));
    }
    if (subject !== 'floor') await bench.noteBusy('connect storm', subject, gen, srv);
    const connectCalls = ((await backend.counts()).get_user_info - warmCalls) / rounds;
    const reconnect = await reconnectStorm(bench, subject, gen, srv, backend, sids);
    return { rate: median(rates), connectCalls, ...reconnect };
  });

export const connect: Scenario = {
  name: 'connect',
  async run(bench) {
    // The floor runs the same storm too: `ws` alone (bench/floor/server.ts).
    const run = (subject: Subject) => connectStorm(bench, subject);
    const storm = await bench.both(run, run);
    const { results } = bench;
    // The target is a share of the floor measured in the same run: on 2 cores the floor itself
    // stays under the 5× the baseline.
    results.record('connect storm', 'connections/s', storm, 'rate', {
      target: { ratio: 0.8, better: 'higher', of: 'floor' },
      floor: true,
    });
    results.record('connect storm', 'backend calls', storm, 'connectCalls');
    results.record('reconnect storm', 'seconds until all back', storm, 'reconnectSeconds');
    results.record('reconnect storm', 'backend calls', storm, 'reconnectCalls', {
      target: { ratio: 0.1, better: 'lower', of: 'baseline' },
    });
  },
};
