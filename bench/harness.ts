// What every scenario runs on: a fresh backend stub, server and load generator per run, the
// repeats against both servers (and the floor), waiting for the servers to finish the work, and
// the timed windows' CPU. One Bench per run of the bench; the scenarios record into its Results.
import { freePort, type TestRedis, waitFor } from '@herald/testkit';
import type { createClient } from 'redis';
import { LoadGenerator } from './loadgen.js';
import type { Options, ScenarioName } from './options.js';
import {
  type Figures,
  medianFigures,
  type Paired,
  type Results,
  type Subject,
  type Target,
} from './results.js';
import { BASELINE, type Child, cpuSeconds, FLOOR, HERALD_CLI, STUB, start } from './servers.js';

/** The site every benchmark socket connects to. */
export const SITE = 'bench.local';

/** A scenario: what `--only` calls it, and what it runs and records. */
export interface Scenario {
  name: ScenarioName;
  run(bench: Bench): Promise<void>;
}

/** The backend stub of one run (bench/backend-stub.ts), with its call counts. */
export interface Stub extends Child {
  counts(): Promise<{ get_user_info: number; has_permission: number }>;
}

/** The sid of socket `i`: ten sockets per user, as a user has several tabs. */
export const userOf = (i: number) => `user-${Math.floor(i / 10)}`;
/** The sids of `n` sockets. */
export const users = (n: number) => Array.from({ length: n }, (_, i) => userOf(i));
/** The value at quantile `q` of values sorted in ascending order. */
export const percentile = (sorted: number[], q: number) => sorted[Math.floor(sorted.length * q)]!;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits for a benchmark condition (testkit's waitFor: a check that throws counts as not yet). */
export const waitUntil = (check: () => boolean | Promise<boolean>, timeoutMs = 120_000) =>
  waitFor(check, { timeoutMs, intervalMs: 5, what: 'benchmark condition' });
/**
 * Requests the baseline has fully handled (it answers no request, so the benchmark asks it). A
 * failed poll (a kept-alive connection closed under a busy server) throws: waitUntil asks again.
 */
const baselineDone = async (port: number) =>
  ((await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { done: number }).done;

export class Bench {
  /** Where the current timed window started: the server's CPU seconds and the time. */
  #window = { cpu: 0, at: 0 };

  constructor(
    readonly options: Options,
    readonly redis: TestRedis,
    /** A Redis client that publishes to the `events` channel the servers listen on. */
    readonly publisher: ReturnType<typeof createClient>,
    readonly results: Results,
  ) {}

  async #stub(): Promise<Stub> {
    const child = await start([STUB, '2', '0'], /listening (\d+)/, 0);
    return {
      ...child,
      counts: async () => (await fetch(`http://127.0.0.1:${child.port}/counts`)).json() as never,
    };
  }

  async #server(subject: Subject, backendPort: number): Promise<Child> {
    const port = await freePort();
    if (subject === 'floor') return start([FLOOR, String(port)], /listening (\d+)/, port);
    const backend = `http://127.0.0.1:${backendPort}`;
    if (subject === 'baseline')
      return start([BASELINE, String(port), backend, this.redis.url], /listening (\d+)/, port);
    const child = await start(
      [
        HERALD_CLI,
        'serve',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--redis',
        this.redis.url,
        '--backend',
        backend,
      ],
      /Herald listening/,
      port,
    );
    await waitUntil(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status ===
        200,
      30_000,
    );
    return child;
  }

  /** A fresh backend stub, server and load generator for one run of a scenario against `subject`. */
  async withServer<T>(
    subject: Subject,
    run: (gen: LoadGenerator, srv: Child, backend: Stub) => Promise<T>,
  ): Promise<T> {
    const backend = await this.#stub();
    const srv = await this.#server(subject, backend.port);
    const gen = new LoadGenerator(srv.port, SITE, this.options.threads);
    try {
      return await run(gen, srv, backend);
    } finally {
      await gen.close().catch(() => undefined);
      await gen.stop();
      await srv.stop();
      await backend.stop();
    }
  }

  /**
   * Runs a scenario against both servers, one after the other, `--repeat` times (alternating), and
   * against the floor after them in each repeat when `floor` is given (so a drift of the machine's
   * speed over the run touches all three alike); each figure is the median over the repeats, and
   * each repeat's figures are kept for the spread.
   */
  async both<T extends Figures>(
    run: (target: Target) => Promise<T>,
    floor?: (subject: 'floor') => Promise<T>,
  ): Promise<Paired<T>> {
    const runs: Record<Target, T>[] = [];
    const floors: T[] = [];
    for (let i = 0; i < this.options.repeat; i += 1) {
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

  /**
   * Sends requests and waits until the server has handled them all: Herald acknowledges each one
   * (and so does the floor); the baseline, like upstream, answers nothing, so its own count of
   * handled requests is watched.
   */
  async handled(
    subject: Subject,
    port: number,
    count: number,
    send: (ack: boolean) => Promise<void>,
  ): Promise<void> {
    if (subject !== 'baseline') return send(true);
    let before = 0;
    await waitUntil(async () => {
      before = await baselineDone(port);
      return true;
    });
    await send(false);
    // Generous: at 10,000 sockets the baseline's namespace scans take minutes.
    await waitUntil(async () => (await baselineDone(port)) - before >= count, 600_000);
  }

  /**
   * Backend calls that got no answer so far: the baseline counts its own; Herald's are in its
   * metrics (backchannel requests whose outcome is not ok).
   */
  async failedCalls(target: Target, port: number): Promise<number> {
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

  /** Starts a timed window: the generator's busy time and the server's CPU from now. */
  async mark(gen: LoadGenerator, srv: Child): Promise<void> {
    await gen.mark();
    this.#window = { cpu: cpuSeconds(srv.proc.pid!), at: performance.now() };
  }

  /** Records how busy the generator and the server were since `mark`, for `scenario`. */
  async noteBusy(scenario: string, target: Target, gen: LoadGenerator, srv: Child): Promise<void> {
    const generator = await gen.busy();
    const server =
      (cpuSeconds(srv.proc.pid!) - this.#window.cpu) /
      ((performance.now() - this.#window.at) / 1000);
    this.results.noteBusy(scenario, target, generator, server);
  }

  /**
   * Publishes `events` events (each with `padBytes` of padding) back to back to the `all` room
   * (through Redis `events`, as Frappe does) and waits until the generator's `sockets` sockets
   * have all received them; the seconds it took and the server's CPU per delivery (µs).
   */
  async burst(
    gen: LoadGenerator,
    srv: Child,
    sockets: number,
    events: number,
    padBytes = 100,
  ): Promise<{ seconds: number; cpuPerDelivery: number; deliveries: number }> {
    const deliveries = sockets * events;
    const base = await gen.received();
    const cpu = cpuSeconds(srv.proc.pid!);
    const pad = 'x'.repeat(padBytes);
    const t = performance.now();
    for (let i = 0; i < events; i += 1) {
      await this.publisher.publish(
        'events',
        JSON.stringify({
          event: 'burst',
          message: { i, pad },
          room: 'all',
          namespace: SITE,
        }),
      );
    }
    await waitUntil(async () => (await gen.received()) - base >= deliveries);
    const seconds = (performance.now() - t) / 1000;
    const cpuPerDelivery = ((cpuSeconds(srv.proc.pid!) - cpu) / deliveries) * 1e6;
    return { seconds, cpuPerDelivery, deliveries };
  }
}
