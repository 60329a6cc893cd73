/**
 * Herald as a cluster: three `herald serve --cluster` processes on one real redis-server behave as
 * one server. Each test asserts what a client sees.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nextEvent, waitFor } from '@herald/testkit';
import { runHerald } from './helpers/cli.js';
import {
  CHAT_HANDLERS,
  type ClusterNodeProcess,
  startCluster,
  type TestCluster,
} from './helpers/cluster.js';
import { SITE1 } from './helpers/fixtures.js';
import type { ClientSocket } from './helpers/stack.js';

/** The chat messages a socket received, in order (texts). */
function chatLog(socket: ClientSocket): { texts: string[]; offsets: string[] } {
  const log = { texts: [] as string[], offsets: [] as string[] };
  socket.on('chat_message', (message: { text: string }, offset?: string) => {
    log.texts.push(message.text);
    if (typeof offset === 'string') log.offsets.push(offset);
  });
  return log;
}

const say = (socket: ClientSocket, room: string, text: string) =>
  socket.timeout(5000).emitWithAck('chat_say', room, text);
const join = (socket: ClientSocket, room: string) =>
  socket.timeout(5000).emitWithAck('chat_join', room);

test('--cluster without Redis stops at start, saying what to add', async () => {
  const proc = runHerald(['serve', '--cluster', '--port', '0']);
  assert.equal(await proc.exited, 2, proc.output());
  assert.match(proc.output(), /cluster mode needs Redis: give --redis/);
});

