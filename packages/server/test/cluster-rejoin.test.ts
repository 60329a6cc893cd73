// After its node is SIGKILLed, a client is put back in its rooms by Herald. Socket.IO stores a
// session for recovery only when a socket closes, so the clients of a killed node come back to
// another node with `recovered: false`; Frappe's desk never subscribes again by itself (its
// `open_docs` still lists the form), so without Herald's re-join its open form would get no
// `doc_update` until the page is reloaded. Each node keeps its sockets' rooms in Redis, keyed by
// the private session id the client presents again in its reconnect's CONNECT (`auth.pid`).
//
// Real parts: a redis-server, the test backend, two `herald serve --cluster` processes per test (a
// node A, killed, and a node B shared by the tests), a TCP proxy the desk-like client connects
// through (pointed at B once A is dead, as a balancer would), socket.io-client sockets.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serializeEventMessage } from '@herald/protocol';
import {
  freePort,
  nextEvent,
  startRedis,
  startTcpProxy,
  startTestBackend,
  type TcpProxy,
  type TestBackend,
  type TestRedis,
  waitFor,
} from '@herald/testkit';
import { createClient } from 'redis';
import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { type HeraldProcess, runHerald } from './helpers/cli.js';
import { fixtureSites, SITE1 } from './helpers/fixtures.js';
import {
  type ClientSocket,
  clientSocket,
  recorder,
  type Stack,
  startStack,
} from './helpers/stack.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/** A `herald serve --cluster` node on a free port of the loopback. */
interface Node {
  id: string;
  port: number;
  proc: HeraldProcess;
}

/** The private session id a socket.io-client socket presents when it reconnects. */
const pidOf = (client: ClientSocket) => (client as unknown as { _pid?: string })._pid;

/**
 * A client as Frappe's desk makes it (`socketio_client.js`): polling first, then websocket, three
 * reconnection attempts, the sid cookie. It never sends a request again after a reconnect.
 */
function deskClient(
  port: number,
  sid: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): ClientSocket {
  return io(`http://127.0.0.1:${port}/${SITE1}`, {
    withCredentials: true,
    reconnectionAttempts: 3,
    extraHeaders: { cookie: `sid=${sid}` },
    forceNew: true,
    ...options,
  });
}

/** What a client sends past its CONNECT packets (its requests), counted across reconnects. */
function sentRequests(client: ClientSocket): string[] {
  const sent: string[] = [];
  const watch = () =>
    client.io.engine.on('packetCreate', (packet: { type: string; data?: unknown }) => {
      // A Socket.IO CONNECT packet is "0/<namespace>,..."; events are "2...".
      if (packet.type === 'message' && !String(packet.data).startsWith('0'))
        sent.push(String(packet.data));
    });
  client.io.on('open', watch);
  return sent;
}

