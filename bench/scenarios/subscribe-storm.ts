// 3: subscribe storm: every socket subscribes to 5 documents and 2 doctypes back to back, as a
// desk page does when it opens.
import { type Bench, type Scenario, users } from '../harness.js';
import { median, type Target } from '../results.js';

/** A socket's requests: seven, sent back to back. */
const PER_SOCKET = 7;

const subscribeStorm = (bench: Bench, target: Target) =>
  bench.withServer(target, async (gen, srv, backend) => {
    const { sizes, rounds } = bench.options;
    const port = srv.port;
    await gen.open(users(sizes.sockets));
    // A storm lasts about a second, so after an untimed warm-up round it runs `rounds` times, each
    // round on documents and doctypes of its own (none cached), and the median round counts.
    const rates: number[] = [];
    let before = 0;
    let failedBefore = 0;
    for (let round = -1; round < rounds; round += 1) {
      if (round === 0) {
        await bench.mark(gen, srv);
        before = (await backend.counts()).has_permission;
        failedBefore = await bench.failedCalls(target, port);
      }
      const requests = Array.from({ length: sizes.sockets }, (_, i) => {
        const user = Math.floor(i / 10);
        const steps: [string, string[]][] = [
          ...Array.from(
            { length: 5 },
            (_, k) => ['doc_subscribe', [`ToDo${round}`, `TD-${user}-${k}`]] as [string, string[]],
          ),
          ['doctype_subscribe', [`ToDo${round}`]],
          ['doctype_subscribe', [`Note${round}`]],
        ];
        return [i, steps] as [number, [string, string[]][]];
      });
      const t = performance.now();
      await bench.handled(target, port, requests.length * PER_SOCKET, (ack) =>
        gen.pipeline(requests, ack),
      );
      if (round >= 0) rates.push((requests.length * PER_SOCKET) / ((performance.now() - t) / 1000));
    }
    await bench.noteBusy('subscribe storm', target, gen, srv);
    const calls = ((await backend.counts()).has_permission - before) / rounds;
    const failed = ((await bench.failedCalls(target, port)) - failedBefore) / rounds;
    return { rate: median(rates), calls, failed };
  });

export const subscribe: Scenario = {
  name: 'subscribe',
  async run(bench) {
    const storm = await bench.both((target) => subscribeStorm(bench, target));
    const { results } = bench;
    results.record('subscribe storm', 'subscribes/s', storm, 'rate', {
      target: { ratio: 10, better: 'higher', of: 'baseline' },
    });
    results.record('subscribe storm', 'backend calls', storm, 'calls');
    // A call that failed (the baseline opens a connection per call) is counted as a quick refusal.
    results.record('subscribe storm', 'backend calls failed', storm, 'failed');
  },
};
