// Herald against the upstream-style baseline, scenario by scenario, side by side in one run.
//   node --conditions=source --import tsx bench/run.ts [--smoke | --full] [--threads N] [--repeat N] [--only connect,subscribe,churn,fanout,idle]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort, startRedis, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { LoadGenerator } from './loadgen.js';
import { median, type Row, ratio, renderSvg, renderTable } from './report.js';
import {
  BASELINE,
  type Child,
  cpuSeconds,
  FLOOR,
  HERALD_CLI,
  liveHeapBytes,
  rssBytes,
  STUB,
  start,
} from './servers.js';

const mode = process.argv.includes('--smoke')
  ? 'smoke'
  : process.argv.includes('--full')
    ? 'full'
    : 'quick';
const SIZES = {
  smoke: { sockets: 20, fanout: 20, burst: 10, churn: 40, presence: 20 },
  quick: { sockets: 1000, fanout: 1000, burst: 100, churn: 2000, presence: 1000 },
  full: { sockets: 2000, fanout: 1000, burst: 100, churn: 2000, presence: 10000 },
}[mode];
const SITE = 'bench.local';
/** Timed runs of the short storms (connect, subscribe, churn), after a warm-up; the median counts. */
const ROUNDS = { smoke: 1, quick: 3, full: 5 }[mode];
/** The value at quantile `q` of values sorted in ascending order. */
const percentile = (sorted: number[], q: number) => sorted[Math.floor(sorted.length * q)]!;
const VIEWER_RATE = 100; // doc_open per second for the viewer-event latency
const repeatArg = process.argv.indexOf('--repeat');
// --repeat N runs every scenario N times against both servers and reports the medians.
const REPEAT = repeatArg > 0 ? Number(process.argv[repeatArg + 1]) : 1;
if (!Number.isInteger(REPEAT) || REPEAT < 1)
  throw new Error('--repeat takes a whole number of runs of each scenario, at least 1');
const threadsArg = process.argv.indexOf('--threads');
// The generator's threads: one core is left to the server under test (and its backend stub).
const THREADS =
  threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : Math.max(1, cpus().length - 1);
if (!Number.isInteger(THREADS) || THREADS < 1)
  throw new Error('--threads takes a whole number of load-generator threads, at least 1');
type Target = 'herald' | 'baseline';
/** The servers a scenario can run against: the two compared, and the floor (connect storm and churn). */
type Subject = Target | 'floor';
const SCENARIOS = ['connect', 'subscribe', 'churn', 'fanout', 'idle'] as const;
const onlyArg = process.argv.indexOf('--only');
// --only connect,churn runs just those scenarios (connect covers the reconnect storm too).
const only = onlyArg > 0 ? (process.argv[onlyArg + 1] ?? '').split(',') : [...SCENARIOS];
for (const name of only)
  if (!(SCENARIOS as readonly string[]).includes(name))
    throw new Error(
      `--only takes scenario names separated by commas, from: ${SCENARIOS.join(', ')}`,
    );
const wanted = (name: (typeof SCENARIOS)[number]) => only.includes(name);

const redis = await startRedis();
const publisher = createClient({ url: redis.url });
await publisher.connect();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const generatorCpuStart = process.cpuUsage();

async function stub(): Promise<
  Child & { counts(): Promise<{ get_user_info: number; has_permission: number }> }
> {
  const child = await start([STUB, '2', '0'], /listening (\d+)/, 0);
  return {
    ...child,
    counts: async () => (await fetch(`http://127.0.0.1:${child.port}/counts`)).json() as never,
  };
}