describe('after its node is SIGKILLed, Herald re-joins a client to its rooms on another node', () => {
  let redis: TestRedis;
  let backend: TestBackend;
  let admin: ReturnType<typeof createClient>;
  let b: Node;
  const nodes: Node[] = [];
  const proxies: TcpProxy[] = [];
  const clients: ClientSocket[] = [];

  const startNode = async (id: string): Promise<Node> => {
    const port = await freePort();
    const proc = runHerald([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--redis',
      redis.url,
      '--backend',
      backend.url,
      '--cluster',
      '--node-id',
      id,
      // Node's polling transport cannot set Host: the site comes from default_site for 127.0.0.1.
      '--default-site',
      SITE1,
      // The tests change permissions as they go.
      '--permission-cache-ttl',
      '0',
      '--deny-cache-ttl',
      '0',
      '--log-level',
      'debug',
    ]);
    const node = { id, port, proc };
    nodes.push(node);
    await proc.waitForOutput(/Herald listening on port/);
    await proc.waitForOutput(/"redis":"cluster".*Redis connected/);
    return node;
  };

  const kill = async (node: Node) => {
    node.proc.child.kill('SIGKILL');
    assert.equal(await node.proc.exited, 'SIGKILL');
  };

  const publish = (event: string, room: string, message: unknown = {}) =>
    admin.publish('events', serializeEventMessage({ event, room, message, namespace: SITE1 }));

  /** The record node `node` keeps in Redis of the socket with private session id `pid`. */
  const recordOf = async (node: Node, pid: string | undefined) => {
    const text = pid && (await admin.hGet(`herald:{s:${SITE1}}:socks:${node.id}`, pid));
    return text
      ? (JSON.parse(text) as { user: string; rooms: string[]; openDocs: string[][]; at: number })
      : undefined;
  };

  const metric = async (node: Node, outcome: string) => {
    const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
    const match = new RegExp(`herald_recoveries_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text);
    return Number(match?.[1] ?? 0);
  };

  const connected = (client: ClientSocket) =>
    client.connected
      ? Promise.resolve()
      : nextEvent(client, 'connect', 20_000).then(() => undefined);

  before(async () => {
    redis = await startRedis();
    backend = await startTestBackend({ sites: fixtureSites() });
    admin = createClient({ url: redis.url });
    await admin.connect();
    b = await startNode('node-b');
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    for (const node of nodes) node.proc.child.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.proc.exited));
    for (const proxy of proxies) await proxy.close();
    await admin.quit();
    await backend.close();
    await redis.stop();
  });

  /** Node A, a proxy to it, and a desk client through the proxy that sends `requests` once. */
  const deskOnA = async (
    id: string,
    sid: string,
    requests: [string, ...unknown[]][],
    options: Partial<ManagerOptions & SocketOptions> = {},
  ) => {
    const a = await startNode(id);
    const proxy = await startTcpProxy(a.port);
    proxies.push(proxy);
    const desk = deskClient(proxy.port, sid, options);
    clients.push(desk);
    const seen = recorder(desk);
    const sent = sentRequests(desk);
    await connected(desk);
    // As the desk does: emitted once, no acknowledgement asked for.
    for (const [event, ...args] of requests) desk.emit(event, ...args);
    return { a, proxy, desk, seen, sent };
  };

  test('a desk client that never subscribes again gets the next doc_update and list_update, and is among the viewers', async () => {
    // Bob views the document on node B: he is told when Alice is back on it.
    const bob = clientSocket(`http://127.0.0.1:${b.port}`, b.port, { site: SITE1, sid: 'sid-bob' });
    clients.push(bob);
    const bobSeen = recorder(bob);
    bob.connect();
    await connected(bob);
    assert.deepEqual(await bob.timeout(10_000).emitWithAck('doc_open', 'ToDo', 'TD-1'), {
      ok: true,
    });

    const { a, proxy, desk, seen, sent } = await deskOnA('node-a1', 'sid-alice', [
      ['doctype_subscribe', 'ToDo'],
      ['doc_subscribe', 'ToDo', 'TD-1'],
      ['doc_open', 'ToDo', 'TD-1'],
      ['task_subscribe', 'task-1'],
    ]);
    const pid = pidOf(desk);
    await waitFor(
      async () => {
        const record = await recordOf(a, pid);
        return record?.rooms.length === 3 && record.openDocs.length === 1;
      },
      { what: "node A's record of the desk's rooms" },
    );
    assert.deepEqual(await recordOf(a, pid), {
      user: ALICE,
      rooms: ['doctype:ToDo', 'doc:ToDo/TD-1', 'task_progress:task-1'],
      openDocs: [['ToDo', 'TD-1']],
      at: (await recordOf(a, pid))!.at,
    });
    const requestsBefore = sent.length;
    const rejoined = await metric(b, 'rejoined');

    const back = nextEvent(desk, 'connect', 20_000);
    await kill(a);
    // The balancer sends the client's next connection to node B.
    proxy.retarget(b.port);
    await back;
    assert.equal(desk.recovered, false, 'node A stored no session: not recovered');
    // Re-joined on B (the viewers list may name Alice before: node A's viewers stay listed in
    // Redis until A is found dead).
    await waitFor(async () => (await metric(b, 'rejoined')) === rejoined + 1, {
      what: 'the re-join on node B',
      timeoutMs: 15_000,
    });

    await waitFor(
      () =>
        bobSeen
          .of('doc_viewers')
          .some(([data]) => (data as { users: string[] }).users.includes(ALICE)),
      { what: 'Bob told that Alice views TD-1 again', timeoutMs: 15_000 },
    );
    assert.deepEqual(bobSeen.of('doc_viewers').at(-1), [
      { doctype: 'ToDo', docname: 'TD-1', users: [BOB, ALICE] },
    ]);
    await publish('doc_update', 'doc:ToDo/TD-1', { name: 'TD-1', modified: 'after the kill' });
    await publish('list_update', 'doctype:ToDo', { doctype: 'ToDo', name: 'TD-1' });
    await publish('progress', 'task_progress:task-1', { percent: 50 });
    await waitFor(() => seen.of('progress').length === 1, { what: 'the three events' });
    assert.deepEqual(seen.of('doc_update'), [[{ name: 'TD-1', modified: 'after the kill' }]]);
    assert.deepEqual(seen.of('list_update'), [[{ doctype: 'ToDo', name: 'TD-1' }]]);
    assert.deepEqual(
      sent.slice(requestsBefore),
      [],
      'the client sent no request after its reconnect',
    );

    assert.equal(await metric(b, 'rejoined'), rejoined + 1);
    await b.proc.waitForOutput(/socket re-joined its rooms after its node was lost/);
    // Node B keeps the record now, under the client's new session id.
    await waitFor(async () => (await recordOf(b, pidOf(desk)))?.rooms.length === 3, {
      what: "node B's record",
    });
    assert.notEqual(pidOf(desk), pid);
    assert.equal(await recordOf(a, pid), undefined, 'the claimed record is gone');
  });

  test('a permission revoked while its node was down is not re-joined', async () => {
    const { a, proxy, desk, seen } = await deskOnA('node-a2', 'sid-alice-2', [
      ['doctype_subscribe', 'ToDo'],
      ['doc_subscribe', 'Note', 'N-1'],
      ['doc_open', 'Note', 'N-1'],
    ]);
    await waitFor(
      async () => {
        const record = await recordOf(a, pidOf(desk));
        return record?.rooms.length === 2 && record.openDocs.length === 1;
      },
      { what: "node A's record of the desk's rooms" },
    );
    const rejoined = await metric(b, 'rejoined');
    const permissions = backend.behaviour.sites[SITE1]!.permissions!;
    const granted = permissions[ALICE]!;
    permissions[ALICE] = ['ToDo'];
    try {
      const back = nextEvent(desk, 'connect', 20_000);
      await kill(a);
      proxy.retarget(b.port);
      await back;
      assert.equal(desk.recovered, false);
      await waitFor(async () => (await metric(b, 'rejoined')) === rejoined + 1, {
        what: 'the re-join on node B',
        timeoutMs: 15_000,
      });
      // In order: what the desk would get for Note N-1, then a list_update it is still subscribed to.
      await publish('doc_update', 'doc:Note/N-1', { name: 'N-1' });
      await publish('note_viewed', 'open_doc:Note/N-1', { name: 'N-1' });
      await publish('list_update', 'doctype:ToDo', { doctype: 'ToDo', name: 'TD-9' });
      await waitFor(() => seen.of('list_update').length === 1, { what: 'the list_update' });
      assert.deepEqual(seen.of('doc_update'), [], 'no event of the revoked document');
      assert.deepEqual(seen.of('note_viewed'), [], 'not among its viewers either');
    } finally {
      permissions[ALICE] = granted;
    }
  });

  test('another user presenting that session id gets nothing, and the record stays for its owner', async () => {
    // Bob's client comes back on its own later (its proxy still points at the dead node meanwhile).
    const { a, proxy, desk, seen } = await deskOnA(
      'node-a3',
      'sid-bob',
      [
        ['doctype_subscribe', 'ToDo'],
        ['doc_subscribe', 'ToDo', 'TD-2'],
      ],
      { reconnectionAttempts: Number.POSITIVE_INFINITY, reconnectionDelayMax: 1000 },
    );
    const bobPid = pidOf(desk);
    await waitFor(async () => (await recordOf(a, bobPid))?.rooms.length === 2, {
      what: "node A's record of Bob's rooms",
    });
    await kill(a);
    const [refused, rejoined] = [await metric(b, 'rejoin_other_user'), await metric(b, 'rejoined')];

    // Alice may read ToDo too: only the record's user stands between her and Bob's rooms.
    const thief = clientSocket(`http://127.0.0.1:${b.port}`, b.port, {
      site: SITE1,
      sid: 'sid-alice-2',
      auth: { pid: bobPid },
    });
    clients.push(thief);
    const thiefSeen = recorder(thief);
    thief.connect();
    await connected(thief);
    // Its claim answered, either way.
    const claimed = async () =>
      (await metric(b, 'rejoin_other_user')) + (await metric(b, 'rejoined')) > refused + rejoined;
    await waitFor(claimed, { what: 'the claim on node B' });
    await publish('doc_update', 'doc:ToDo/TD-2', { name: 'TD-2' });
    await publish('list_update', 'doctype:ToDo', { doctype: 'ToDo', name: 'TD-2' });
    await publish('msgprint', `user:${ALICE}`, 'for Alice');
    await waitFor(() => thiefSeen.of('msgprint').length === 1, { what: "Alice's own event" });
    assert.deepEqual(thiefSeen.of('doc_update'), []);
    assert.deepEqual(thiefSeen.of('list_update'), []);
    assert.equal(await metric(b, 'rejoin_other_user'), refused + 1);
    assert.ok(await recordOf(a, bobPid), "Bob's record is still there");

    // Bob's own client, back, is re-joined from it.
    const back = nextEvent(desk, 'connect', 20_000);
    proxy.retarget(b.port);
    await back;
    await waitFor(async () => (await recordOf(a, bobPid)) === undefined, {
      what: "Bob's record claimed",
    });
    await waitFor(async () => (await metric(b, 'rejoined')) === rejoined + 1, {
      what: "Bob's re-join",
    });
    await publish('doc_update', 'doc:ToDo/TD-2', { name: 'TD-2', n: 2 });
    await waitFor(() => seen.of('doc_update').length === 1, { what: 'the doc_update to Bob' });
    assert.deepEqual(seen.of('doc_update'), [[{ name: 'TD-2', n: 2 }]]);
  });
});