describe('three nodes on one Redis', () => {
  let cluster: TestCluster;
  before(async () => {
    // No rate limit: a test sends a message every 2 ms from one socket.
    cluster = await startCluster(3, ['--handlers', `chat=${CHAT_HANDLERS}`, '--rate-limit', '0']);
  });
  after(() => cluster?.close());

  test("a handler's room emit on one node reaches the room's sockets on every node, once", async () => {
    const [n1, n2, n3] = cluster.nodes as [
      ClusterNodeProcess,
      ClusterNodeProcess,
      ClusterNodeProcess,
    ];
    const alice = await cluster.connect(n1, { site: SITE1, sid: 'sid-alice' });
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const admin = await cluster.connect(n3, { site: SITE1, sid: 'sid-admin' });
    const logs = [alice, bob, admin].map(chatLog);
    for (const s of [alice, bob, admin]) await join(s, 'lobby-1');
    await say(alice, 'lobby-1', 'hello');
    await say(bob, 'lobby-1', 'marker');
    await waitFor(() => logs.every((log) => log.texts.includes('marker')), {
      what: 'the marker on every node',
    });
    for (const log of logs) assert.deepEqual(log.texts, ['hello', 'marker']);
    // Offsets are the stream's entry ids: the same for every node's clients.
    assert.deepEqual(logs[0]!.offsets, logs[2]!.offsets);
    for (const s of [alice, bob, admin]) s.disconnect();
  });

  test('a client back on another node gets what it missed, in order, once, and keeps its rooms and state', async () => {
    const [n1, n2, n3] = cluster.nodes as [
      ClusterNodeProcess,
      ClusterNodeProcess,
      ClusterNodeProcess,
    ];
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const alice = await cluster.connect(n1, { site: SITE1, sid: 'sid-alice' });
    await join(bob, 'lobby-2');
    await join(alice, 'lobby-2');
    assert.equal(await alice.timeout(5000).emitWithAck('remember', 'kept-1'), true);
    const before = chatLog(alice);
    await say(bob, 'lobby-2', 'before');
    await waitFor(() => before.texts.includes('before'), { what: 'the first message' });
    // The connection drops (a network failure: recoverable), and the client comes back on node 3
    // (the same client state as a socket.io-client that reconnects through a balancer).
    const session = await cluster.drop(alice);
    for (const text of ['m1', 'm2', 'm3']) await say(bob, 'lobby-2', text);
    let log = { texts: [] as string[], offsets: [] as string[] };
    const back = await cluster.resume(n3, { site: SITE1, sid: 'sid-alice' }, session, (s) => {
      log = chatLog(s);
    });
    assert.equal(back.recovered, true, 'recovered on another node');
    await waitFor(() => log.texts.length >= 3, { what: 'the missed messages' });
    await say(bob, 'lobby-2', 'after');
    await waitFor(() => log.texts.includes('after'), { what: 'a message after the move' });
    assert.deepEqual(log.texts, ['m1', 'm2', 'm3', 'after']);
    assert.equal(await back.timeout(5000).emitWithAck('recall'), 'kept-1', 'handler state moved');
    bob.disconnect();
    back.disconnect();
    alice.disconnect();
  });

  test('a node restarted with SIGTERM: its clients come back to it recovered, with what they missed', async () => {
    const [n1, n2] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const alice = cluster.socket(n1, { site: SITE1, sid: 'sid-alice', reconnection: true });
    const log = chatLog(alice);
    const connects: boolean[] = [];
    alice.on('connect', () => connects.push(alice.recovered));
    alice.connect();
    await waitFor(() => connects.length === 1, { what: 'the first connect' });
    await join(bob, 'lobby-3');
    await join(alice, 'lobby-3');
    await say(bob, 'lobby-3', 'before');
    await waitFor(() => log.texts.includes('before'), { what: 'the first message' });
    await n1.stop('SIGTERM');
    for (const text of ['m1', 'm2']) await say(bob, 'lobby-3', text);
    await n1.start();
    await waitFor(() => connects.length === 2, { timeoutMs: 20_000, what: 'the reconnect' });
    assert.equal(connects[1], true, 'recovered after the restart');
    await say(bob, 'lobby-3', 'after');
    await waitFor(() => log.texts.includes('after'), { what: 'a message after the restart' });
    assert.deepEqual(log.texts, ['before', 'm1', 'm2', 'after']);
    bob.disconnect();
    alice.disconnect();
  });

  test('a client hopping between nodes while events flow every 2 ms loses, repeats and reorders none', async () => {
    const nodes = cluster.nodes;
    const bob = await cluster.connect(nodes[1]!, { site: SITE1, sid: 'sid-bob' });
    await join(bob, 'lobby-4');
    let socket = await cluster.connect(nodes[0]!, { site: SITE1, sid: 'sid-alice' });
    await join(socket, 'lobby-4');
    const received: string[] = [];
    const listen = (s: ClientSocket) =>
      s.on('chat_message', (message: { text: string }) => received.push(message.text));
    listen(socket);
    let sent = 0;
    let sending = true;
    const sender = (async () => {
      while (sending) {
        bob.emit('chat_say', 'lobby-4', String(sent));
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const HOPS = 12;
    for (let hop = 1; hop <= HOPS; hop++) {
      await waitFor(() => received.length > 0, { what: 'messages flowing' });
      const session = await cluster.drop(socket);
      socket.removeAllListeners('chat_message');
      const next = await cluster.resume(
        nodes[hop % nodes.length]!,
        { site: SITE1, sid: 'sid-alice' },
        session,
        listen,
      );
      assert.equal(next.recovered, true, `hop ${hop} recovered`);
      socket = next;
    }
    sending = false;
    await sender;
    const last = String(sent - 1);
    await waitFor(() => received.includes(last), { timeoutMs: 20_000, what: 'the last message' });
    const expected = Array.from({ length: sent }, (_, i) => String(i));
    assert.equal(received.length, expected.length, 'no message lost or repeated');
    assert.deepEqual(received, expected, 'in order');
    bob.disconnect();
    socket.disconnect();
  });
});

describe("the cluster's Redis stops and starts again", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(2, ['--handlers', `chat=${CHAT_HANDLERS}`]);
  });
  after(() => cluster?.close());

  test('nodes keep answering while Redis is away, emits fail fast and are counted, and it all works again after', async () => {
    const [n1, n2] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
    const alice = cluster.socket(n1, { site: SITE1, sid: 'sid-alice', reconnection: true });
    const bob = cluster.socket(n2, { site: SITE1, sid: 'sid-bob', reconnection: true });
    for (const s of [alice, bob]) {
      s.connect();
      await waitFor(() => s.connected, { what: 'connected' });
      await join(s, 'lobby-5');
    }
    const log = chatLog(bob);
    await say(alice, 'lobby-5', 'before');
    await waitFor(() => log.texts.includes('before'), { what: 'the first message' });
    await cluster.redis.kill();
    // The node's event loop is free (a reader without its offline queue would spin): health
    // answers at once, again and again, and an emit is answered instead of hanging.
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const response = await fetch(`${n1.url}/health/live`);
      assert.equal(response.status, 200);
      assert.ok(performance.now() - started < 1000, 'health answered within a second');
    }
    assert.equal(await say(alice, 'lobby-5', 'while away'), true);
    const metrics = await (await fetch(`${n1.url}/metrics`)).text();
    assert.match(metrics, /herald_cluster_publish_failures_total [1-9]/);
    await cluster.redis.start();
    // Once both nodes are back on Redis, a message from one reaches the other again.
    await waitFor(
      async () => {
        await say(alice, 'lobby-5', 'after');
        return log.texts.includes('after');
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'a message across nodes after Redis is back' },
    );
    alice.disconnect();
    bob.disconnect();
  });
});

