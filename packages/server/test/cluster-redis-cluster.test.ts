/**
 * Cluster mode on a Redis Cluster (`--cluster-redis` with several URLs): the stream, sessions and
 * requests on three real masters, sharded pub/sub for the adapter's requests; `events` stays on
 * `--redis`, as Frappe's redis_queue.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRedisCluster, type TestRedisCluster, waitFor } from '@herald/testkit';
import { createCluster } from 'redis';
import { CHAT_HANDLERS, startCluster, type TestCluster } from './helpers/cluster.js';
import { SITE1 } from './helpers/fixtures.js';
import type { ClientSocket } from './helpers/stack.js';

let redisCluster: TestRedisCluster;
let cluster: TestCluster;
let shards: ReturnType<typeof createCluster>;

before(async () => {
  redisCluster = await startRedisCluster(3);
  cluster = await startCluster(2, [
    '--handlers',
    `chat=${CHAT_HANDLERS}`,
    '--cluster-redis',
    ...redisCluster.urls,
  ]);
  shards = createCluster({ rootNodes: redisCluster.urls.map((url) => ({ url })) });
  shards.on('error', () => undefined);
  await shards.connect();
});
after(async () => {
  shards?.destroy();
  await cluster?.close();
  await redisCluster?.stop();
});

const texts = (socket: ClientSocket) => {
  const seen: string[] = [];
  socket.on('chat_message', (message: { text: string }) => seen.push(message.text));
  return seen;
};

test('on a Redis Cluster: room emits cross nodes, participants are cluster-wide, and a client moved to the other node is recovered', async () => {
  const [n1, n2] = cluster.nodes;
  const alice = await cluster.connect(n1!, { site: SITE1, sid: 'sid-alice' });
  const bob = await cluster.connect(n2!, { site: SITE1, sid: 'sid-bob' });
  for (const s of [alice, bob]) await s.timeout(5000).emitWithAck('chat_join', 'rc-1');
  const bobSeen = texts(bob);
  const aliceSeen = texts(alice);
  await alice.timeout(5000).emitWithAck('chat_say', 'rc-1', 'one');
  await waitFor(() => bobSeen.includes('one'), { what: 'the message on the other node' });
  const who = (await bob.timeout(5000).emitWithAck('who', 'rc-1')) as { user: string }[];
  assert.deepEqual(who.map((p) => p.user).sort(), ['alice@example.com', 'bob@example.com']);
  await waitFor(() => aliceSeen.includes('one'), { what: 'its own message' });

  const { _pid: pid, _lastOffset: offset } = alice as unknown as {
    _pid: string;
    _lastOffset: string;
  };
  (alice.io as unknown as { engine: { close(): void } }).engine.close();
  await waitFor(async () => (await shards.exists(`herald:session:${pid}`)) === 1, {
    what: 'the session stored on the Redis Cluster',
  });
  await bob.timeout(5000).emitWithAck('chat_say', 'rc-1', 'two');
  const back = cluster.socket(n2!, { site: SITE1, sid: 'sid-alice' });
  Object.assign(back, { _pid: pid, _lastOffset: offset });
  const backSeen = texts(back);
  await new Promise<void>((resolve, reject) => {
    back.once('connect', () => resolve());
    back.once('connect_error', reject);
    back.connect();
  });
  assert.equal(back.recovered, true);
  await waitFor(() => backSeen.includes('two'), { what: 'the missed message' });
  assert.deepEqual(backSeen, ['two']);
  for (const s of [bob, back]) s.disconnect();
});