async function server(target: Subject, backendPort: number): Promise<Child> {
  const port = await freePort();
  if (target === 'floor') return start([FLOOR, String(port)], /listening (\d+)/, port);
  const backend = `http://127.0.0.1:${backendPort}`;
  if (target === 'baseline')
    return start([BASELINE, String(port), backend, redis.url], /listening (\d+)/, port);
  const child = await start(
    [
      HERALD_CLI,
      'serve',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--redis',
      redis.url,
      '--backend',
      backend,
    ],
    /Herald listening/,
    port,
  );
  await waitUntil(
    async () =>
      (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200,
    30_000,
  );
  return child;
}

/** A fresh backend stub, server and load generator for one scenario of one target. */
async function withServer<T>(
  target: Subject,
  run: (
    gen: LoadGenerator,
    srv: Child,
    backend: Awaited<ReturnType<typeof stub>>,
    port: number,
  ) => Promise<T>,
): Promise<T> {
  const backend = await stub();
  const srv = await server(target, backend.port);
  const gen = new LoadGenerator(srv.port, SITE, THREADS);
  try {
    return await run(gen, srv, backend, srv.port);
  } finally {
    await gen.close().catch(() => undefined);
    await gen.stop();
    await srv.stop();
    await backend.stop();
  }
}

const userOf = (i: number) => `user-${Math.floor(i / 10)}`;
const users = (n: number) => Array.from({ length: n }, (_, i) => userOf(i));
/** Waits for a benchmark condition (testkit's waitFor: a check that throws counts as not yet). */
const waitUntil = (check: () => boolean | Promise<boolean>, timeoutMs = 120_000) =>
  waitFor(check, { timeoutMs, intervalMs: 5, what: 'benchmark condition' });
/**
 * Requests the baseline has fully handled (it answers no request, so the benchmark asks it). A
 * failed poll (a kept-alive connection closed under a busy server) throws: waitUntil asks again.
 */
const baselineDone = async (port: number) =>
  ((await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { done: number }).done;
/**
 * Backend calls that got no answer so far: the baseline counts its own; Herald's are in its
 * metrics (backchannel requests whose outcome is not ok).
 */
async function failedCalls(target: Target, port: number): Promise<number> {
  if (target === 'baseline')
    return ((await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { failed: number })
      .failed;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let failed = 0;
  for (const line of text.split('\n')) {
    const match = /^herald_backchannel_requests_total\{[^}]*outcome="([^"]*)"[^}]*\} (\d+)/.exec(
      line,
    );
    if (match && match[1] !== 'ok') failed += Number(match[2]);
  }
  return failed;
}
/**
 * Sends requests and waits until the server has handled them all: Herald acknowledges each one;
 * the baseline, like upstream, answers nothing, so its own count of handled requests is watched.
 */
async function handled(
  target: Subject,
  port: number,
  count: number,
  send: (ack: boolean) => Promise<void>,
): Promise<void> {
  // The floor answers every acknowledged event, as Herald does.
  if (target !== 'baseline') return send(true);
  let before = 0;
  await waitUntil(async () => {
    before = await baselineDone(port);
    return true;
  });
  await send(false);
  // Generous: at 10,000 sockets the baseline's namespace scans take minutes.
  await waitUntil(async () => (await baselineDone(port)) - before >= count, 600_000);
}

/** How busy the generator's busiest thread was in each scenario (1: saturated). */
const generatorBusy: Record<string, Record<Target, number>> = {};
/** The server's CPU share (of one core) over the same windows. */
const serverBusy: Record<string, Record<Target, number>> = {};
let window = { cpu: 0, at: 0 };
const mark = async (gen: LoadGenerator, srv: Child) => {
  await gen.mark();
  window = { cpu: cpuSeconds(srv.proc.pid!), at: performance.now() };
};
const noteBusy = async (scenario: string, target: Target, gen: LoadGenerator, srv: Child) => {
  generatorBusy[scenario] ??= { herald: 0, baseline: 0 };
  generatorBusy[scenario][target] = await gen.busy();
  serverBusy[scenario] ??= { herald: 0, baseline: 0 };
  serverBusy[scenario][target] =
    (cpuSeconds(srv.proc.pid!) - window.cpu) / ((performance.now() - window.at) / 1000);
};

/** A scenario's figures for both servers: the median of each figure over the repeats, and each repeat. */
type Figures = Record<string, number>;
interface Paired<T extends Figures> extends Record<Target, T> {
  runs: Record<Target, T>[];
  /** The floor's figures of each repeat, when it ran too. */
  floors: T[];
}

const results: Row[] = [];
/**
 * A figure of the floor (bench/floor), beside the medians of both servers in the same run, and
 * in each repeat the floor ÷ the baseline and Herald ÷ the floor.
 */
