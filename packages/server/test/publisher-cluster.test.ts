/**
 * `@herald/publisher`'s cluster transport against real Herald cluster nodes: two nodes started in
 * this process with `cluster: true` on one real redis-server, and real socket.io-client sockets.
 * The transport writes each event to the cluster's stream itself (no `events`, no ingest lease);
 * every node's reader delivers it to its sockets in the room, with the entry id as the offset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serializeEventMessage } from '@herald/protocol';
import { clusterStreamEntry, createPublisher, type Publisher } from '@herald/publisher';
import type { Herald } from '@herald/server';
import { startTestHerald } from '@herald/server/testing';
import { waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { contentId } from '../src/cluster/content-id.js';
import { entryContentId } from '../src/cluster/stream-ids.js';
import { runHerald } from './helpers/cli.js';
import { SITE1 } from './helpers/fixtures.js';
import {
  type ClientSocket,
  clientSocket,
  recorder,
  type Stack,
  silentLogger,
  startStack,
} from './helpers/stack.js';

const ALICE = 'alice@example.com';
const pidOf = (socket: ClientSocket) => (socket as unknown as { _pid?: string })._pid;

test("the publisher's content id is the ingest's: the same message has the same hid either way", () => {
  for (const message of [
    { event: 'msgprint', message: { message: 'Saved' }, room: `user:${ALICE}`, namespace: SITE1 },
    { event: 'list_update', message: { é: '☃', n: [1, 2] }, room: 'doctype:ToDo', namespace: 's' },
    { event: 'empty', message: undefined, room: 'r', namespace: 's' },
  ]) {
    const entry = clusterStreamEntry(message, { maxMessageBytes: 1 << 20 });
    assert.equal(entryContentId(entry.data), contentId(serializeEventMessage(message)));
  }
});

describe('two cluster nodes, and a publisher writing to their stream', () => {
  let stack: Stack;
  let n2: Herald;
  let publisher: Publisher;
  let redisClient: ReturnType<typeof createClient>;
  const sockets: ClientSocket[] = [];

  before(async () => {
    stack = await startStack({ redis: true, config: { cluster: true, nodeId: 'n1' } });
    n2 = await startTestHerald(
      { backend: stack.backend.url, redis: stack.redis!.url, cluster: true, nodeId: 'n2' },
      { logger: silentLogger() },
    );
    publisher = createPublisher({ site: SITE1, cluster: { redis: stack.redis!.url } });
    redisClient = createClient({ url: stack.redis!.url });
    redisClient.on('error', () => undefined);
    await redisClient.connect();
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await publisher?.close();
    // Its connection may still be coming back from the Redis restart of the last test.
    redisClient?.destroy();
    await n2?.close();
    await stack?.close();
  });

  /** A socket of `sid` on `node` (n1 or n2), connected, with what it receives recorded. */
  async function connect(node: Herald, sid: string) {
    const socket = clientSocket(node.url, node.port!, { site: SITE1, sid });
    sockets.push(socket);
    const seen = recorder(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
      socket.connect();
    });
    return { socket, seen };
  }

  /** Publishes until `socket` has one: the nodes' readers have started once it has. */
  async function warmUp(seen: ReturnType<typeof recorder>) {
    await waitFor(
      async () => {
        if (seen.of('warm_up').length > 0) return true;
        await publisher.publishToUser(ALICE, 'warm_up', {});
        return false;
      },
      { intervalMs: 200, what: 'the nodes reading the stream' },
    );
  }

  test('a publish reaches the room on every node once, with its entry id as the offset', async () => {
    const a1 = await connect(stack.herald, 'sid-alice');
    const a2 = await connect(n2, 'sid-alice-2');
    await warmUp(a1.seen);
    await warmUp(a2.seen);
    const sent = await publisher.publishToUser(ALICE, 'msgprint', { message: 'Saved' });
    const marker = await publisher.publishToUser(ALICE, 'marker', {});
    for (const { seen } of [a1, a2]) {
      await waitFor(() => seen.of('marker').length === 1, { what: 'the marker' });
      const got = seen.events.filter((e) => e.event === 'msgprint');
      assert.deepEqual(got, [
        { event: 'msgprint', args: [{ message: 'Saved' }], offset: sent.entryId },
      ]);
      assert.equal(seen.events.find((e) => e.event === 'marker')?.offset, marker.entryId);
    }
    // The room decides: Bob, on the same node and site, gets none of Alice's events.
    const bob = await connect(stack.herald, 'sid-bob');
    await publisher.publishToUser(ALICE, 'for_alice', {});
    await publisher.publishToUser('bob@example.com', 'for_bob', {});
    await waitFor(() => bob.seen.of('for_bob').length === 1, { what: "Bob's event" });
    assert.deepEqual(bob.seen.of('for_alice'), []);
    for (const s of [a1, a2, bob]) s.socket.disconnect();
  });

  test('a client that was away gets what was published meanwhile, once: back on its node and on the other', async () => {
    for (const back of ['same node', 'other node'] as const) {
      const away = await connect(stack.herald, 'sid-alice');
      await warmUp(away.seen);
      const before = await publisher.publishToUser(ALICE, 'before', { back });
      await waitFor(() => away.seen.of('before').length === 1, { what: 'the first event' });
      assert.equal(
        (away.socket as unknown as { _lastOffset?: string })._lastOffset,
        before.entryId,
      );
      const pid = pidOf(away.socket)!;
      // The connection drops (a network failure: recoverable); the node stores the session.
      (away.socket.io as unknown as { engine: { close(): void } }).engine.close();
      await waitFor(() => !away.socket.connected, { what: 'the drop' });
      await waitFor(async () => (await redisClient.exists(`herald:session:${pid}`)) === 1, {
        what: 'the session stored',
      });
      const missed = [];
      for (let i = 1; i <= 3; i++)
        missed.push(await publisher.publishToUser(ALICE, 'missed', { i }));

      let socket = away.socket;
      let seen = away.seen;
      if (back === 'other node') {
        // The same client state as a socket.io-client that reconnects through a balancer to n2.
        socket = clientSocket(n2.url, n2.port!, { site: SITE1, sid: 'sid-alice' });
        sockets.push(socket);
        Object.assign(socket, {
          _pid: pid,
          _lastOffset: (away.socket as unknown as { _lastOffset: string })._lastOffset,
        });
        seen = recorder(socket);
      }
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
        socket.connect();
      });
      assert.equal(socket.recovered, true, `recovered (${back})`);
      const after = await publisher.publishToUser(ALICE, 'after', {});
      await waitFor(() => seen.of('after').length === 1, { what: 'an event after the return' });
      const got = seen.events.filter((e) => e.event === 'missed' || e.event === 'after');
      assert.deepEqual(
        got,
        [
          ...missed.map((m, i) => ({
            event: 'missed',
            args: [{ i: i + 1 }],
            offset: m.entryId,
          })),
          { event: 'after', args: [{}], offset: after.entryId },
        ],
        `each missed event once, in order, then the next (${back})`,
      );
      socket.disconnect();
      away.socket.disconnect();
    }
  });

  test('herald publish --cluster-stream: written to the stream, received with the entry id it prints', async () => {
    const alice = await connect(n2, 'sid-alice');
    await warmUp(alice.seen);
    const proc = runHerald([
      'publish',
      '--site',
      SITE1,
      '--user',
      ALICE,
      '--event',
      'from_cli',
      '--message',
      '{"n": 7}',
      '--cluster-stream',
      stack.redis!.url,
    ]);
    assert.equal(await proc.exited, 0, proc.output());
    const printed = JSON.parse(proc.output()) as { entryId: string };
    assert.match(printed.entryId, /^\d+-\d+$/);
    assert.deepEqual(printed, {
      event: 'from_cli',
      message: { n: 7 },
      room: `user:${ALICE}`,
      namespace: SITE1,
      entryId: printed.entryId,
    });
    await waitFor(() => alice.seen.of('from_cli').length === 1, { what: 'the event' });
    assert.deepEqual(
      alice.seen.events.find((e) => e.event === 'from_cli'),
      {
        event: 'from_cli',
        args: [{ n: 7 }],
        offset: printed.entryId,
      },
    );
    alice.socket.disconnect();
  });

  test('herald publish: --cluster-prefix without --cluster-stream, or two transports, exit 2', async () => {
    const target = ['--site', SITE1, '--room', 'r', '--event', 'e'];
    const cases: [string[], RegExp][] = [
      [[...target, '--redis', 'redis://x', '--cluster-stream', 'redis://x'], /give one transport/],
      [[...target, '--redis', 'redis://x', '--cluster-prefix', 'p'], /go with --cluster-stream/],
      [
        [...target, '--cluster-stream', 'redis://x', '--cluster-stream-length', '5'],
        /--cluster-stream-length: an integer from 1000/,
      ],
    ];
    await Promise.all(
      cases.map(async ([args, pattern]) => {
        const proc = runHerald(['publish', ...args]);
        assert.equal(await proc.exited, 2, args.join(' '));
        assert.match(proc.output(), pattern);
      }),
    );
  });

  // Last: it restarts the test's Redis.
  test('with retry, publishes made while Redis is down reach the socket once each, in order, when it is back', async () => {
    const alice = await connect(stack.herald, 'sid-alice');
    await warmUp(alice.seen);
    const held = createPublisher({
      site: SITE1,
      cluster: { redis: stack.redis!.url },
      retry: { maxQueued: 1000, maxAgeMs: 30_000 },
    });
    try {
      await stack.redis!.kill();
      const sent = [1, 2, 3].map((i) => held.publishToUser(ALICE, 'held', { i }));
      await waitFor(() => held.stats().queued === 3, { what: 'three publishes held' });
      await stack.redis!.start();
      const written = await Promise.all(sent);
      await waitFor(() => alice.seen.of('held').length >= 3, {
        timeoutMs: 20_000,
        what: 'the held events, once Redis and the node are back',
      });
      const marker = await held.publishToUser(ALICE, 'marker_after', {});
      await waitFor(() => alice.seen.of('marker_after').length === 1, { what: 'a later event' });
      assert.deepEqual(
        alice.seen.events.filter((e) => e.event === 'held'),
        written.map((m, i) => ({ event: 'held', args: [{ i: i + 1 }], offset: m.entryId })),
        'each once, in order, with its entry id',
      );
      assert.equal(alice.seen.events.at(-1)?.offset, marker.entryId);
      assert.deepEqual(held.stats(), { published: 4, queued: 0, dropped: 0 });
    } finally {
      await held.close();
      alice.socket.disconnect();
    }
  });
});
