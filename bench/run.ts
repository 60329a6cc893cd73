// Herald against the upstream-style baseline, scenario by scenario, side by side in one run.
//   node --conditions=source --import tsx bench/run.ts [--smoke | --full]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort, startRedis } from '@herald/testkit';
import { createClient } from 'redis';
import { LoadSocket, pool } from './loadgen.js';
import { type Row, renderSvg, renderTable } from './report.js';
import { BASELINE, type Child, cpuSeconds, HERALD_CLI, rssBytes, STUB, start } from './servers.js';

const mode = process.argv.includes('--smoke')
  ? 'smoke'
  : process.argv.includes('--full')
    ? 'full'
    : 'quick';
const SIZES = {
  smoke: { sockets: 20, fanout: 20, burst: 10, churn: 40, presence: 20 },
  quick: { sockets: 1000, fanout: 1000, burst: 100, churn: 2000, presence: 1000 },
  full: { sockets: 2000, fanout: 1000, burst: 100, churn: 10000, presence: 10000 },
}[mode];
const SITE = 'bench.local';
type Target = 'herald' | 'baseline';

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

async function server(target: Target, backendPort: number): Promise<Child> {
  const port = await freePort();
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

/** A fresh backend stub and server for one scenario of one target. */
async function withServer<T>(
  target: Target,
  run: (port: number, srv: Child, backend: Awaited<ReturnType<typeof stub>>) => Promise<T>,
): Promise<T> {
  const backend = await stub();
  const srv = await server(target, backend.port);
  try {
    return await run(srv.port, srv, backend);
  } finally {
    await srv.stop();
    await backend.stop();
  }
}

const users = (n: number) => Array.from({ length: n }, (_, i) => `user-${Math.floor(i / 10)}`);
const connectAll = async (port: number, sids: string[]) => {
  const sockets = sids.map((sid) => new LoadSocket(port, SITE, sid));
  await pool(sockets, 200, (s) => s.connect());
  return sockets;
};
const waitUntil = async (check: () => boolean | Promise<boolean>, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const results: Row[] = [];
const record = (
  scenario: string,
  metric: string,
  herald: number,
  baseline: number,
  target?: { ratio: number; better: 'higher' | 'lower' },
) => {
  results.push({ scenario, metric, herald, baseline, target });
};

async function both<T>(run: (target: Target) => Promise<T>): Promise<Record<Target, T>> {
  // Alternate, one after the other, in the same run.
  return { baseline: await run('baseline'), herald: await run('herald') };
}

// 1 and 2: connect storm, then reconnect storm.
const storm = await both((target) =>
  withServer(target, async (port, _srv, backend) => {
    const sids = users(SIZES.sockets);
    let t = performance.now();
    const sockets = await connectAll(port, sids);
    const connectSeconds = (performance.now() - t) / 1000;
    const connectCalls = (await backend.counts()).get_user_info;
    for (const s of sockets) s.close();
    t = performance.now();
    const again = await connectAll(port, sids);
    const reconnectSeconds = (performance.now() - t) / 1000;
    const reconnectCalls = (await backend.counts()).get_user_info - connectCalls;
    for (const s of again) s.close();
    return { rate: sids.length / connectSeconds, connectCalls, reconnectSeconds, reconnectCalls };
  }),
);
record('connect storm', 'connections/s', storm.herald.rate, storm.baseline.rate, {
  ratio: 5,
  better: 'higher',
});
record('connect storm', 'backend calls', storm.herald.connectCalls, storm.baseline.connectCalls);
record(
  'reconnect storm',
  'seconds until all back',
  storm.herald.reconnectSeconds,
  storm.baseline.reconnectSeconds,
);
record(
  'reconnect storm',
  'backend calls',
  storm.herald.reconnectCalls,
  storm.baseline.reconnectCalls,
  { ratio: 0.1, better: 'lower' },
);

// 3: subscribe storm: 5 docs and 2 doctypes per socket.
const subscribes = await both((target) =>
  withServer(target, async (port, _srv, backend) => {
    const sockets = await connectAll(port, users(SIZES.sockets));
    const before = (await backend.counts()).has_permission;
    const requests = sockets.flatMap((s, i) => {
      const user = Math.floor(i / 10);
      return [
        ...Array.from(
          { length: 5 },
          (_, k) => [s, 'doc_subscribe', ['ToDo', `TD-${user}-${k}`]] as const,
        ),
        [s, 'doctype_subscribe', ['ToDo']] as const,
        [s, 'doctype_subscribe', ['Note']] as const,
      ];
    });
    const t = performance.now();
    if (target === 'herald') {
      await pool(requests, 500, ([s, event, args]) => s.emit(event, [...args], true));
    } else {
      // Upstream answers nothing: done when the backend has been asked for every one.
      await pool(requests, 500, ([s, event, args]) => s.emit(event, [...args]));
      await waitUntil(
        async () => (await backend.counts()).has_permission - before >= requests.length,
      );
    }
    const seconds = (performance.now() - t) / 1000;
    const calls = (await backend.counts()).has_permission - before;
    for (const s of sockets) s.close();
    return { rate: requests.length / seconds, calls };
  }),
);
record('subscribe storm', 'subscribes/s', subscribes.herald.rate, subscribes.baseline.rate, {
  ratio: 10,
  better: 'higher',
});
record('subscribe storm', 'backend calls', subscribes.herald.calls, subscribes.baseline.calls);

// 4: presence churn: doc_open / doc_close among many connected sockets.
const churn = await both((target) =>
  withServer(target, async (port, _srv, backend) => {
    const sockets = await connectAll(port, users(SIZES.presence));
    const ops = Array.from({ length: SIZES.churn }, (_, i) => ({
      s: sockets[i % sockets.length]!,
      doc: `D-${i % 50}`,
    }));
    const before = (await backend.counts()).has_permission;
    const t = performance.now();
    if (target === 'herald') {
      await pool(ops, 200, async ({ s, doc }) => {
        await s.emit('doc_open', ['ToDo', doc], true);
        await s.emit('doc_close', ['ToDo', doc], true);
      });
    } else {
      await pool(ops, 200, async ({ s, doc }) => {
        await s.emit('doc_open', ['ToDo', doc]);
        await s.emit('doc_close', ['ToDo', doc]);
      });
      await waitUntil(async () => (await backend.counts()).has_permission - before >= ops.length);
    }
    const seconds = (performance.now() - t) / 1000;
    for (const s of sockets) s.close();
    return { rate: (ops.length * 2) / seconds };
  }),
);
record('presence churn', 'operations/s', churn.herald.rate, churn.baseline.rate, {
  ratio: 20,
  better: 'higher',
});

// 5: fan-out: bursts of events published back to back to a room of many sockets.
const fanout = await both((target) =>
  withServer(target, async (port, srv) => {
    const sockets = await connectAll(port, users(SIZES.fanout));
    const expected = SIZES.fanout * SIZES.burst;
    const received = () => sockets.reduce((sum, s) => sum + s.received, 0);
    const base = received();
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
    await waitUntil(() => received() - base >= expected);
    const seconds = (performance.now() - t) / 1000;
    const cpuPerDelivery = ((cpuSeconds(srv.proc.pid!) - cpu) / expected) * 1e6;
    // A steady trickle: publish-to-receive latency, at every socket of the room.
    const latencies: number[] = [];
    for (const socket of sockets) {
      socket.onEvent = (event, data, at) => {
        if (event === 'trickle') latencies.push(at - (data as { sent: number }).sent);
      };
    }
    const trickle = mode === 'smoke' ? 5 : 50;
    for (let i = 0; i < trickle; i += 1) {
      await publisher.publish(
        'events',
        JSON.stringify({
          event: 'trickle',
          message: { sent: performance.now() },
          room: 'all',
          namespace: SITE,
        }),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitUntil(() => latencies.length >= trickle * sockets.length);
    latencies.sort((a, b) => a - b);
    for (const s of sockets) s.close();
    return {
      rate: expected / seconds,
      cpuPerDelivery,
      p50: latencies[Math.floor(latencies.length / 2)]!,
      p99: latencies[Math.floor(latencies.length * 0.99)]!,
    };
  }),
);
record('fan-out burst', 'deliveries/s', fanout.herald.rate, fanout.baseline.rate, {
  ratio: 3,
  better: 'higher',
});
record(
  'fan-out burst',
  'server CPU µs per delivery',
  fanout.herald.cpuPerDelivery,
  fanout.baseline.cpuPerDelivery,
  { ratio: 1 / 3, better: 'lower' },
);
record('steady trickle', 'p50 latency ms', fanout.herald.p50, fanout.baseline.p50);
record('steady trickle', 'p99 latency ms', fanout.herald.p99, fanout.baseline.p99, {
  ratio: 1,
  better: 'lower',
});

// 6: idle cost per authenticated socket.
const heapUsed = async (target: Target, port: number): Promise<number> => {
  if (target === 'baseline')
    return ((await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { heapUsed: number })
      .heapUsed;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^herald_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? 0);
};
const idle = await both((target) =>
  withServer(target, async (port, srv) => {
    // Warm up with a few sockets, so start-up garbage is not counted against the idle ones.
    const warm = await connectAll(port, users(20));
    await new Promise((r) => setTimeout(r, 1000));
    const rssBefore = rssBytes(srv.proc.pid!);
    const heapBefore = await heapUsed(target, port);
    const sockets = await connectAll(port, users(SIZES.presence));
    await new Promise((r) => setTimeout(r, 1500));
    const perSocket = (rssBytes(srv.proc.pid!) - rssBefore) / sockets.length;
    const heapPerSocket = ((await heapUsed(target, port)) - heapBefore) / sockets.length;
    const cpu = cpuSeconds(srv.proc.pid!);
    await new Promise((r) => setTimeout(r, 2000));
    const idleCpu = (cpuSeconds(srv.proc.pid!) - cpu) / 2;
    for (const s of [...warm, ...sockets]) s.close();
    return { perSocket, heapPerSocket, idleCpu };
  }),
);
record('idle', 'heap bytes per socket', idle.herald.heapPerSocket, idle.baseline.heapPerSocket, {
  ratio: 0.8,
  better: 'lower',
});
record('idle', 'RSS bytes per socket', idle.herald.perSocket, idle.baseline.perSocket);
record('idle', 'CPU share while idle', idle.herald.idleCpu, idle.baseline.idleCpu);

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
console.log(
  `\nload generator CPU: ${((generatorCpu.user + generatorCpu.system) / 1e6).toFixed(1)} s over the run (${machine.cores} cores: ${machine.cpu})`,
);
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(
  `${ROOT}bench/results/latest.json`,
  `${JSON.stringify({ machine, results, generatorCpuSeconds: (generatorCpu.user + generatorCpu.system) / 1e6 }, null, 2)}\n`,
);
writeFileSync(`${ROOT}bench/results/latest.svg`, renderSvg(results));
console.log('wrote bench/results/latest.json and bench/results/latest.svg');
process.exit(0);