interface Reference {
  scenario: string;
  metric: string;
  floor: number;
  herald: number;
  baseline: number;
  floorRatios: number[];
  heraldOfFloor: number[];
}
const references: Reference[] = [];
/** Records the floor's figure `key` of a scenario that ran against it. */
const reference = <T extends Figures>(
  scenario: string,
  metric: string,
  paired: Paired<T>,
  key: keyof T & string,
) =>
  references.push({
    scenario,
    metric,
    floor: median(paired.floors.map((f) => f[key]!)),
    herald: paired.herald[key]!,
    baseline: paired.baseline[key]!,
    floorRatios: paired.floors.map((f, i) => ratio(f[key]!, paired.runs[i]!.baseline[key]!)),
    heraldOfFloor: paired.floors.map((f, i) => ratio(paired.runs[i]!.herald[key]!, f[key]!)),
  });
/** Records one figure of a scenario: its medians, and Herald ÷ baseline of each repeat. */
const record = <T extends Figures>(
  scenario: string,
  metric: string,
  paired: Paired<T>,
  key: keyof T & string,
  target?: { ratio: number; better: 'higher' | 'lower' },
) => {
  const ratios = paired.runs.map((run) => ratio(run.herald[key]!, run.baseline[key]!));
  results.push({
    scenario,
    metric,
    herald: paired.herald[key]!,
    baseline: paired.baseline[key]!,
    ratios,
    target,
  });
};

/** The median of each figure over several runs of a scenario. */
function medianFigures<T extends Figures>(runs: T[]): T {
  const keys = Object.keys(runs[0]!) as (keyof T & string)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]!))])) as T;
}

/**
 * Runs a scenario against both servers, one after the other, REPEAT times (alternating), and
 * against the floor after them in each repeat when `floor` is given (so a drift of the machine's
 * speed over the run touches all three alike); each figure is the median over the repeats, and each
 * repeat's ratio is kept for the spread.
 */
async function both<T extends Figures>(
  run: (target: Target) => Promise<T>,
  floor?: (target: 'floor') => Promise<T>,
): Promise<Paired<T>> {
  const runs: Record<Target, T>[] = [];
  const floors: T[] = [];
  for (let i = 0; i < REPEAT; i += 1) {
    runs.push({ baseline: await run('baseline'), herald: await run('herald') });
    if (floor) floors.push(await floor('floor'));
  }
  return {
    baseline: medianFigures(runs.map((r) => r.baseline)),
    herald: medianFigures(runs.map((r) => r.herald)),
    runs,
    floors,
  };
}

if (wanted('connect')) {
  // 1 and 2: connect storm, then reconnect storm.
  const connectStorm = (target: Subject) =>
    withServer(target, async (gen, srv, backend) => {
      // Warm-up: a tenth as many sockets of other users connect and leave, untimed. Then ROUNDS
      // connect storms, each of users never seen before (the median counts), and the last
      // round's sockets reconnect at once.
      await gen.open(
        Array.from({ length: Math.ceil(SIZES.sockets / 10) }, (_, i) => `warm-${i % 20}`),
      );
      await gen.close();
      const warmCalls = (await backend.counts()).get_user_info;
      const rates: number[] = [];
      let sids: string[] = [];
      await mark(gen, srv);
      for (let round = 0; round < ROUNDS; round += 1) {
        if (round > 0) await gen.close();
        sids = users(SIZES.sockets).map((user) => `r${round}-${user}`);
        const t = performance.now();
        await gen.open(sids);
        rates.push(sids.length / ((performance.now() - t) / 1000));
      }
      if (target !== 'floor') await noteBusy('connect storm', target, gen, srv);
      const connectCalls = ((await backend.counts()).get_user_info - warmCalls) / ROUNDS;
      await gen.close();
      await mark(gen, srv);
      const t = performance.now();
      await gen.open(sids);
      const reconnectSeconds = (performance.now() - t) / 1000;
      if (target !== 'floor') await noteBusy('reconnect storm', target, gen, srv);
      const reconnectCalls =
        (await backend.counts()).get_user_info - warmCalls - connectCalls * ROUNDS;
      return { rate: median(rates), connectCalls, reconnectSeconds, reconnectCalls };
    });
  // The floor runs the same storm too: `ws` alone (bench/floor/server.ts).
  const storm = await both(connectStorm, connectStorm);
  reference('connect storm', 'connections/s', storm, 'rate');
  record('connect storm', 'connections/s', storm, 'rate', {
    ratio: 5,
    better: 'higher',
  });
  record('connect storm', 'backend calls', storm, 'connectCalls');
  record('reconnect storm', 'seconds until all back', storm, 'reconnectSeconds');
  record('reconnect storm', 'backend calls', storm, 'reconnectCalls', {
    ratio: 0.1,
    better: 'lower',
  });
}