describe("a node's records of its sockets in Redis", () => {
  let stack: Stack;
  let admin: ReturnType<typeof createClient>;
  before(async () => {
    stack = await startStack({ redis: true, config: { cluster: true, nodeId: 'n1' } });
    admin = createClient({ url: stack.redis!.url });
    await admin.connect();
  });
  after(async () => {
    await admin.quit();
    await stack.close();
  });

  const key = `herald:{s:${SITE1}}:socks:n1`;
  const ask = (client: ClientSocket, event: string, ...args: unknown[]) =>
    client.timeout(10_000).emitWithAck(event, ...args);
  const serverSide = (client: ClientSocket) =>
    stack.herald.io.of(`/${SITE1}`).sockets.get(client.id!);

  test('written when its rooms change (only the rooms a core request joins), deleted when the client leaves for good', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    assert.deepEqual(await ask(alice, 'doctype_subscribe', 'ToDo'), { ok: true });
    assert.deepEqual(await ask(alice, 'doc_open', 'Note', 'N-1'), { ok: true });
    // A room an app's handler would join: not recorded (its check cannot be made again).
    serverSide(alice)!.join('project:7');
    const pid = pidOf(alice)!;
    await waitFor(async () => JSON.parse((await admin.hGet(key, pid)) ?? '{}').openDocs?.length, {
      what: 'the record',
    });
    const record = JSON.parse((await admin.hGet(key, pid))!);
    assert.deepEqual(
      { ...record, at: 0 },
      { user: ALICE, rooms: ['doctype:ToDo'], openDocs: [['Note', 'N-1']], at: 0 },
    );
    assert.deepEqual(await admin.sMembers(`herald:{s:${SITE1}}:sock-nodes`), ['n1']);
    const ttl = await admin.pTTL(key);
    assert.ok(ttl > 120_000 && ttl <= 150_000, `expires after the window + 30 s (${ttl} ms)`);

    alice.disconnect();
    await waitFor(async () => (await admin.hGet(key, pid)) === null, { what: 'the record gone' });
  });

  test('kept when the connection drops (the client may come back)', async () => {
    const proxy = await startTcpProxy(stack.herald.port!);
    try {
      const carried = clientSocket(`http://127.0.0.1:${proxy.port}`, proxy.port, {
        site: SITE1,
        sid: 'sid-alice-2',
      });
      carried.connect();
      await nextEvent(carried, 'connect');
      assert.deepEqual(await ask(carried, 'doctype_subscribe', 'ToDo'), { ok: true });
      const pid = pidOf(carried)!;
      await waitFor(async () => (await admin.hGet(key, pid)) !== null, { what: 'the record' });
      const id = carried.id!;
      proxy.cut();
      await waitFor(() => !stack.herald.io.of(`/${SITE1}`).sockets.has(id), {
        what: 'the server to see the connection lost',
      });
      // A later write of the node: had the record been deleted, that went to Redis before it.
      const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
      assert.deepEqual(await ask(bob, 'doctype_subscribe', 'ToDo'), { ok: true });
      await waitFor(async () => (await admin.hGet(key, pidOf(bob)!)) !== null, {
        what: "Bob's record",
      });
      assert.ok(await admin.hGet(key, pid), 'the dropped socket keeps its record');
      carried.disconnect();
    } finally {
      await proxy.close();
    }
  });
});
