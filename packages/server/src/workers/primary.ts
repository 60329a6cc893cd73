import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
// setupMaster is setupPrimary under the name its types declare (index.d.ts of 2.0.1).
import { setupMaster as setupPrimary } from '@socket.io/sticky';
import type { Config } from '../config/schema.js';
import { prepareDemoConfig } from '../demo.js';
import { HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import { listen, removeStaleSocket } from '../wiring/listen.js';
import { GroupMetrics } from './group-metrics.js';
import { HeldRequests } from './held-requests.js';
import { heraldType, type PrimaryMessage } from './messages.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { stickyRouting } from './routing.js';

/** The worker's program: the sources' when the primary runs from them (tests), else the build's. */
const WORKER_MAIN = fileURLToPath(
  new URL(
    import.meta.url.endsWith('.ts') ? './worker-main.ts' : './worker-main.js',
    import.meta.url,
  ),
);

/** How long a new worker may take to say it is ready before it is killed. */
const READY_TIMEOUT_MS = 60_000;
/** What a stopped worker is given past --shutdown-timeout (its own deadline) before SIGKILL. */
const EXIT_GRACE_MS = 2_000;
/** Restart delays after unexpected exits: doubling from the first, at most the last. */
const RESTART_FIRST_MS = 100;
const RESTART_MAX_MS = 10_000;
/** Unexpected exits older than this no longer lengthen the delay. */
const RESTART_MEMORY_MS = 60_000;

/** Why a worker was forked: at start, to replace one that died, or by a reload. */
type Purpose = 'start' | 'restart' | 'reload';

/** One worker process and where it is in its life. */
interface Member {
  readonly worker: Worker;
  /** w<number> in its node id and the logs: 1, 2, ... never reused while the primary runs. */
  readonly number: number;
  readonly pid: number;
  readonly purpose: Purpose;
  state: 'starting' | 'ready' | 'stopping' | 'exited';
  /** One of the workers a reload under way replaces: if it dies meanwhile, the reload replaces it. */
  inReload: boolean;
  /** Settles when the worker says it is ready; rejects if it exits or times out first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
}

/** How many workers `--workers` asks for (auto: one per core this process may use). */
export function workerCount(workers: Config['workers']): number {
  return workers === 'auto' || workers === undefined ? availableParallelism() : workers;
}

/** The node id the workers' ids are made of: --node-id, else host name, process id, 4 hex digits. */
export function baseNodeId(config: Config): string {
  return config.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/**
 * The primary of `herald serve --workers N|auto`: one port, N worker processes, each a whole Herald
 * (workers/worker.ts) and a node of the cluster. It runs no Socket.IO: @socket.io/sticky reads the
 * first bytes of each connection and hands it to the worker of its Engine.IO session (round robin
 * for new ones). It restarts a worker that dies (with a backoff), replaces every worker one at a
 * time on SIGHUP (a new one ready before an old one is stopped), stops them all on SIGTERM or
 * SIGINT, and answers the workers' /metrics with the whole group's.
 */
export class Primary {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #http: HttpServer;
  readonly #members = new Map<number, Member>();
  readonly #metrics: GroupMetrics;
  readonly #held = new HeldRequests();
  readonly #count: number;
  #nodeId = '';
  #numbers = 0;
  #port: number | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;
  #reloading = false;
  #restarts: number[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(config: Config, logger: Logger) {
    // One demo site for every worker: the same socket secret and default site (each worker's
    // backchannel may reach another worker's demo), one data folder (its store is shared).
    if (config.demo) prepareDemoConfig(config);
    this.#config = config;
    this.#logger = logger;
    this.#count = workerCount(config.workers);
    this.#http = createServer();
    this.#metrics = new GroupMetrics(() =>
      this.#list()
        .filter((member) => member.state === 'ready' || member.state === 'stopping')
        .map((member) => member.worker),
    );
  }

  /** Listens, starts the workers and resolves once every one is ready; throws when one cannot start. */
  async start(): Promise<void> {
    // Structured clone over IPC: sticky hands each connection's first chunk (a Buffer) to a worker,
    // which JSON would turn into an object no worker can read (every connection would fail).
    cluster.setupPrimary({ exec: WORKER_MAIN, serialization: 'advanced' });
    cluster.on('message', (worker, message) => this.#onMessage(worker, message));
    setupPrimary(this.#http, { loadBalancingMethod: 'round-robin' });
    await listen(this.#http, this.#config);
    const address = this.#http.address();
    this.#port = typeof address === 'object' && address ? (address as AddressInfo).port : undefined;
    if (this.#config.pidFile) {
      try {
        writePidFile(this.#config.pidFile);
      } catch (error) {
        this.#http.close();
        throw error;
      }
    }
    this.#nodeId = baseNodeId(this.#config);
    const first = Array.from({ length: this.#count }, () => this.#fork('start'));
    try {
      await Promise.all(first.map((member) => member.ready));
    } catch (error) {
      if (this.#stopping) return this.#stopping; // SIGTERM while starting: stop() exits
      await this.#stopAll();
      this.#http.close();
      if (this.#config.pidFile) removePidFile(this.#config.pidFile);
      const code = await Promise.all(first.map((member) => member.exited)).then((exits) =>
        exits.some((exit) => exit.code === 2) ? 2 : 1,
      );
      throw Object.assign(error as Error, { exitCode: code });
    }
    this.#started = true;
    const where = this.#config.uds ?? `port ${this.#port}`;
    this.#logger.info(
      {
        port: this.#port,
        uds: this.#config.uds,
        workers: this.#count,
        nodeId: this.#nodeId,
        pidFile: this.#config.pidFile,
      },
      `Herald listening on ${where} with ${this.#count} worker${this.#count === 1 ? '' : 's'} (SIGHUP or herald reload replaces them one at a time)`,
    );
  }

  /**
   * SIGHUP: every worker replaced in turn. For each one running now: a new one is forked and must
   * say it is ready, then the old one stops taking connections, gets SIGTERM (it closes its sockets
   * gracefully; their clients reconnect to the others) and is waited for. A new worker that cannot
   * start stops the reload; the workers not yet replaced keep running.
   */
  async reload(): Promise<void> {
    if (!this.#started || this.#stopping) {
      this.#logger.warn('SIGHUP while starting or stopping: no reload');
      return;
    }
    if (this.#reloading) {
      this.#logger.warn(
        'SIGHUP during a reload: that reload goes on; send another when it is done',
      );
      return;
    }
    this.#reloading = true;
    const old = this.#list().filter((member) => member.state === 'ready');
    for (const member of old) member.inReload = true;
    this.#logger.info(
      { workers: old.map((member) => member.number) },
      `reload: replacing ${old.length} workers one at a time`,
    );
    let replaced = 0;
    try {
      for (const [index, member] of old.entries()) {
        if (this.#stopping) return;
        // A new worker for each old one, also for one that died during the reload.
        const fresh = this.#fork('reload');
        try {
          await fresh.ready;
        } catch (error) {
          if (this.#stopping) return;
          this.#logger.error(
            { worker: fresh.number, reason: (error as Error).message },
            `reload stopped: the new worker ${fresh.number} did not start (its log says why); the ${old.length - index} workers not replaced keep running`,
          );
          for (const left of old.slice(index)) {
            left.inReload = false;
            if (left.state === 'exited') this.#restartLater(left);
          }
          return;
        }
        if (this.#stopping) return;
        await this.#retire(member);
        member.inReload = false;
        replaced++;
        this.#logger.info(
          { old: member.number, new: fresh.number, pid: fresh.pid },
          `reload: worker ${member.number} replaced by worker ${fresh.number}`,
        );
      }
      this.#logger.info({ replaced }, `reload done: ${replaced} workers replaced`);
    } finally {
      this.#reloading = false;
    }
  }

  /**
   * SIGTERM/SIGINT: no new connections, every worker stopped gracefully (each within
   * --shutdown-timeout), then the primary's port closed and the pid file removed.
   */
  stop(signal: string): Promise<void> {
    this.#stopping ??= (async () => {
      this.#logger.info({ signal }, 'stopping: the workers close their sockets and Redis');
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#http.close();
      await this.#stopAll();
      if (this.#config.uds) removeStaleSocket(this.#config.uds);
      if (this.#config.pidFile) removePidFile(this.#config.pidFile);
      this.#logger.info('Herald stopped');
    })();
    return this.#stopping;
  }

  #list(): Member[] {
    return [...this.#members.values()];
  }

  #fork(purpose: Purpose): Member {
    const number = ++this.#numbers;
    const worker = cluster.fork();
    // Not routed to until it is ready (routing.ts).
    stickyRouting.unroute(worker);
    this.#held.track(worker);
    // A message to a worker that has just gone fails on its channel: logged, never a crash.
    worker.on('error', (error: Error) =>
      this.#logger.warn({ worker: number, err: error }, 'a message to a worker failed'),
    );
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    ready.catch(() => undefined);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      worker.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const member: Member = {
      worker,
      number,
      pid: worker.process.pid ?? 0,
      purpose,
      state: 'starting',
      inReload: false,
      ready,
      exited,
    };
    this.#members.set(worker.id, member);
    const readyTimer = setTimeout(() => {
      failReady(new Error(`worker ${number} was not ready within ${READY_TIMEOUT_MS} ms: killed`));
      worker.process.kill('SIGKILL');
    }, READY_TIMEOUT_MS);
    const config: Config = {
      ...this.#config,
      workers: undefined,
      pidFile: undefined,
      port: this.#port ?? this.#config.port,
      nodeId: `${this.#nodeId}-w${number}`,
    };
    worker.on('message', (message: unknown) => {
      const type = heraldType(message);
      if (type === 'herald:hello' && member.state === 'starting') {
        worker.send({ type: 'herald:start', config, worker: number } satisfies PrimaryMessage);
        return;
      }
      if (type !== 'herald:ready' || member.state !== 'starting') return;
      clearTimeout(readyTimer);
      member.state = 'ready';
      stickyRouting.route(worker);
      this.#metrics.ready.set(this.#readyCount());
      this.#logger.info(
        { worker: number, pid: member.pid, purpose },
        `worker ${number} ready (pid ${member.pid})`,
      );
      markReady();
    });
    worker.once('exit', (code, signal) => {
      clearTimeout(readyTimer);
      const was = member.state;
      member.state = 'exited';
      this.#members.delete(worker.id);
      this.#metrics.forget(worker);
      this.#metrics.ready.set(this.#readyCount());
      const ended = this.#held.release(worker);
      if (ended > 0) {
        this.#logger.info(
          { worker: number, ended },
          `ended ${ended} request${ended === 1 ? '' : 's'} the primary held for worker ${number}`,
        );
      }
      if (was === 'starting')
        failReady(
          new Error(
            `worker ${number} exited before it was ready (${signal ?? `code ${code}`}): its log above says why`,
          ),
        );
      this.#onExit(member, was, code, signal);
    });
    this.#logger.info({ worker: number, pid: member.pid, purpose }, `worker ${number} starting`);
    return member;
  }

  #readyCount(): number {
    return this.#list().filter((member) => member.state === 'ready').length;
  }

  #onExit(member: Member, was: Member['state'], code: number | null, signal: string | null): void {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.#stopping || was === 'stopping') {
      this.#logger.info(
        { worker: member.number, pid: member.pid, code, signal },
        `worker ${member.number} exited (${how})`,
      );
      return;
    }
    // A worker of the first start, or of a reload, that could not start: start() or reload() says so.
    if (was === 'starting' && member.purpose !== 'restart') return;
    if (member.inReload) {
      this.#logger.error(
        { worker: member.number, pid: member.pid, code, signal },
        `worker ${member.number} (pid ${member.pid}) exited unexpectedly (${how}) during the reload, which replaces it`,
      );
      return;
    }
    this.#restartLater(member, how);
  }

  /** Forks a worker in place of one that exited unexpectedly, after a delay that grows with each. */
  #restartLater(member: Member, how = 'exited'): void {
    const now = Date.now();
    this.#restarts = this.#restarts.filter((at) => now - at < RESTART_MEMORY_MS);
    this.#restarts.push(now);
    const delay = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** (this.#restarts.length - 1));
    this.#logger.error(
      { worker: member.number, pid: member.pid, restartInMs: delay },
      `worker ${member.number} (pid ${member.pid}) exited unexpectedly (${how}): starting another in ${delay} ms`,
    );
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#stopping) return;
      this.#metrics.restarts.inc();
      this.#fork('restart');
    }, delay);
    this.#timers.add(timer);
  }

  /** Stops routing to a worker, SIGTERMs it and waits for its exit (SIGKILL past its deadline). */
  async #retire(member: Member): Promise<void> {
    if (member.state === 'exited') return;
    member.state = 'stopping';
    stickyRouting.unroute(member.worker);
    this.#metrics.ready.set(this.#readyCount());
    this.#logger.info(
      { worker: member.number, pid: member.pid },
      `stopping worker ${member.number} (pid ${member.pid}): SIGTERM`,
    );
    member.worker.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.#logger.warn(
        { worker: member.number, pid: member.pid },
        `worker ${member.number} did not exit within --shutdown-timeout: killed`,
      );
      member.worker.process.kill('SIGKILL');
    }, this.#config.shutdownTimeoutMs + EXIT_GRACE_MS);
    await member.exited;
    clearTimeout(timer);
  }

  #stopAll(): Promise<void> {
    return Promise.all(this.#list().map((member) => this.#retire(member))).then(() => undefined);
  }

  #onMessage(worker: Worker, message: unknown): void {
    this.#held.onMessage(worker, message);
    const type = heraldType(message);
    if (type === 'herald:metrics-answer') this.#metrics.onMessage(worker, message);
    else if (type === 'herald:group-metrics') {
      const { id } = message as { id: number };
      this.#metrics.text().then(
        (text) =>
          worker.send({ type: 'herald:group-metrics-answer', id, text } satisfies PrimaryMessage),
        (error: Error) =>
          worker.send({
            type: 'herald:group-metrics-answer',
            id,
            error: error.message,
          } satisfies PrimaryMessage),
      );
    }
  }
}

/**
 * `herald serve --workers`: runs the primary until SIGTERM/SIGINT, reloading on SIGHUP; exits the
 * process (0 after a stop; 1, or 2 for a configuration a worker refused, when it cannot start).
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  let primary: Primary;
  try {
    primary = new Primary(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, (error as Error).message);
    process.exit(2);
  }
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reload');
    void primary.reload();
  });
  const stop = (signal: string) =>
    primary.stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(0);
      },
    );
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await primary.start();
  } catch (error) {
    const known = error instanceof HeraldError ? { code: error.code, hint: error.hint } : {};
    logger.fatal({ err: error, ...known }, (error as Error).message);
    const exitCode = (error as { exitCode?: number }).exitCode;
    process.exit(known.code === 'HERALD_CONFIG_INVALID' ? 2 : (exitCode ?? 1));
  }
}