if (wanted('subscribe')) {
  // 3: subscribe storm: 5 docs and 2 doctypes per socket.
  const subscribes = await both((target) =>
    withServer(target, async (gen, srv, backend, port) => {
      await gen.open(users(SIZES.sockets));
      // Each socket's seven requests go out back to back, as a desk page sends them. A storm lasts
      // about a second, so after an untimed warm-up round it runs ROUNDS times, each round on
      // documents and doctypes of its own (none cached), and the median round counts.
      const perSocket = 7;
      const rates: number[] = [];
      let before = 0;
      let failedBefore = 0;
      for (let round = -1; round < ROUNDS; round += 1) {
        if (round === 0) {
          await mark(gen, srv);
          before = (await backend.counts()).has_permission;
          failedBefore = await failedCalls(target, port);
        }
        const requests = Array.from({ length: SIZES.sockets }, (_, i) => {
          const user = Math.floor(i / 10);
          const steps: [string, string[]][] = [
            ...Array.from(
              { length: 5 },
              (_, k) =>
                ['doc_subscribe', [`ToDo${round}`, `TD-${user}-${k}`]] as [string, string[]],
            ),
            ['doctype_subscribe', [`ToDo${round}`]],
            ['doctype_subscribe', [`Note${round}`]],
          ];
          return [i, steps] as [number, [string, string[]][]];
        });
        const t = performance.now();
        await handled(target, port, requests.length * perSocket, (ack) =>
          gen.pipeline(requests, ack),
        );
        if (round >= 0)
          rates.push((requests.length * perSocket) / ((performance.now() - t) / 1000));
      }
      await noteBusy('subscribe storm', target, gen, srv);
      const calls = ((await backend.counts()).has_permission - before) / ROUNDS;
      const failed = ((await failedCalls(target, port)) - failedBefore) / ROUNDS;
      return { rate: median(rates), calls, failed };
    }),
  );
  record('subscribe storm', 'subscribes/s', subscribes, 'rate', {
    ratio: 10,
    better: 'higher',
  });
  record('subscribe storm', 'backend calls', subscribes, 'calls');
  // A call that failed (the baseline opens a connection per call) is counted as a quick refusal.
  record('subscribe storm', 'backend calls failed', subscribes, 'failed');
}

