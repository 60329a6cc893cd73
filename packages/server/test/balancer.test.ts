/**
 * Herald behind a real load balancer, as the README's "Behind a load balancer" sets it up: three
 * `herald serve` processes on one redis-server, a real test backend, and the real nginx in front.
 * Every node SUBSCRIBEs to `events` and delivers to its own sockets, so a client gets each event
 * once from whichever node holds it. What the balancer must do is keep a client's requests on one
 * node: Engine.IO's long-polling is a series of HTTP requests of one session, which only the node
 * that made the session knows. The clients connect from different loopback addresses (127.0.0.N),
 * so `hash $remote_addr` spreads them over the nodes as it spreads users' browsers.
 */
import assert from 'node:assert/strict';
import { Agent, type AgentOptions, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  freePort,
  startNginx,
  startRedis,
  startTestBackend,
  type TestBackend,
  type TestNginx,
  type TestRedis,
  waitFor,
} from '@herald/testkit';
import { createClient } from 'redis';
import { io } from 'socket.io-client';
import { type HeraldProcess, runHerald } from './helpers/cli.js';
import { fixtureSites, SITE1 } from './helpers/fixtures.js';
import { type ClientSocket, recorder } from './helpers/stack.js';

type Transport = 'polling' | 'websocket';

/** One `herald serve` process of the three. */
interface HeraldNode {
  port: number;
  proc: HeraldProcess;
}

/** A client of the test: its socket, what it received, and how often it connected. */
interface Client {
  socket: ClientSocket;
  events: ReturnType<typeof recorder>;
  address: string;
  connects: number;
  /** `socket.recovered` at each connect. */
  recovered: boolean[];
  /** Successful doctype_subscribe answers (one per connect: a reconnected socket subscribes again). */
  subscribed: number;
}

const ROOM = 'doctype:ToDo';
const ADMIN_TOKEN = 'balancer-test-admin-token';
/** Socket.IO's own wait for a connect; a balancer's refusal must come well before it. */
const CONNECT_TIMEOUT_MS = 20_000;

