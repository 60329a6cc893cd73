import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type NodeProcess, runNode, startRedis, type TestRedis, waitFor } from '@herald/testkit';
import { Nodes, nodeKey, nodesKey } from '../src/cluster/nodes.js';
import { type Logger, silentLogger } from '../src/logger.js';
import type { ViewersChange } from '../src/presence/presence.js';
import { RedisPresence, viewerNodesKey, viewersKey } from '../src/presence/redis.js';
import { createRedis, type RedisClient } from '../src/redis/client.js';
import { limitViewerNotices } from '../src/rooms/viewers.js';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import { startStack } from './helpers/stack.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';
const ROOM = 'open_doc:ToDo/TD-1';
const VIEWER_NODE = fileURLToPath(new URL('./fixtures/cluster/viewer-node.ts', import.meta.url));

/** One cluster node of the test process: its liveness, its presence, and what it was told. */
interface TestNode {
  id: string;
  nodes: Nodes;
  presence: RedisPresence;
  commands: RedisClient;
  dead: { node: string; affected: ViewersChange[]; at: number }[];
  rejoins: ViewersChange[][];
  close(): Promise<void>;
}

describe('presence across the cluster, and node liveness', () => {
  let redis: TestRedis;
  const open: { close(): Promise<void> }[] = [];
  const children: NodeProcess[] = [];
  let prefixes = 0;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
    await Promise.all(open.map((node) => node.close()));
    await redis.stop();
  });

  /** Each test its own key prefix: the nodes of one never see another's. */
  const newPrefix = () => `t${++prefixes}`;

  async function startNode(
    prefix: string,
    id: string,
    { sweeping = false, logger = silentLogger() }: { sweeping?: boolean; logger?: Logger } = {},
  ): Promise<TestNode> {
    const commands = createRedis(redis.url, {
      role: 'commands',
      logger,
      offlineQueue: false,
    }).client;
    const subscriber = createRedis(redis.url, {
      role: 'subscriber',
      logger,
      offlineQueue: true,
    }).client;
    await Promise.all([commands.connect(), subscriber.connect()]);
    const presence = new RedisPresence({ client: commands, node: id, prefix, logger });
    const dead: TestNode['dead'] = [];
    const rejoins: TestNode['rejoins'] = [];
    const nodes = new Nodes({
      client: commands,
      subscriber,
      id,
      prefix,
      presence,
      logger,
      onDead: (node, affected) => dead.push({ node, affected, at: Date.now() }),
      onRejoin: (affected) => rejoins.push(affected),
    });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await nodes.close();
      await presence.close();
      commands.destroy();
      subscriber.destroy();
    };
    try {
      await nodes.start();
    } catch (error) {
      await close();
      throw error;
    }
    nodes.sweeping = sweeping;
    const node = { id, nodes, presence, commands, dead, rejoins, close };
    open.push(node);
    return node;
  }

  /** A node in a child process of its own, viewing ROOM as `user`. */
  async function startChild(prefix: string, id: string, user: string): Promise<NodeProcess> {
    const child = runNode(VIEWER_NODE, [redis.url, prefix, id, SITE1, ROOM, user]);
    children.push(child);
    await child.waitForOutput(/viewing:/, 30_000);
    return child;
  }

  const byRoom = (changes: ViewersChange[]) =>
    [...changes].sort((a, b) => a.room.localeCompare(b.room));

  test('the viewers of every node, merged: the earliest first, then by node and place; each user once', async () => {
    const prefix = newPrefix();
    const [a, b, c] = await Promise.all([
      startNode(prefix, 'a'),
      startNode(prefix, 'b'),
      startNode(prefix, 'c'),
    ]);
    assert.deepEqual(await a.presence.viewers(SITE1, ROOM, [ALICE]), [ALICE]);
    // alice is on b too, since later than on a: she keeps her first place.
    assert.deepEqual(await b.presence.viewers(SITE1, ROOM, [BOB, ALICE]), [ALICE, BOB]);
    assert.deepEqual(await c.presence.viewers(SITE1, ROOM, [CAROL]), [ALICE, BOB, CAROL]);
    assert.deepEqual(await a.presence.list(SITE1, ROOM), [ALICE, BOB, CAROL]);
    // alice closes it on a: she is still viewing on b, at her place there (after bob).
    assert.deepEqual(await a.presence.viewers(SITE1, ROOM, []), [BOB, ALICE, CAROL]);
    // A user who stays keeps their place; a new one comes after.
    assert.deepEqual(await c.presence.viewers(SITE1, ROOM, [DAVE, CAROL]), [
      BOB,
      ALICE,
      CAROL,
      DAVE,
    ]);
    // Who came first comes first, whichever node they are on (a later node id, an earlier user).
    await c.presence.viewers(SITE1, 'open_doc:ToDo/TD-2', [CAROL]);
    const [[, since]] = JSON.parse(
      (await a.commands.hGet(viewersKey(prefix, SITE1, 'c'), 'open_doc:ToDo/TD-2'))!,
    ) as [[string, number]];
    await waitFor(() => Date.now() > since, { what: 'the clock to move on' });
    assert.deepEqual(await b.presence.viewers(SITE1, 'open_doc:ToDo/TD-2', [BOB]), [CAROL, BOB]);
    // Another site is apart.
    assert.deepEqual(await a.presence.list(SITE2, ROOM), []);

    // What Redis holds: per site and node one hash, field room -> [[user, since], ...], and the set
    // of the nodes with one (a's left it when its last field went).
    const hash = await a.commands.hGetAll(viewersKey(prefix, SITE1, 'b'));
    const entries = JSON.parse(hash[ROOM]!) as [string, number][];
    assert.deepEqual(
      entries.map(([user]) => user),
      [BOB, ALICE],
    );
    assert.ok(entries.every(([, since]) => Math.abs(Date.now() - since) < 60_000));
    assert.deepEqual((await a.commands.sMembers(viewerNodesKey(prefix, SITE1))).sort(), ['b', 'c']);
    assert.ok((await a.commands.pTTL(viewersKey(prefix, SITE1, 'b'))) > 0, 'a safety TTL');
    assert.deepEqual(await a.commands.exists(viewersKey(prefix, SITE1, 'a')), 0);
    // The record and the beat of each node.
    const record = await a.commands.hGetAll(nodeKey(prefix, 'a'));
    assert.equal(record.state, 'up');
    assert.equal(record.pid, String(process.pid));
    assert.deepEqual(JSON.parse(record.sites!), [SITE1]);
    assert.ok((await a.commands.pTTL(nodeKey(prefix, 'a'))) > 20_000);
    assert.deepEqual((await a.commands.zRange(nodesKey(prefix), 0, -1)).sort(), ['a', 'b', 'c']);
    // Each node reads the others' beats at its own heartbeat.
    await waitFor(() => a.nodes.liveCount() === 3, { what: 'a to see b and c' });
    assert.deepEqual(a.nodes.liveNodes().sort(), ['a', 'b', 'c']);
    await Promise.all([a, b, c].map((node) => node.close()));
  });

  test('a node that stops beating and listening is swept; onDead gets its documents with the users left', async () => {
    const prefix = newPrefix();
    const a = await startNode(prefix, 'a', { sweeping: true });
    const b = await startNode(prefix, 'b');
    await a.presence.viewers(SITE1, 'open_doc:ToDo/TD-1', [ALICE]);
    await b.presence.viewers(SITE1, 'open_doc:ToDo/TD-1', [BOB]);
    // Only b views TD-2: nobody is left to tell.
    await b.presence.viewers(SITE1, 'open_doc:ToDo/TD-2', [BOB]);
    // bob views TD-3 on both: its list does not change.
    await a.presence.viewers(SITE1, 'open_doc:ToDo/TD-3', [BOB]);
    await b.presence.viewers(SITE1, 'open_doc:ToDo/TD-3', [BOB]);
    await b.presence.viewers(SITE2, 'open_doc:ToDo/TD-4', [BOB, CAROL]);
    await a.presence.viewers(SITE2, 'open_doc:ToDo/TD-4', [DAVE]);
    await waitFor(() => a.nodes.liveCount() === 2, { what: 'a sees b' });

    const stoppedAt = Date.now();
    await b.close();
    await waitFor(() => a.dead.length > 0, { timeoutMs: 20_000, what: 'b found dead' });
    const elapsed = a.dead[0]!.at - stoppedAt;
    console.log(`a node that stopped beating was found dead in ${elapsed} ms`);
    assert.ok(elapsed < 15_000, `within 15 s (${elapsed} ms)`);
    assert.equal(a.dead[0]!.node, 'b');
    assert.deepEqual(byRoom(a.dead[0]!.affected), [
      { site: SITE1, room: 'open_doc:ToDo/TD-1', users: [ALICE] },
      { site: SITE2, room: 'open_doc:ToDo/TD-4', users: [DAVE] },
    ]);
    assert.deepEqual(await a.presence.list(SITE1, 'open_doc:ToDo/TD-2'), []);
    assert.deepEqual(await a.presence.list(SITE1, 'open_doc:ToDo/TD-3'), [BOB]);
    assert.deepEqual(a.nodes.liveNodes(), ['a']);
    assert.equal(await a.commands.exists(viewersKey(prefix, SITE1, 'b')), 0);
    assert.equal(await a.commands.exists(nodeKey(prefix, 'b')), 0);
    assert.deepEqual(await a.commands.zRange(nodesKey(prefix), 0, -1), ['a']);
    await a.close();
  });

  test('a node process killed for real (SIGKILL) is found dead by its alive channel within 15 s', async () => {
    const prefix = newPrefix();
    const { lines, logger } = logSink();
    const a = await startNode(prefix, 'a', { sweeping: true, logger });
    await a.presence.viewers(SITE1, ROOM, [ALICE]);
    const child = await startChild(prefix, 'killed', DAVE);
    assert.deepEqual(await a.presence.list(SITE1, ROOM), [ALICE, DAVE]);

    const killedAt = Date.now();
    child.child.kill('SIGKILL');
    await waitFor(() => a.dead.length > 0, {
      timeoutMs: 20_000,
      what: 'the killed node found dead',
    });
    const elapsed = a.dead[0]!.at - killedAt;
    console.log(`a SIGKILLed node was found dead in ${elapsed} ms`);
    assert.ok(elapsed < 15_000, `within 15 s (${elapsed} ms)`);
    assert.equal(a.dead[0]!.node, 'killed');
    assert.deepEqual(a.dead[0]!.affected, [{ site: SITE1, room: ROOM, users: [ALICE] }]);
    assert.deepEqual(await a.presence.list(SITE1, ROOM), [ALICE]);
    const death = lines.find(
      (line) => line.msg === 'a cluster node is dead: its viewers are removed',
    );
    assert.match(
      String(death?.reason),
      /alive channel/,
      'found by its alive channel, not its beat',
    );
    assert.equal(death?.documents, 1);
    await a.close();
  });

  test('a node that stops beating but keeps its connection (SIGSTOP) is found dead by its late beat', async () => {
    const prefix = newPrefix();
    const { lines, logger } = logSink();
    const a = await startNode(prefix, 'a', { sweeping: true, logger });
    await a.presence.viewers(SITE1, ROOM, [ALICE]);
    const child = await startChild(prefix, 'paused', DAVE);
    const pausedAt = Date.now();
    child.child.kill('SIGSTOP');
    try {
      await waitFor(() => a.dead.length > 0, {
        timeoutMs: 20_000,
        what: 'the paused node found dead',
      });
      const elapsed = a.dead[0]!.at - pausedAt;
      console.log(`a SIGSTOPped node was found dead in ${elapsed} ms`);
      assert.ok(elapsed < 15_000, `within 15 s (${elapsed} ms)`);
      assert.deepEqual(a.dead[0]!.affected, [{ site: SITE1, room: ROOM, users: [ALICE] }]);
      const death = lines.find(
        (line) => line.msg === 'a cluster node is dead: its viewers are removed',
      );
      assert.equal(death?.reason, 'no heartbeat');
      assert.ok(Number(death?.sinceBeat) > 6000, 'its beat older than 6 s');
    } finally {
      child.child.kill('SIGKILL');
    }
    await a.close();
  });

  test('SIGTERM: a stopped node keeps its viewers listed for the 10 s grace, then they leave', async () => {
    const prefix = newPrefix();
    const a = await startNode(prefix, 'a', { sweeping: true });
    await a.presence.viewers(SITE1, ROOM, [ALICE]);
    const child = await startChild(prefix, 'stopping', DAVE);
    const stoppedAt = Date.now();
    child.child.kill('SIGTERM');
    await child.waitForOutput(/stopped/);
    await child.exited;
    // Its process is gone, and its alive channel with it: still, three sweeps later it is listed.
    const sweeps = a.nodes.stats.sweeps;
    await waitFor(() => a.nodes.stats.sweeps >= sweeps + 3, { what: 'three sweeps' });
    assert.equal(a.dead.length, 0, 'not dead yet');
    assert.deepEqual(await a.presence.list(SITE1, ROOM), [ALICE, DAVE]);
    assert.ok(a.nodes.liveNodes().includes('stopping'), 'live through its grace');

    await waitFor(() => a.dead.length > 0, { timeoutMs: 20_000, what: 'the grace to end' });
    const elapsed = a.dead[0]!.at - stoppedAt;
    console.log(`a stopped node's viewers left after ${elapsed} ms`);
    assert.ok(elapsed >= 9_500 && elapsed < 15_000, `after the grace (${elapsed} ms)`);
    assert.deepEqual(a.dead[0]!.affected, [{ site: SITE1, room: ROOM, users: [ALICE] }]);
    await a.close();
  });

  test('a node id held by a live node is refused; a dead holder’s id is taken, its leftovers removed', async () => {
    const prefix = newPrefix();
    const a = await startNode(prefix, 'same');
    await a.presence.viewers(SITE1, ROOM, [ALICE]);
    await assert.rejects(startNode(prefix, 'same'), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'HERALD_CLUSTER_NODE_ID_TAKEN');
      assert.match(error.message, /"same" is held by a live node \(host .+, pid \d+/);
      return true;
    });
    // The refused node has let go of the alive channel; the holder goes on.
    assert.deepEqual(
      { ...(await a.commands.pubSubNumSub(`${prefix}:alive:same`)) },
      {
        [`${prefix}:alive:same`]: 1,
      },
    );
    assert.deepEqual(await a.presence.list(SITE1, ROOM), [ALICE]);

    // A killed process's id, still fresh in Redis (nobody swept it), is free at once.
    const child = await startChild(prefix, 'reused', DAVE);
    child.child.kill('SIGKILL');
    await child.exited;
    const b = await startNode(prefix, 'reused');
    assert.deepEqual(
      b.dead.map((d) => [d.node, d.affected]),
      [['reused', [{ site: SITE1, room: ROOM, users: [ALICE] }]]],
      'what the earlier process left is removed and told',
    );
    assert.deepEqual(await a.presence.list(SITE1, ROOM), [ALICE]);
    await Promise.all([a.close(), b.close()]);
  });

  test('Redis killed and started again: no crash, the timers go on, the viewers are written again', async () => {
    const prefix = newPrefix();
    const a = await startNode(prefix, 'a', { sweeping: true });
    const b = await startNode(prefix, 'b');
    await a.presence.viewers(SITE1, ROOM, [ALICE]);
    await b.presence.viewers(SITE1, ROOM, [BOB]);
    const before = { a: { ...a.nodes.stats }, b: { ...b.nodes.stats } };

    await redis.kill();
    await waitFor(
      () =>
        a.nodes.stats.beatFailures > before.a.beatFailures &&
        b.nodes.stats.beatFailures > before.b.beatFailures &&
        a.nodes.stats.sweepFailures > before.a.sweepFailures,
      { timeoutMs: 10_000, what: 'the timers to fail while Redis is down' },
    );
    await assert.rejects(Promise.resolve(a.presence.viewers(SITE1, ROOM, [ALICE, CAROL])));
    const down = { a: { ...a.nodes.stats }, b: { ...b.nodes.stats } };

    await redis.start();
    await waitFor(
      () =>
        a.nodes.stats.beats > down.a.beats + 1 &&
        b.nodes.stats.beats > down.b.beats + 1 &&
        a.nodes.stats.sweeps > down.a.sweeps + 1,
      { timeoutMs: 20_000, what: 'the timers to succeed again' },
    );
    // Redis came back empty: each node found itself gone, wrote its viewers again and said so.
    assert.ok(a.rejoins.length > 0 && b.rejoins.length > 0);
    // a's change made while Redis was down (carol) is stored too.
    assert.deepEqual(await a.presence.list(SITE1, ROOM), [ALICE, BOB, CAROL]);
    assert.deepEqual(await b.presence.list(SITE1, ROOM), [ALICE, BOB, CAROL]);
    assert.equal(a.dead.length, 0, 'nobody taken for dead');
    assert.deepEqual(a.nodes.liveNodes().sort(), ['a', 'b']);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('doc_viewers through a Redis presence', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  test("an interval ends on the cluster's latest list: another node's change is told at its end", async () => {
    const logger = silentLogger();
    const clients: RedisClient[] = [];
    const presenceOf = async (node: string) => {
      const client = createRedis(redis.url, {
        role: 'commands',
        logger,
        offlineQueue: false,
      }).client;
      await client.connect();
      clients.push(client);
      return new RedisPresence({ client, node, logger });
    };
    const stack = await startStack({ config: { viewersIntervalMs: 1000 } });
    const here = await presenceOf('here');
    const remote = await presenceOf('remote');
    try {
      limitViewerNotices(stack.herald.io, 1000, here);
      await remote.viewers(SITE1, ROOM, [CAROL]);
      const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
      const told: { users: string[]; at: number }[] = [];
      bob.on('doc_viewers', (v: { docname: string; users: string[] }) => {
        if (v.docname === 'TD-1') told.push({ users: v.users, at: Date.now() });
      });
      await bob.timeout(10_000).emitWithAck('doc_open', 'ToDo', 'TD-1');
      await waitFor(() => told.length === 1, { what: 'the first change' });
      assert.deepEqual(told[0]!.users, [CAROL, BOB], "the other node's viewer is listed");
      // Within the interval, a change on the other node (which tells its own sockets only).
      await remote.viewers(SITE1, ROOM, [CAROL, DAVE]);
      await waitFor(() => told.length === 2, { what: 'the end of the interval', timeoutMs: 5000 });
      assert.deepEqual(told[1]!.users, [CAROL, BOB, DAVE]);
      assert.ok(told[1]!.at - told[0]!.at >= 950, 'told at the end of the interval');
      bob.disconnect();
      await waitFor(async () => (await remote.list(SITE1, ROOM))?.length === 2, {
        what: "bob's leaving stored",
      });
      assert.deepEqual(await remote.list(SITE1, ROOM), [CAROL, DAVE]);
    } finally {
      await stack.close();
      await Promise.all([here.close(), remote.close()]);
      for (const client of clients) client.destroy();
    }
  });
});