if (wanted('churn')) {
  // 4: presence churn among many connected sockets. As in the desk, a form subscribes to its
  // document (doc_subscribe) before it reports it open; the churn is opening and closing such
  // documents: doc_open then doc_close on each socket, in order.
  const presenceChurn = (target: Subject) =>
    withServer(target, async (gen, srv, _backend, port) => {
      await gen.open(users(SIZES.presence));
      const ops = Array.from({ length: SIZES.churn }, (_, i) => ({
        index: i % SIZES.presence,
        doc: `D-${i % 50}`,
      }));
      const subscribe = ops.map(
        ({ index, doc }) => [index, 'doc_subscribe', ['ToDo', doc]] as [number, string, string[]],
      );
      await handled(target, port, subscribe.length, (ack) => gen.emit(subscribe, ack));
      // Each socket opens its document and closes it once the open is answered: both servers
      // are asked for an answer here (the baseline answers doc_open and doc_close when asked), so
      // the generator drives them alike. A warm-up round, then ROUNDS timed rounds; the median
      // counts.
      const steps = ops.map(
        ({ index, doc }) =>
          [
            index,
            [
              ['doc_open', ['ToDo', doc]],
              ['doc_close', ['ToDo', doc]],
            ],
          ] as [number, [string, string[]][]],
      );
      const rates: number[] = [];
      for (let round = -1; round < ROUNDS; round += 1) {
        if (round === 0) await mark(gen, srv);
        const t = performance.now();
        await gen.sequence(steps, true);
        if (round >= 0) rates.push((ops.length * 2) / ((performance.now() - t) / 1000));
      }
      if (target === 'floor') return { rate: median(rates), p50: 0, p99: 0 };
      await noteBusy('presence churn', target, gen, srv);
      // Viewer-event latency at a fixed rate: a user opens a document another user has open, and
      // is timed until it is told who views it (the doc_viewers event naming it).
      const pairs = Math.min(200, Math.floor(SIZES.presence / 20));
      const watchers = Array.from(
        { length: pairs },
        (_, k) => [20 * k, 'doc_open', ['Note', `V-${k}`]] as [number, string, string[]],
      );
      const openers = Array.from({ length: pairs }, (_, k) => 20 * k + 10);
      const subscribeOpeners = openers.map(
        (index, k) => [index, 'doc_subscribe', ['Note', `V-${k}`]] as [number, string, string[]],
      );
      await handled(target, port, pairs * 2, async (ack) => {
        await gen.emit(watchers, ack);
        await gen.emit(subscribeOpeners, ack);
      });
      await gen.latencies();
      await gen.viewers(
        openers.map((index, k) => [index, 'Note', `V-${k}`, userOf(index)]),
        VIEWER_RATE,
      );
      const latencies = (await gen.latencies()).sort((x, y) => x - y);
      return {
        rate: median(rates),
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
      };
    });
  // The floor runs the same opens and closes too: `ws` alone, which answers them and does nothing
  // else (no rooms, no viewers).
  const churn = await both(presenceChurn, presenceChurn);
  reference('presence churn', 'operations/s', churn, 'rate');
  record('presence churn', 'operations/s', churn, 'rate', {
    ratio: 20,
    better: 'higher',
  });
  record('presence churn', `viewer p50 ms at ${VIEWER_RATE}/s`, churn, 'p50');
  record('presence churn', `viewer p99 ms at ${VIEWER_RATE}/s`, churn, 'p99');
}

if (wanted('fanout')) {
  // 5: fan-out: bursts of events published back to back to a room of many sockets.
  const fanout = await both((target) =>
    withServer(target, async (gen, srv) => {
      await gen.open(users(SIZES.fanout));
      await mark(gen, srv);
      const expected = SIZES.fanout * SIZES.burst;
      const base = await gen.received();
      const cpu = cpuSeconds(srv.proc.pid!);
      const t = performance.now();
      for (let i = 0; i < SIZES.burst; i += 1) {
        await publisher.publish(
          'events',
          JSON.stringify({
            event: 'burst',
            message: { i, pad: 'x'.repeat(100) },
            room: 'all',
            namespace: SITE,
          }),
        );
      }
      await waitUntil(async () => (await gen.received()) - base >= expected);
      const seconds = (performance.now() - t) / 1000;
      const cpuPerDelivery = ((cpuSeconds(srv.proc.pid!) - cpu) / expected) * 1e6;
      await noteBusy('fan-out burst', target, gen, srv);
      // A steady trickle: publish-to-receive latency at every tenth socket of the room (every
      // socket still reads every frame; only the sampled ones parse it, so the generator spends
      // less of each event on itself). 200 events: the p99 of 50 was about the slowest event of
      // the fifty, decided by one pause.
      const listening = await gen.listen('trickle', 10);
      const trickle = mode === 'smoke' ? 5 : 200;
      for (let i = 0; i < trickle; i += 1) {
        await publisher.publish(
          'events',
          JSON.stringify({
            event: 'trickle',
            message: { sent: performance.timeOrigin + performance.now() },
            room: 'all',
            namespace: SITE,
          }),
        );
        await new Promise((r) => setTimeout(r, 20));
      }
      let latencies: number[] = [];
      await waitUntil(async () => {
        // concat, not push(...): a spread of 200,000 arguments overflows the stack.
        latencies = latencies.concat(await gen.latencies());
        return latencies.length >= trickle * listening;
      });
      latencies.sort((a, b) => a - b);
      return {
        rate: expected / seconds,
        cpuPerDelivery,
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
      };
    }),
  );
  record('fan-out burst', 'deliveries/s', fanout, 'rate', {
    ratio: 3,
    better: 'higher',
  });
  record('fan-out burst', 'server CPU µs per delivery', fanout, 'cpuPerDelivery', {
    ratio: 1 / 3,
    better: 'lower',
  });
  record('steady trickle', 'p50 latency ms', fanout, 'p50');
  record('steady trickle', 'p99 latency ms', fanout, 'p99', {
    ratio: 1,
    better: 'lower',
  });
}

