// 2: reconnect storm: every socket of a connect storm comes back at once, as after a server
// restart or a network blip. Runs on the connect storm's server, right after its last round.
import type { Bench, Stub } from '../harness.js';
import type { LoadGenerator } from '../loadgen.js';
import type { Subject } from '../results.js';
import type { Child } from '../servers.js';

/**
 * Closes the generator's sockets and opens `sids` again at once: the seconds until all are back,
 * and the backend's `get_user_info` calls that took (`callsBefore`: the count before).
 */
export async function reconnectStorm(
  bench: Bench,
  subject: Subject,
  gen: LoadGenerator,
  srv: Child,
  backend: Stub,
  sids: string[],
): Promise<{ reconnectSeconds: number; reconnectCalls: number }> {
  const callsBefore = (await backend.counts()).get_user_info;
  await gen.close();
  await bench.mark(gen, srv);
  const t = performance.now();
  await gen.open(sids);
  const reconnectSeconds = (performance.now() - t) / 1000;
  if (subject !== 'floor') await bench.noteBusy('reconnect storm', subject, gen, srv);
  const reconnectCalls = (await backend.counts()).get_user_info - callsBefore;
  return { reconnectSeconds, reconnectCalls };
}
