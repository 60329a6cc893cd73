// 4: presence churn among many connected sockets. As in the desk, a form subscribes to its
// document (doc_subscribe) before it reports it open; the churn is opening and closing such
// documents: doc_open then doc_close on each socket, in order. Then the viewer-event latency.
// Runs against the floor too (its opens and closes only).
import { type Bench, percentile, type Scenario, userOf, users } from '../harness.js';
import type { LoadGenerator } from '../loadgen.js';
import { median, type Subject, type Target } from '../results.js';

/** doc_open per second for the viewer-event latency. */
const VIEWER_RATE = 100;

type Steps = [number, [string, string[]][]];

const presenceChurn = (bench: Bench, subject: Subject) =>
  bench.withServer(subject, async (gen, srv) => {
    const { sizes, rounds } = bench.options;
    await gen.open(users(sizes.presence));
    const ops = Array.from({ length: sizes.churn }, (_, i) => ({
      index: i % sizes.presence,
      doc: `D-${i % 50}`,
    }));
    const subscribe = ops.map(
      ({ index, doc }) => [index, 'doc_subscribe', ['ToDo', doc]] as [number, string, string[]],
    );
    await bench.handled(subject, srv.port, subscribe.length, (ack) => gen.emit(subscribe, ack));
    // Each socket opens its document and closes it once the open is answered: both servers are
    // asked for an answer here (the baseline answers doc_open and doc_close when asked), so the
    // generator drives them alike. A warm-up round, then `rounds` timed rounds; the median counts.
    const steps = ops.map(
      ({ index, doc }) =>
        [
          index,
          [
            ['doc_open', ['ToDo', doc]],
            ['doc_close', ['ToDo', doc]],
          ],
        ] as Steps,
    );
    const rates: number[] = [];
    for (let round = -1; round < rounds; round += 1) {
      if (round === 0) await bench.mark(gen, srv);
      const t = performance.now();
      await gen.sequence(steps, true);
      if (round >= 0) rates.push((ops.length * 2) / ((performance.now() - t) / 1000));
    }
    if (subject === 'floor') return { rate: median(rates), p50: 0, p99: 0 };
    await bench.noteBusy('presence churn', subject, gen, srv);
    const latencies = await viewerLatencies(bench, subject, gen, srv.port);
    return {
      rate: median(rates),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
    };
  });

/**
 * Viewer-event latency at a fixed rate: a user opens a document another user has open, and is
 * timed until it is told who views it (the doc_viewers event naming it); sorted, in ms.
 */
async function viewerLatencies(
  bench: Bench,
  target: Target,
  gen: LoadGenerator,
  port: number,
): Promise<number[]> {
  const pairs = Math.min(200, Math.floor(bench.options.sizes.presence / 20));
  const watchers = Array.from(
    { length: pairs },
    (_, k) => [20 * k, 'doc_open', ['Note', `V-${k}`]] as [number, string, string[]],
  );
  const openers = Array.from({ length: pairs }, (_, k) => 20 * k + 10);
  const subscribeOpeners = openers.map(
    (index, k) => [index, 'doc_subscribe', ['Note', `V-${k}`]] as [number, string, string[]],
  );
  await bench.handled(target, port, pairs * 2, async (ack) => {
    await gen.emit(watchers, ack);
    await gen.emit(subscribeOpeners, ack);
  });
  await gen.latencies();
  await gen.viewers(
    openers.map((index, k) => [index, 'Note', `V-${k}`, userOf(index)]),
    VIEWER_RATE,
  );
  return (await gen.latencies()).sort((x, y) => x - y);
}

export const churn: Scenario = {
  name: 'churn',
  async run(bench) {
    // The floor runs the same opens and closes too: `ws` alone, which answers them and does
    // nothing else (no rooms, no viewers).
    const run = (subject: Subject) => presenceChurn(bench, subject);
    const paired = await bench.both(run, run);
    const { results } = bench;
    // The target is a share of the floor measured in the same run (on 2 cores the floor itself
    // stays under the 20× the baseline).
    results.record('presence churn', 'operations/s', paired, 'rate', {
      target: { ratio: 0.9, better: 'higher', of: 'floor' },
      floor: true,
    });
    results.record('presence churn', `viewer p50 ms at ${VIEWER_RATE}/s`, paired, 'p50');
    results.record('presence churn', `viewer p99 ms at ${VIEWER_RATE}/s`, paired, 'p99');
  },
};