describe('handlers and admin across the cluster', () => {
  const TOKEN = 'cluster-admin-token-0123456789';
  const API_KEY = 'cluster-api-key-0123456789abcdef';
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(
      3,
      [
        '--handlers',
        `chat=${CHAT_HANDLERS}`,
        '--admin-token',
        TOKEN,
        '--api-key',
        API_KEY,
        '--forward',
        'shout=/api/method/chat.realtime.shout',
      ],
      {
        routes: {
          // The web backend's handler: an emit to a room, as --forward applies it.
          '/api/method/chat.realtime.shout': ({ body }) => {
            const { args, socket } = body as { args: string[]; socket: { user: string } };
            return {
              body: {
                message: {
                  emit: [
                    { event: 'shouted', data: { from: socket.user, text: args[1] }, room: args[0] },
                  ],
                  reply: { ok: true },
                },
              },
            };
          },
        },
      },
    );
  });
  after(() => cluster?.close());
  const admin = async (node: ClusterNodeProcess, path: string) => {
    const response = await fetch(`${node.url}${path}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return (await response.json()) as Record<string, unknown>;
  };

  test('participants(room), /admin/sockets and /admin/rooms answer for every node; a stopped node is named missing, in time', async () => {
    const [n1, n2, n3] = cluster.nodes as [
      ClusterNodeProcess,
      ClusterNodeProcess,
      ClusterNodeProcess,
    ];
    const alice = await cluster.connect(n1, { site: SITE1, sid: 'sid-alice' });
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const root = await cluster.connect(n3, { site: SITE1, sid: 'sid-admin' });
    for (const s of [alice, bob, root]) await join(s, 'room-6');
    const who = (await alice.timeout(5000).emitWithAck('who', 'room-6')) as { user: string }[];
    assert.deepEqual(who.map((p) => p.user).sort(), [
      'Administrator',
      'alice@example.com',
      'bob@example.com',
    ]);
    const sockets = (await admin(n1, `/admin/sockets?site=${SITE1}`)).sockets as {
      user: string;
      node: string;
    }[];
    assert.deepEqual(sockets.map((s) => `${s.node} ${s.user}`).sort(), [
      'node1 alice@example.com',
      'node2 bob@example.com',
      'node3 Administrator',
    ]);
    const rooms = (await admin(n2, `/admin/rooms?site=${SITE1}`)).rooms as {
      room: string;
      sockets: number;
    }[];
    assert.equal(rooms.find((r) => r.room === 'room-6')?.sockets, 3);
    // A node that stops answering (SIGSTOP): the answer comes within the timeout, partial.
    n3.proc.child.kill('SIGSTOP');
    try {
      const started = performance.now();
      const answer = await admin(n1, `/admin/sockets?site=${SITE1}`);
      assert.ok(performance.now() - started < 4000, 'answered before the adapter’s 5 s');
      assert.equal(answer.partial, true);
      assert.equal((answer.error as { code: string }).code, 'HERALD_CLUSTER_TIMEOUT');
      assert.deepEqual((answer.sockets as { user: string }[]).map((s) => s.user).sort(), [
        'alice@example.com',
        'bob@example.com',
      ]);
    } finally {
      n3.proc.child.kill('SIGCONT');
    }
    for (const s of [alice, bob, root]) s.disconnect();
  });

  test('a --forward emit to a room, answered by the web backend on one node, reaches the room on every node', async () => {
    const [n1, n2, n3] = cluster.nodes as [
      ClusterNodeProcess,
      ClusterNodeProcess,
      ClusterNodeProcess,
    ];
    const alice = await cluster.connect(n1, { site: SITE1, sid: 'sid-alice' });
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const root = await cluster.connect(n3, { site: SITE1, sid: 'sid-admin' });
    const heard = [bob, root].map(() => [] as unknown[]);
    for (const [i, s] of [bob, root].entries()) {
      await join(s, 'room-f');
      s.on('shouted', (data: unknown) => {
        heard[i]!.push(data);
      });
    }
    assert.deepEqual(await alice.timeout(5000).emitWithAck('shout', 'room-f', 'hi all'), {
      ok: true,
    });
    await waitFor(() => heard.every((h) => h.length === 1), { what: 'the shout on both nodes' });
    for (const h of heard) assert.deepEqual(h, [{ from: 'alice@example.com', text: 'hi all' }]);
    for (const s of [alice, bob, root]) s.disconnect();
  });

  test('an HTTP publish on one node reaches the room on the others once, with an offset', async () => {
    const [n1, n2, n3] = cluster.nodes as [
      ClusterNodeProcess,
      ClusterNodeProcess,
      ClusterNodeProcess,
    ];
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const root = await cluster.connect(n3, { site: SITE1, sid: 'sid-admin' });
    const seen = [bob, root].map(() => [] as unknown[][]);
    for (const [i, s] of [bob, root].entries()) {
      assert.deepEqual(await s.timeout(5000).emitWithAck('doctype_subscribe', 'ToDo'), {
        ok: true,
      });
      s.on('list_update', (...args: unknown[]) => {
        seen[i]!.push(args);
      });
    }
    for (const n of [1, 2]) {
      const response = await fetch(`${n1.url}/api/v1/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({
          site: SITE1,
          event: 'list_update',
          message: { n },
          room: 'doctype:ToDo',
        }),
      });
      assert.equal(response.status, 202);
    }
    await waitFor(() => seen.every((log) => log.length >= 2), {
      what: 'both events on both nodes',
    });
    for (const log of seen) {
      assert.deepEqual(
        log.map((args) => args[0]),
        [{ n: 1 }, { n: 2 }],
      );
      for (const args of log) assert.match(String(args[1]), /^\d+-\d+$/, 'a stream offset');
    }
    // Written by the node that took the request, not through events and the lease.
    const [entry] = await cluster.redisClient.xRange(
      'herald:{ingest}:stream',
      String(seen[0]![0]![1]),
      '+',
      { COUNT: 1 },
    );
    assert.equal(entry?.message.uid, 'api');
    bob.disconnect();
    root.disconnect();
  });
});

