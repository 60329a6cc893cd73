import { fileURLToPath } from 'node:url';
import {
  type BackendBehaviour,
  fixtureSites,
  freePort,
  startRedis,
  startTestBackend,
  type TestBackend,
  type TestRedis,
  waitFor,
} from '@herald/testkit';
import { createClient, type RedisClientType } from 'redis';
import { type HeraldProcess, runHerald } from './cli.js';
import { type ClientOptions, type ClientSocket, clientSocket } from './stack.js';

export const CHAT_HANDLERS = fileURLToPath(
  new URL('../fixtures/handlers/cluster-chat.mjs', import.meta.url),
);

/** One `herald serve --cluster` child process on a port of its own. */
export interface ClusterNodeProcess {
  readonly id: string;
  /** Its port (another free one if the first was taken before the process could bind it). */
  port: number;
  url: string;
  proc: HeraldProcess;
  /** Starts it (again) on its port, resolving once it listens. */
  start(): Promise<void>;
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** What a socket.io-client keeps of its session to recover it: its private id and last offset. */
export interface ClientSession {
  pid: string;
  offset: string;
}

/** A real redis-server, a test backend and N Herald nodes of one cluster. */
export interface TestCluster {
  redis: TestRedis;
  backend: TestBackend;
  nodes: ClusterNodeProcess[];
  /** A socket.io-client socket to `node` (not yet connected). */
  /** A client of the cluster's Redis, for the tests' own looks. */
  redisClient: RedisClientType;
  socket(
    node: ClusterNodeProcess,
    options: ClientOptions & { reconnection?: boolean },
  ): ClientSocket;
  /** Connects and resolves once connected. */
  connect(node: ClusterNodeProcess, options: ClientOptions): Promise<ClientSocket>;
  /**
   * Drops `socket`'s connection as a network failure does (recoverable) and resolves, once its
   * node has stored the session in Redis, with what the client keeps to come back with.
   */
  drop(socket: ClientSocket): Promise<ClientSession>;
  /**
   * Connects to `node` as the same client coming back (socket.io-client's state after a drop,
   * as behind a balancer): `listen` is called before it connects (the missed events come at once).
   */
  resume(
    node: ClusterNodeProcess,
    options: ClientOptions,
    session: ClientSession,
    listen?: (socket: ClientSocket) => void,
  ): Promise<ClientSocket>;
  close(): Promise<void>;
}

export async function startCluster(
  count: number,
  extraArgs: string[] = [],
  options: { redis?: TestRedis; routes?: BackendBehaviour['routes'] } = {},
): Promise<TestCluster> {
  const redis = options.redis ?? (await startRedis());
  const sites = fixtureSites();
  // The cluster tests' handler app (CHAT_HANDLERS) is installed on the first site.
  sites['site1.local']!.installedApps = ['frappe', 'chat'];
  const backend = await startTestBackend({
    sites,
    ...(options.routes && { routes: options.routes }),
  });
  const sockets = new Set<ClientSocket>();
  const nodes: ClusterNodeProcess[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `node${i}`;
    const port = await freePort();
    let started = false;
    const startOnce = async () => {
      node.proc = runHerald([
        'serve',
        '--cluster',
        '--redis',
        redis.url,
        '--backend',
        backend.url,
        '--port',
        String(node.port),
        '--node-id',
        id,
        '--log-level',
        'debug',
        ...extraArgs,
      ]);
      const proc = node.proc;
      await Promise.race([
        proc.waitForOutput(/Herald listening/, 30_000),
        proc.exited.then((code) => {
          throw new Error(`${id} exited (${code}) before listening:\n${proc.output()}`);
        }),
      ]);
    };
    const node: ClusterNodeProcess = {
      id,
      port,
      url: `http://127.0.0.1:${port}`,
      proc: undefined as unknown as HeraldProcess,
      async start() {
        for (let attempt = 1; ; attempt++) {
          try {
            await startOnce();
            started = true;
            return;
          } catch (error) {
            // A free port can be taken by another test before a slow start binds it: on the
            // first start only (a restart keeps its port, as a real node does), try another.
            if (started || attempt >= 3 || !/port \d+ is in use/.test(String(error))) throw error;
            node.port = await freePort();
            node.url = `http://127.0.0.1:${node.port}`;
          }
        }
      },
      async stop(signal = 'SIGTERM') {
        const proc = node.proc;
        if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
        await proc.exited;
      },
    };
    nodes.push(node);
  }
  await Promise.all(nodes.map((node) => node.start()));
  const socket = (node: ClusterNodeProcess, opts: ClientOptions & { reconnection?: boolean }) => {
    const s = clientSocket(node.url, node.port, opts);
    if (opts.reconnection) {
      s.io.reconnection(true);
      s.io.reconnectionDelay(100);
      s.io.reconnectionDelayMax(500);
    }
    sockets.add(s);
    return s;
  };
  const redisClient = createClient({ url: redis.url }) as RedisClientType;
  // Redis may be killed by a test: this client reconnects with it.
  redisClient.on('error', () => undefined);
  await redisClient.connect();
  return {
    redis,
    redisClient,
    backend,
    nodes,
    socket,
    connect: (node, opts) =>
      new Promise((resolve, reject) => {
        const s = socket(node, opts);
        s.once('connect', () => resolve(s));
        s.once('connect_error', reject);
        s.connect();
      }),
    async drop(s) {
      const { _pid: pid, _lastOffset: offset } = s as unknown as ClientSession & {
        _pid: string;
        _lastOffset: string;
      };
      if (!pid || !offset) throw new Error('the socket has no session or offset to recover');
      (s.io as unknown as { engine: { close(): void } }).engine.close();
      await waitFor(() => !s.connected, { what: 'the drop' });
      // As a real client's reconnect delay lets it: the old node has stored the session.
      await waitFor(async () => (await redisClient.exists(`herald:session:${pid}`)) === 1, {
        what: 'the session stored in Redis',
      });
      return { pid, offset };
    },
    resume: (node, opts, session, listen) =>
      new Promise((resolve, reject) => {
        const s = socket(node, opts);
        Object.assign(s, { _pid: session.pid, _lastOffset: session.offset });
        listen?.(s);
        s.once('connect', () => resolve(s));
        s.once('connect_error', reject);
        s.connect();
      }),
    async close() {
      for (const s of sockets) s.disconnect();
      redisClient.destroy();
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
      await backend.close();
      if (!options.redis) await redis.stop();
    },
  };
}

/** Waits until every node's stream reader is running (an emit from one reaches the others). */
export async function waitForOutputs(nodes: ClusterNodeProcess[], pattern: RegExp): Promise<void> {
  await waitFor(() => nodes.every((node) => pattern.test(node.proc.output())), {
    timeoutMs: 20_000,
    what: `every node's output matching ${pattern}`,
  });
}
