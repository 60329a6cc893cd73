// 5b: steady trickle: events published one every 20 ms to a room of many sockets, timed from
// publish to receipt. Runs on the fan-out's server and sockets, right after its burst.
import { type Bench, percentile, SITE, sleep, waitUntil } from '../harness.js';
import type { LoadGenerator } from '../loadgen.js';

/**
 * Publish-to-receive latency (ms) at every tenth socket of the `all` room: every socket still
 * reads every frame; only the sampled ones parse it, so the generator spends less of each event
 * on itself. 200 events: the p99 of 50 was about the slowest event of the fifty, decided by one
 * pause.
 */
export async function steadyTrickle(
  bench: Bench,
  gen: LoadGenerator,
): Promise<{ p50: number; p99: number }> {
  const listening = await gen.listen('trickle', 10);
  const events = bench.options.sizes.trickle;
  for (let i = 0; i < events; i += 1) {
    await bench.publisher.publish(
      'events',
      JSON.stringify({
        event: 'trickle',
        message: { sent: performance.timeOrigin + performance.now() },
        room: 'all',
        namespace: SITE,
      }),
    );
    await sleep(20);
  }
  let latencies: number[] = [];
  await waitUntil(async () => {
    // concat, not push(...): a spread of 200,000 arguments overflows the stack.
    latencies = latencies.concat(await gen.latencies());
    return latencies.length >= events * listening;
  });
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}