if (wanted('idle')) {
  // 6: idle cost per authenticated socket: live heap (after a full collection) and RSS.
  const idle = await both((target) =>
    withServer(target, async (gen, srv) => {
      // Warm up with a few sockets, so start-up garbage is not counted against the idle ones.
      await gen.open(users(20));
      await new Promise((r) => setTimeout(r, 1000));
      const heapBefore = await liveHeapBytes(srv);
      const rssBefore = rssBytes(srv.proc.pid!);
      await gen.open(users(SIZES.presence));
      await new Promise((r) => setTimeout(r, 1500));
      const heapPerSocket = ((await liveHeapBytes(srv)) - heapBefore) / SIZES.presence;
      const perSocket = (rssBytes(srv.proc.pid!) - rssBefore) / SIZES.presence;
      const cpu = cpuSeconds(srv.proc.pid!);
      await new Promise((r) => setTimeout(r, 2000));
      const idleCpu = (cpuSeconds(srv.proc.pid!) - cpu) / 2;
      return { perSocket, heapPerSocket, idleCpu };
    }),
  );
  record('idle', 'heap bytes per socket', idle, 'heapPerSocket', {
    ratio: 0.8,
    better: 'lower',
  });
  record('idle', 'RSS bytes per socket', idle, 'perSocket');
  record('idle', 'CPU share while idle', idle, 'idleCpu');
}

await publisher.quit();
await redis.stop();

const generatorCpu = process.cpuUsage(generatorCpuStart);
const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  mode,
};
console.log(renderTable(results));
/** " (lowest–highest)" of several repeats' ratios; nothing for one. */
const spread = (values: number[]) =>
  values.length > 1 ? ` (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})` : '';
if (references.length > 0)
  console.log(
    `\nfloor (bench/floor/server.ts: \`ws\` alone, no Engine.IO, no Socket.IO, no checks, no rooms), same generator, same run:\n${references
      .map(
        (r) =>
          `  ${r.scenario.padEnd(16)} ${r.floor.toFixed(0)} ${r.metric}, ${median(r.floorRatios).toFixed(2)}× the baseline${spread(r.floorRatios)}; Herald at ${median(r.heraldOfFloor).toFixed(2)} of the floor${spread(r.heraldOfFloor)}`,
      )
      .join('\n')}`,
  );
const busyLines = Object.entries(generatorBusy).map(
  ([scenario, busy]) =>
    `  ${scenario.padEnd(16)} generator: herald ${busy.herald.toFixed(2)}, baseline ${busy.baseline.toFixed(2)}   server: herald ${serverBusy[scenario]?.herald.toFixed(2)}, baseline ${serverBusy[scenario]?.baseline.toFixed(2)}`,
);
const generatorSeconds = (generatorCpu.user + generatorCpu.system) / 1e6;
console.log(
  `\nload generator: ${THREADS} worker thread${THREADS === 1 ? '' : 's'}, ${generatorSeconds.toFixed(1)} s of CPU over the run (${machine.cores} cores: ${machine.cpu}).` +
    `\nwhile timed: busiest generator thread (share of its time spent working; 1.00 = saturated), and server CPU (share of one core):\n${busyLines.join('\n')}`,
);
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(
  `${ROOT}bench/results/latest.json`,
  `${JSON.stringify({ machine, threads: THREADS, results, references, generatorCpuSeconds: generatorSeconds, generatorBusy, serverBusy }, null, 2)}\n`,
);
writeFileSync(`${ROOT}bench/results/latest.svg`, renderSvg(results));
console.log('wrote bench/results/latest.json and bench/results/latest.svg');
process.exit(0);