describe('events from the web processes: the ingest lease', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(3);
  });
  after(() => cluster?.close());

  /** The node holding the lease, by its log. */
  const holder = async (): Promise<ClusterNodeProcess> => {
    let found: ClusterNodeProcess | undefined;
    await waitFor(
      () => {
        found = cluster.nodes
          .filter(
            (node) => node.proc.child.exitCode === null && node.proc.child.signalCode === null,
          )
          .find((node) => {
            const lines = node.proc.output().split('\n');
            const held = lines.findLastIndex((l) => l.includes('this node holds the ingest lease'));
            const lost = lines.findLastIndex((l) =>
              /this node (lost|released) the ingest lease/.test(l),
            );
            return held > lost;
          });
        return found !== undefined;
      },
      { timeoutMs: 15_000, what: 'a lease holder' },
    );
    return found!;
  };
  const publish = (room: string, event: string, message: unknown) =>
    cluster.redisClient.publish(
      'events',
      JSON.stringify({ event, message, room, namespace: SITE1 }),
    );
  /** Sockets of alice, bob and Administrator subscribed to ToDo, one on each of `nodes`. */
  const subscribers = async (nodes: ClusterNodeProcess[]) => {
    const sids = ['sid-alice', 'sid-bob', 'sid-admin'];
    const sockets: ClientSocket[] = [];
    for (const [i, node] of nodes.entries()) {
      const s = await cluster.connect(node, { site: SITE1, sid: sids[i]! });
      assert.deepEqual(await s.timeout(5000).emitWithAck('doctype_subscribe', 'ToDo'), {
        ok: true,
      });
      sockets.push(s);
    }
    return sockets;
  };

  test('one PUBLISH events reaches every subscribed socket on every node exactly once, with an offset; the same message published twice arrives twice', async () => {
    const held = await holder();
    // Every node's health names the holder; the holder's metrics say it holds it.
    for (const node of cluster.nodes) {
      const health = (await (await fetch(`${node.url}/health/ready`)).json()) as {
        cluster: { node: string; holdsLease: boolean; leaseHolder: string };
      };
      assert.deepEqual(health.cluster.node, node.id);
      assert.equal(health.cluster.holdsLease, node === held);
      await waitFor(
        async () =>
          ((await (await fetch(`${node.url}/health/ready`)).json()) as typeof health).cluster
            .leaseHolder === held.id,
        { what: `${node.id} sees ${held.id} hold the lease` },
      );
    }
    assert.match(
      await (await fetch(`${held.url}/metrics`)).text(),
      /herald_cluster_lease_holder 1/,
    );
    const sockets = await subscribers(cluster.nodes);
    const seen = sockets.map(() => [] as { n: number; offset: unknown }[]);
    for (const [i, s] of sockets.entries()) {
      s.on('list_update', (data: { n: number }, offset: unknown) => {
        seen[i]!.push({ n: data.n, offset });
      });
    }
    await publish('doctype:ToDo', 'list_update', { n: 1 });
    await publish('doctype:ToDo', 'list_update', { n: 1 });
    await publish('doctype:ToDo', 'list_update', { n: 2 });
    await waitFor(() => seen.every((log) => log.some((e) => e.n === 2)), { what: 'every socket' });
    for (const log of seen) {
      assert.deepEqual(
        log.map((e) => e.n),
        [1, 1, 2],
      );
      for (const e of log) assert.match(String(e.offset), /^\d+-\d+$/, 'a stream offset');
    }
    assert.deepEqual(
      seen[0]!.map((e) => e.offset),
      seen[2]!.map((e) => e.offset),
    );
    for (const s of sockets) s.disconnect();
  });

  test('a desk-like client (it never subscribes again) keeps getting doc_update after its node restarts with SIGTERM', async () => {
    const node = cluster.nodes[2]!;
    const desk = cluster.socket(node, { site: SITE1, sid: 'sid-alice', reconnection: true });
    const connects: boolean[] = [];
    desk.on('connect', () => connects.push(desk.recovered));
    const updates: unknown[] = [];
    desk.on('doc_update', (data: unknown) => updates.push(data));
    desk.connect();
    await waitFor(() => connects.length === 1, { what: 'connected' });
    // Once, as the desk does when a form opens; never again after a reconnect.
    assert.deepEqual(await desk.timeout(5000).emitWithAck('doc_subscribe', 'ToDo', 'TD-R'), {
      ok: true,
    });
    await publish('doc:ToDo/TD-R', 'doc_update', { modified: 'before' });
    await waitFor(() => updates.length === 1, { what: 'the first doc_update' });
    await node.stop('SIGTERM');
    await publish('doc:ToDo/TD-R', 'doc_update', { modified: 'while it restarts' });
    await node.start();
    await waitFor(() => connects.length === 2, { timeoutMs: 30_000, what: 'the reconnect' });
    assert.equal(connects[1], true, 'recovered');
    await publish('doc:ToDo/TD-R', 'doc_update', { modified: 'after' });
    await waitFor(() => updates.length === 3, { timeoutMs: 15_000, what: 'every doc_update' });
    assert.deepEqual(updates, [
      { modified: 'before' },
      { modified: 'while it restarts' },
      { modified: 'after' },
    ]);
    desk.disconnect();
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    // Each test's events are numbered from 0: the stream holds identical messages from the test
    // before, which a takeover must not take for the ones it has to fill.
    test(`the lease holder gets ${signal} under a steady publish: nothing lost or repeated`, async () => {
      const gone = await holder();
      const rest = cluster.nodes.filter((node) => node !== gone);
      const sockets = await subscribers(rest);
      const seen = sockets.map(() => [] as number[]);
      const sentAt = new Map<number, number>();
      let worstDelay = 0;
      for (const [i, s] of sockets.entries()) {
        s.on('list_update', (data: { n: number }) => {
          seen[i]!.push(data.n);
          worstDelay = Math.max(worstDelay, performance.now() - (sentAt.get(data.n) ?? 0));
        });
      }
      let n = 0;
      let sending = true;
      const sender = (async () => {
        while (sending) {
          sentAt.set(n, performance.now());
          await publish('doctype:ToDo', 'list_update', { n });
          n += 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      await waitFor(() => seen.every((log) => log.length > 20), { what: 'events flowing' });
      await gone.stop(signal);
      // Another node takes the lease over and the events go on.
      await waitFor(
        () => rest.some((node) => /this node holds the ingest lease/.test(node.proc.output())),
        { timeoutMs: 15_000, what: 'a new holder' },
      );
      const after = n;
      await waitFor(() => seen.every((log) => log.some((x) => x > after + 50)), {
        timeoutMs: 20_000,
        what: 'events after the handover',
      });
      sending = false;
      await sender;
      const last = n - 1;
      await waitFor(() => seen.every((log) => log.includes(last)), { what: 'the last event' });
      const expected = Array.from({ length: n }, (_, i) => i);
      for (const log of seen) {
        const missing = expected.filter((x) => !log.includes(x));
        const repeated = log.filter((x, i) => log.indexOf(x) !== i);
        assert.deepEqual(
          { missing, repeated },
          { missing: [], repeated: [] },
          `each event once (of ${n})`,
        );
        assert.deepEqual(log, expected, 'in order');
      }
      console.log(
        `# ${signal} of the lease holder: worst publish-to-receive delay ${Math.round(worstDelay)} ms`,
      );
      for (const s of sockets) s.disconnect();
      await gone.start();
    });
  }
});

describe('an undersized stream', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(2, [
      '--cluster-stream-length',
      '1000',
      '--api-key',
      'undersized-key-0123456789abcdef',
    ]);
  });
  after(() => cluster?.close());

  test('a client away longer than the stream holds comes back recovered: false, counted and logged', async () => {
    const [n1, n2] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
    const alice = await cluster.connect(n1, { site: SITE1, sid: 'sid-alice' });
    assert.deepEqual(await alice.timeout(5000).emitWithAck('doctype_subscribe', 'ToDo'), {
      ok: true,
    });
    const first = nextEvent(alice, 'list_update');
    const publish = (messages: unknown[]) =>
      fetch(`${n2.url}/api/v1/publish/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer undersized-key-0123456789abcdef',
        },
        body: JSON.stringify({ messages }),
      });
    const event = (n: number) => ({
      site: SITE1,
      event: 'list_update',
      message: { n },
      room: 'doctype:ToDo',
    });
    assert.equal((await publish([event(0)])).status, 202);
    await first;
    const session = await cluster.drop(alice);
    // Far more than the stream keeps, while the client is away.
    for (let i = 0; i < 6; i++) {
      const batch = Array.from({ length: 500 }, (_, j) => event(1 + i * 500 + j));
      assert.equal((await publish(batch)).status, 202);
    }
    await waitFor(async () => (await cluster.redisClient.xLen('herald:{ingest}:stream')) < 2500, {
      what: 'the stream trimmed',
    });
    const back = await cluster.resume(n2, { site: SITE1, sid: 'sid-alice' }, session);
    assert.equal(back.recovered, false, 'its last event is no longer in the stream');
    const metrics = await (await fetch(`${n2.url}/metrics`)).text();
    assert.match(metrics, /herald_recoveries_total\{outcome="offset_trimmed"\} 1/);
    await n2.proc.waitForOutput(/no longer holds its last event.*--cluster-stream-length/);
    back.disconnect();
  });
});

describe('presence across the cluster', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster(3);
  });
  after(() => cluster?.close());

  const viewersOf = (socket: ClientSocket) => {
    const lists: string[][] = [];
    socket.on('doc_viewers', (data: { docname: string; users: string[] }) => {
      lists.push(data.users);
    });
    return lists;
  };
  const nodeCount = async (node: ClusterNodeProcess) =>
    Number(
      /herald_cluster_nodes (\d+)/.exec(await (await fetch(`${node.url}/metrics`)).text())?.[1],
    );

  test('viewers on three nodes see the full list; a node SIGKILLed: the others are told within 15 s; herald_cluster_nodes 3, then 2', async () => {
    const [n1, n2, n3] = cluster.nodes as [
      ClusterNodeProcess,
      ClusterNodeProcess,
      ClusterNodeProcess,
    ];
    await waitFor(async () => (await nodeCount(n1)) === 3, {
      timeoutMs: 15_000,
      what: 'three nodes',
    });
    const alice = await cluster.connect(n1, { site: SITE1, sid: 'sid-alice' });
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const root = await cluster.connect(n3, { site: SITE1, sid: 'sid-admin' });
    const aliceSees = viewersOf(alice);
    const bobSees = viewersOf(bob);
    for (const s of [alice, bob, root]) {
      assert.deepEqual(await s.timeout(5000).emitWithAck('doc_open', 'ToDo', 'TD-7'), { ok: true });
    }
    const all = ['Administrator', 'alice@example.com', 'bob@example.com'];
    await waitFor(
      () => [aliceSees, bobSees].every((l) => [...(l.at(-1) ?? [])].sort().join() === all.join()),
      {
        what: 'the full list on every node',
      },
    );
    await n3.stop('SIGKILL');
    const killed = performance.now();
    await waitFor(
      () => [aliceSees, bobSees].every((l) => !(l.at(-1) ?? []).includes('Administrator')),
      { timeoutMs: 15_000, what: "the killed node's viewer gone from the list" },
    );
    const took = performance.now() - killed;
    console.log(`# viewers told of a SIGKILLed node's viewer after ${Math.round(took)} ms`);
    assert.deepEqual([...aliceSees.at(-1)!].sort(), ['alice@example.com', 'bob@example.com']);
    await waitFor(async () => (await nodeCount(n1)) === 2, {
      timeoutMs: 15_000,
      what: 'two nodes',
    });
    for (const s of [alice, bob]) s.disconnect();
    await n3.start();
  });

  test("a SIGTERMed node's viewers who recover on another node never drop out of the list", async () => {
    const [n1, n2] = cluster.nodes as [ClusterNodeProcess, ClusterNodeProcess];
    const bob = await cluster.connect(n2, { site: SITE1, sid: 'sid-bob' });
    const bobSees = viewersOf(bob);
    const alice = cluster.socket(n1, { site: SITE1, sid: 'sid-alice' });
    await new Promise<void>((resolve, reject) => {
      alice.once('connect', () => resolve());
      alice.once('connect_error', reject);
      alice.connect();
    });
    assert.deepEqual(await bob.timeout(5000).emitWithAck('doc_open', 'ToDo', 'TD-8'), { ok: true });
    assert.deepEqual(await alice.timeout(5000).emitWithAck('doc_open', 'ToDo', 'TD-8'), {
      ok: true,
    });
    await waitFor(() => (bobSees.at(-1) ?? []).includes('alice@example.com'), {
      what: 'alice listed',
    });
    const { _pid: pid, _lastOffset: offset } = alice as unknown as {
      _pid: string;
      _lastOffset: string;
    };
    const listsBefore = bobSees.length;
    await n1.stop('SIGTERM');
    // Alice's client comes back on node 2, recovered, with her document open.
    const back = await cluster.resume(n2, { site: SITE1, sid: 'sid-alice' }, { pid, offset });
    assert.equal(back.recovered, true);
    // Until the stopped node's grace (10 s) is over and it is swept: she is listed every time.
    await waitFor(async () => (await nodeCount(n2)) === 2, {
      timeoutMs: 20_000,
      what: 'the stopped node swept after its grace',
    });
    for (const list of bobSees.slice(listsBefore))
      assert.ok(list.includes('alice@example.com'), `alice listed in ${JSON.stringify(list)}`);
    bob.disconnect();
    back.disconnect();
    await n1.start();
  });
});