describe('Herald behind nginx', () => {
  let redis: TestRedis;
  let backend: TestBackend;
  let nodes: HeraldNode[];
  let publisher: ReturnType<typeof createClient>;
  const clients: Client[] = [];
  /** Every herald process started, killed at the end whatever happened. */
  const started: HeraldProcess[] = [];
  let sequence = 0;

  /** GETs a node's own address (not through nginx); resolves with the status and body. */
  const get = (port: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  /** Starts `herald serve` on `port` (a free one by default) and waits until it is ready. */
  const startNode = async (port?: number): Promise<HeraldNode> => {
    for (let attempt = 1; ; attempt++) {
      const nodePort = port ?? (await freePort());
      const proc = runHerald([
        'serve',
        // Nodes of one cluster: a client moved to another node is recovered there.
        '--cluster',
        '--node-id',
        `b${nodePort}`,
        '--port',
        String(nodePort),
        '--host',
        '127.0.0.1',
        '--redis',
        redis.url,
        '--backend',
        backend.url,
        '--admin-token',
        ADMIN_TOKEN,
      ]);
      started.push(proc);
      const ready = waitFor(async () => (await get(nodePort, '/health/ready')).status === 200, {
        // Three processes compiling their TypeScript at once on a busy machine: give them time.
        timeoutMs: 90_000,
        what: `herald on port ${nodePort} ready (subscribed to events)`,
      });
      const exited = proc.exited.then((code) => {
        throw new Error(`herald on port ${nodePort} exited (${code}) before it was ready`);
      });
      try {
        await Promise.race([ready, exited]);
        return { port: nodePort, proc };
      } catch (error) {
        proc.child.kill('SIGKILL');
        // The free port was taken meanwhile by another process: another one.
        if (port === undefined && attempt < 3 && /is in use/.test(proc.output())) continue;
        throw new Error(`${(error as Error).message}\n${proc.output().slice(-4000)}`);
      }
    }
  };

  /** The ids of the sockets a node holds, from its admin API (on its own port, not through nginx). */
  const socketIdsOn = async (node: HeraldNode) => {
    const { body } = await get(node.port, `/admin/sockets?site=${SITE1}`, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    // In a cluster every node lists every node's sockets, each with its node: this node's only.
    return new Set(
      (JSON.parse(body) as { sockets: { id: string; node?: string }[] }).sockets
        .filter((s) => s.node === undefined || s.node === `b${node.port}`)
        .map((s) => s.id),
    );
  };
  /** Every socket id held by the nodes `among`. */
  const allSocketIds = async (among = nodes) =>
    new Set((await Promise.all(among.map(socketIdsOn))).flatMap((ids) => [...ids]));
  /**
   * Waits until each client's socket is held by one of the nodes `among`; resolves with the node
   * (its index in `among`) of each client.
   */
  const placed = (group: Client[], among = nodes) =>
    waitFor(
      async () => {
        const held = await Promise.all(among.map(socketIdsOn));
        const where = group.map((c) => held.findIndex((ids) => ids.has(c.socket.id ?? '')));
        return where.every((i) => i >= 0) ? where : undefined;
      },
      { timeoutMs: 20_000, what: `the nodes to hold the ${group.length} clients` },
    );
  /** How many clients each node holds, from `placed`'s answer. */
  const perNode = (where: number[], among = nodes) =>
    among.map((_, i) => where.filter((w) => w === i).length);

  /** A socket.io-client socket to nginx from 127.0.0.`host`, as alice on SITE1 (not connected). */
  const client = (
    nginx: TestNginx,
    host: number,
    transports: Transport[],
    { reconnection = false } = {},
  ): Client => {
    const address = `127.0.0.${host}`;
    // The site's name resolves to nginx, as in production: the Host header is the site's own, as
    // a browser sends it (Node's polling transport writes Host from the URL, whatever one asks).
    const lookup = (
      _name: string,
      options: { all?: boolean },
      callback: (...args: unknown[]) => void,
    ) =>
      options.all
        ? callback(null, [{ address: '127.0.0.1', family: 4 }])
        : callback(null, '127.0.0.1', 4);
    const agent = new Agent({ localAddress: address, lookup } as AgentOptions);
    const socket = io(`http://${SITE1}:${nginx.port}/${SITE1}`, {
      transports,
      extraHeaders: { origin: `http://${SITE1}:${nginx.port}`, cookie: 'sid=sid-alice' },
      // Node's engine.io-client hands the agent to both transports (polling and websocket).
      ...({ agent } as object),
      forceNew: true,
      reconnection,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      timeout: CONNECT_TIMEOUT_MS,
      autoConnect: false,
    });
    const entry: Client = {
      socket,
      events: recorder(socket),
      address,
      connects: 0,
      recovered: [],
      subscribed: 0,
    };
    // As Frappe's desk does: (re)subscribe on every connect.
    socket.on('connect', () => {
      entry.connects += 1;
      entry.recovered.push(socket.recovered);
      socket
        .timeout(CONNECT_TIMEOUT_MS)
        .emitWithAck('doctype_subscribe', 'ToDo')
        .then((answer: { ok?: boolean }) => {
          if (answer?.ok) entry.subscribed += 1;
        })
        .catch(() => undefined);
    });
    clients.push(entry);
    return entry;
  };

  /** Connects `count` clients from 127.0.0.`first`... and waits until each is subscribed. */
  const connectAll = async (
    nginx: TestNginx,
    first: number,
    count: number,
    transports: Transport[],
    options: { reconnection?: boolean } = {},
  ) => {
    const group = Array.from({ length: count }, (_, i) =>
      client(nginx, first + i, transports, options),
    );
    await Promise.all(
      group.map(
        ({ socket, address }) =>
          new Promise<void>((resolve, reject) => {
            socket.once('connect', () => resolve());
            socket.once('connect_error', (error) =>
              reject(new Error(`the client from ${address} did not connect: ${error.message}`)),
            );
            socket.connect();
          }),
      ),
    );
    await waitFor(() => group.every((c) => c.subscribed >= 1), {
      timeoutMs: 30_000,
      what: 'every client subscribed to ToDo',
    });
    return group;
  };

  /**
   * PUBLISHes an event to the ToDo room on Redis `events`, then a sentinel after it; once every
   * client has the sentinel, each had its chance at the event: resolves with how often each got it.
   */
  const publishAndCount = async (group: Client[]) => {
    sequence += 1;
    const id = `list-update-${sequence}`;
    const publish = (event: string, message: unknown) =>
      publisher.publish('events', JSON.stringify({ event, message, room: ROOM, namespace: SITE1 }));
    await publish('list_update', { doctype: 'ToDo', name: id });
    await publish('sentinel', id);
    await waitFor(
      () => group.every((c) => c.events.of('sentinel').some(([message]) => message === id)),
      { timeoutMs: 30_000, what: `every client's sentinel after ${id}` },
    );
    return group.map(
      (c) =>
        c.events
          .of('list_update')
          .filter(([message]) => (message as { name?: string })?.name === id).length,
    );
  };

  const closeGroup = async (group: Client[], among = nodes) => {
    const ids = group.map((c) => c.socket.id);
    for (const c of group) c.socket.disconnect();
    await waitFor(
      async () => {
        const held = await allSocketIds(among);
        return ids.every((id) => !id || !held.has(id));
      },
      { timeoutMs: 20_000, what: 'the nodes to see the clients leave' },
    );
  };

  before(async () => {
    redis = await startRedis();
    backend = await startTestBackend({ sites: fixtureSites() });
    nodes = await Promise.all([startNode(), startNode(), startNode()]);
    publisher = createClient({ url: redis.url });
    publisher.on('error', () => undefined);
    await publisher.connect();
  });
  after(async () => {
    for (const c of clients) c.socket.disconnect();
    await publisher?.quit().catch(() => undefined);
    for (const proc of started) proc.child.kill('SIGKILL');
    await Promise.all(started.map((proc) => proc.exited));
    await backend?.close();
    await redis?.stop();
  });

  describe('with `hash $remote_addr consistent` (sticky)', () => {
    let nginx: TestNginx;
    before(async () => {
      nginx = await startNginx({ upstreams: nodes.map((n) => n.port), balance: 'hash' });
    });
    after(() => nginx?.stop());

    test('long-polling clients connect, subscribe and receive each event once', async () => {
      const group = await connectAll(nginx, 10, 12, ['polling']);
      for (const c of group) assert.equal(c.socket.io.engine.transport.name, 'polling');
      const counts = perNode(await placed(group));
      assert.ok(
        counts.filter((n) => n > 0).length >= 2,
        `12 client addresses hashed over at least two nodes (sockets per node: ${counts})`,
      );
      assert.deepEqual(await publishAndCount(group), Array(group.length).fill(1));
      await closeGroup(group);
    });

    test("clients that start on polling and upgrade to websocket (Frappe's desk) receive each event once", async () => {
      const group = await connectAll(nginx, 30, 9, ['polling', 'websocket']);
      await waitFor(() => group.every((c) => c.socket.io.engine.transport.name === 'websocket'), {
        timeoutMs: 20_000,
        what: 'every client upgraded to websocket',
      });
      assert.deepEqual(await publishAndCount(group), Array(group.length).fill(1));
      await closeGroup(group);
    });
  });

  describe("with nginx's default round robin (not sticky)", () => {
    let nginx: TestNginx;
    before(async () => {
      nginx = await startNginx({ upstreams: nodes.map((n) => n.port), balance: 'round-robin' });
    });
    after(() => nginx?.stop());

    test('a polling request lands on a node that never made its session: HTTP 400 "Session ID unknown"', async () => {
      const headers = { host: `${SITE1}:${nginx.port}`, origin: `http://${SITE1}:${nginx.port}` };
      const path = `/socket.io/?EIO=4&transport=polling`;
      const handshake = await get(nginx.port, path, headers);
      assert.equal(handshake.status, 200);
      const sid = (JSON.parse(handshake.body.slice(1)) as { sid: string }).sid;
      // The next request goes to the next node, which has no such session.
      const poll = await get(nginx.port, `${path}&sid=${sid}`, headers);
      assert.equal(poll.status, 400);
      assert.deepEqual(JSON.parse(poll.body), { code: 1, message: 'Session ID unknown' });
    });

    test('long-polling clients fail to connect: what a user sees is a connect_error', async () => {
      const socketsBefore = (await allSocketIds()).size;
      const group = Array.from({ length: 5 }, (_, i) => client(nginx, 50 + i, ['polling']));
      const since = Date.now();
      // One after the other: each one's requests then go to the three nodes in turn (the
      // handshake to one, the CONNECT and the next poll to the two others). Side by side, one's
      // CONNECT may happen to reach its own node: it still fails, but leaves a socket there.
      const errors: (Error & { type?: string; description?: unknown })[] = [];
      for (const { socket, address } of group) {
        errors.push(
          await new Promise((resolve, reject) => {
            socket.once('connect', () =>
              reject(new Error(`the polling client from ${address} connected`)),
            );
            socket.once('connect_error', resolve);
            socket.connect();
          }),
        );
      }
      for (const error of errors) {
        // The balancer's other node refused the session at once: not a wait of the test's own.
        assert.match(error.message, /^xhr (poll|post) error$/);
        assert.equal(error.type, 'TransportError');
        // HTTP 400: the other node's "Session ID unknown" of the test above (socket.io-client
        // drops the body once it has failed the request).
        assert.equal(error.description, 400);
      }
      assert.equal((await allSocketIds()).size, socketsBefore, 'no node holds a socket for them');
      assert.ok(
        Date.now() - since < CONNECT_TIMEOUT_MS / 2,
        "refused well before socket.io-client's connect timeout",
      );
      for (const c of group) c.socket.disconnect();
    });

    test('websocket-only clients need no stickiness: they connect over every node and receive each event once', async () => {
      const group = await connectAll(nginx, 70, 6, ['websocket']);
      const counts = perNode(await placed(group));
      assert.ok(
        counts.filter((n) => n > 0).length >= 2,
        `round robin spread the clients (sockets per node: ${counts})`,
      );
      assert.deepEqual(await publishAndCount(group), Array(group.length).fill(1));
      await closeGroup(group);
    });

    test('reloaded with one node behind it, round robin has nothing to get wrong: polling works', async () => {
      await nginx.reload([nodes[0]!.port]);
      const group = await connectAll(nginx, 80, 3, ['polling']);
      assert.deepEqual(perNode(await placed(group)), [3, 0, 0]);
      assert.deepEqual(await publishAndCount(group), [1, 1, 1]);
      await closeGroup(group);
      await nginx.reload(nodes.map((n) => n.port));
    });
  });

  describe('a node stopped behind nginx (hash)', () => {
    let nginx: TestNginx;
    before(async () => {
      nginx = await startNginx({ upstreams: nodes.map((n) => n.port), balance: 'hash' });
    });
    after(() => nginx?.stop());

    test('its clients reconnect through nginx to a live node and receive the next event', async () => {
      const group = await connectAll(nginx, 90, 12, ['polling', 'websocket'], {
        reconnection: true,
      });
      const where = await placed(group);
      assert.deepEqual(await publishAndCount(group), Array(group.length).fill(1));

      // Stop the node holding the most clients, as an operator's rolling restart does.
      const counts = perNode(where);
      const index = counts.indexOf(Math.max(...counts));
      const stopped = nodes[index]!;
      const moving = group.filter((_, i) => where[i] === index);
      const dropped = new Set<Client>();
      for (const c of group) c.socket.once('disconnect', () => dropped.add(c));
      stopped.proc.child.kill('SIGTERM');
      assert.equal(await stopped.proc.exited, 0, 'SIGTERM stops a node cleanly');

      await waitFor(() => moving.every((c) => c.connects >= 2 && c.socket.connected), {
        timeoutMs: 30_000,
        what: `the ${moving.length} clients of the stopped node connected again`,
      });
      await waitFor(() => group.every((c) => c.socket.connected && c.subscribed === c.connects), {
        timeoutMs: 30_000,
        what: 'every client connected and subscribed',
      });
      assert.deepEqual(
        [...dropped].map((c) => c.address).sort(),
        moving.map((c) => c.address).sort(),
        "only the stopped node's clients were disconnected",
      );
      const live = nodes.filter((_, i) => i !== index);
      await placed(group, live);
      // Nodes of a cluster: the stopped node stored its sessions, and the live ones restored them.
      for (const c of moving)
        assert.equal(c.recovered.at(-1), true, `${c.address} recovered on another node`);
      assert.deepEqual(await publishAndCount(group), Array(group.length).fill(1));

      await closeGroup(group, live);
      // The node comes back on its port for whatever runs after.
      nodes[index] = await startNode(stopped.port);
    });
  });
});
