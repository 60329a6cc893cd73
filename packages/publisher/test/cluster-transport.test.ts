/**
 * The cluster transport on a real redis-server: what it writes to the cluster's stream, what it
 * refuses, and what it does while Redis is away. What a Herald node makes of the entries (a
 * socket receives them once, with the entry id as offset, and gets them back after a drop) is in
 * packages/server/test/publisher-cluster.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { serializeEventMessage } from '@herald/protocol';
import { createPublisher, type PublishError } from '@herald/publisher';
import { startRedis, type TestRedis, waitFor } from '@herald/testkit';
import { createClient } from 'redis';

const SITE = 'site1.local';
const STREAM = 'herald:{ingest}:stream';

/** A client of the test's Redis, for the test's own looks at the stream. */
async function looker(url: string) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

const badArgument = (pattern: RegExp) => (error: PublishError) => {
  assert.equal(error.code, 'HERALD_PUBLISH_BAD_ARGUMENT');
  assert.match(error.message, pattern);
  return true;
};

describe('the entry it writes', () => {
  let redis: TestRedis;
  let look: Awaited<ReturnType<typeof looker>>;
  before(async () => {
    redis = await startRedis();
    look = await looker(redis.url);
  });
  after(async () => {
    await look.quit();
    await redis.stop();
  });

  test("one XADD per publish, in the streams adapter's entry format, resolving with the entry id", async () => {
    const publisher = createPublisher({ site: SITE, cluster: { redis: redis.url } });
    try {
      const sent = await publisher.publishToUser('alice@example.com', 'msgprint', {
        message: 'Saved',
        n: 1,
      });
      assert.match(sent.entryId ?? '', /^\d+-\d+$/);
      const entries = await look.xRange(STREAM, '-', '+');
      assert.equal(entries.length, 1);
      const [entry] = entries;
      assert.equal(entry!.id, sent.entryId, 'the id it resolved with is the entry written');
      // The raw text a Frappe-format publish puts on `events`: the content id is taken of it.
      const raw = serializeEventMessage({
        event: 'msgprint',
        message: { message: 'Saved', n: 1 },
        room: 'user:alice@example.com',
        namespace: SITE,
      });
      const hid = createHash('sha1').update(raw).digest('base64url').slice(0, 16);
      assert.deepEqual(
        { ...entry!.message },
        {
          uid: 'emitter',
          nsp: `/${SITE}`,
          type: '3',
          data: JSON.stringify({
            packet: { type: 2, data: ['msgprint', { message: 'Saved', n: 1 }] },
            opts: { rooms: ['user:alice@example.com'], except: [], flags: { hid } },
          }),
        },
      );
      const { entryId: _, ...message } = sent;
      assert.deepEqual(message, {
        event: 'msgprint',
        message: { message: 'Saved', n: 1 },
        room: 'user:alice@example.com',
        namespace: SITE,
      });
      assert.deepEqual(publisher.stats(), { published: 1, queued: 0, dropped: 0 });
    } finally {
      await publisher.close();
    }
  });

  test('the prefix names the stream; the XADD trims it to about streamLength entries', async () => {
    const publisher = createPublisher({
      site: SITE,
      cluster: { redis: redis.url, prefix: 'other', streamLength: 1000 },
    });
    try {
      const sent = await Promise.all(
        Array.from({ length: 3000 }, (_, i) => publisher.publishToRoom('r', 'seq', i)),
      );
      const ids = sent.map((m) => m.entryId!);
      assert.deepEqual(
        [...ids].sort((a, b) => {
          const [am, as] = a.split('-').map(Number);
          const [bm, bs] = b.split('-').map(Number);
          return am! - bm! || as! - bs!;
        }),
        ids,
        'entry ids in publish order',
      );
      const length = await look.xLen('other:{ingest}:stream');
      // MAXLEN ~ trims whole nodes of the stream (100 entries each by default).
      assert.ok(length >= 1000 && length < 1200, `about 1000 entries kept (${length})`);
      const [last] = await look.xRevRange('other:{ingest}:stream', '+', '-', { COUNT: 1 });
      assert.equal(last!.id, ids.at(-1));
    } finally {
      await publisher.close();
    }
  });

  test('a room-less event is refused, naming the events channel; nothing is written', async () => {
    const publisher = createPublisher({ site: SITE, cluster: { redis: redis.url, prefix: 'rl' } });
    try {
      await assert.rejects(
        publisher.send({ event: 'build', message: {}, room: null, namespace: SITE }),
        badArgument(/room-less event .* publish it on the events channel instead/),
      );
      assert.equal(await look.exists('rl:{ingest}:stream'), 0);
      assert.deepEqual(publisher.stats(), { published: 0, queued: 0, dropped: 0 });
    } finally {
      await publisher.close();
    }
  });

  test('what Herald would skip is refused before anything is written', async () => {
    const publisher = createPublisher({
      site: SITE,
      cluster: { redis: redis.url, prefix: 'bad', maxMessageBytes: 2048 },
      retry: { maxQueued: 10, maxAgeMs: 10_000 },
    });
    let deep: unknown = 1;
    for (let i = 0; i < 80; i++) deep = [deep];
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    try {
      await assert.rejects(publisher.publishToRoom('r', 'connect', {}), badArgument(/reserved/));
      await assert.rejects(
        publisher.publishToRoom('r', 'big', 'x'.repeat(3000)),
        badArgument(/over maxMessageBytes \(2048/),
      );
      await assert.rejects(publisher.publishToRoom('r', 'deep', deep), badArgument(/64 levels/));
      await assert.rejects(publisher.publishToRoom('r', 'cycle', cycle), badArgument(/JSON/));
      await assert.rejects(
        publisher.send({ event: 'e', message: {}, room: 'r' }),
        badArgument(/namespace/),
      );
      assert.equal(await look.exists('bad:{ingest}:stream'), 0);
      assert.deepEqual(publisher.stats(), { published: 0, queued: 0, dropped: 0 });
    } finally {
      await publisher.close();
    }
  });

  test('settings that do not fit a node are refused at creation', () => {
    assert.throws(
      () => createPublisher({ site: SITE, cluster: { redis: redis.url, prefix: 'a b' } }),
      badArgument(/--cluster-prefix/),
    );
    assert.throws(
      () => createPublisher({ site: SITE, cluster: { redis: redis.url, streamLength: 10 } }),
      badArgument(/--cluster-stream-length: an integer from 1000/),
    );
    assert.throws(
      () => createPublisher({ site: SITE, cluster: {} as never }),
      badArgument(/cluster needs \{ redis \}/),
    );
    assert.throws(
      () =>
        createPublisher({ site: SITE, redis: redis.url, cluster: { redis: redis.url } } as never),
      badArgument(/give one of redis, http and cluster, not redis and cluster/),
    );
  });
});

describe('Redis unavailable', () => {
  test('without retry, a publish rejects promptly with the coded error naming the stream', async () => {
    const redis = await startRedis();
    await redis.kill();
    const publisher = createPublisher({ site: SITE, cluster: { redis: redis.url } });
    try {
      const started = Date.now();
      await assert.rejects(publisher.publishToRoom('r', 'e', {}), (error: PublishError) => {
        assert.equal(error.code, 'HERALD_PUBLISH_REDIS_UNAVAILABLE');
        assert.match(error.message, /cannot add to the cluster stream herald:\{ingest\}:stream/);
        return true;
      });
      assert.ok(Date.now() - started < 5000, 'within the connect timeout');
    } finally {
      await publisher.close();
    }
  });

  test('with retry, publishes wait for Redis, in order, and are written once each when it is back', async () => {
    const redis = await startRedis();
    const publisher = createPublisher({
      site: SITE,
      cluster: { redis: redis.url },
      retry: { maxQueued: 100, maxAgeMs: 30_000 },
    });
    try {
      await publisher.publishToRoom('r', 'seq', 0);
      await redis.kill();
      const settled: number[] = [];
      const sent = [1, 2, 3, 4, 5].map((i) =>
        publisher.publishToRoom('r', 'seq', i).then((m) => {
          settled.push(i);
          return m;
        }),
      );
      await waitFor(() => publisher.stats().queued === 5, { what: '5 held' });
      assert.deepEqual(settled, []);
      await redis.start();
      const done = await Promise.all(sent);
      assert.deepEqual(settled, [1, 2, 3, 4, 5]);
      const look = await looker(redis.url);
      // Redis came back empty (no persistence): the stream holds what was held, once, in order.
      const entries = await look.xRange(STREAM, '-', '+');
      await look.quit();
      assert.deepEqual(
        entries.map(
          (e) => (JSON.parse(e.message.data!) as { packet: { data: unknown[] } }).packet.data,
        ),
        [1, 2, 3, 4, 5].map((i) => ['seq', i]),
      );
      assert.deepEqual(
        entries.map((e) => e.id),
        done.map((m) => m.entryId),
      );
      assert.deepEqual(publisher.stats(), { published: 6, queued: 0, dropped: 0 });
    } finally {
      await publisher.close();
      await redis.stop();
    }
  });

  test('with retry, what Redis did not take within maxAgeMs is dropped, counted and rejected', async () => {
    const redis = await startRedis();
    await redis.kill();
    const publisher = createPublisher({
      site: SITE,
      cluster: { redis: redis.url },
      retry: { maxQueued: 100, maxAgeMs: 300 },
    });
    try {
      const results = await Promise.allSettled(
        [0, 1, 2].map((i) => publisher.publishToRoom('r', 'seq', i)),
      );
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        const error = (result as PromiseRejectedResult).reason as PublishError;
        assert.equal(error.code, 'HERALD_PUBLISH_BUFFER_FULL');
        assert.match(error.message, /Redis was unreachable for more than 300 ms/);
      }
      assert.deepEqual(publisher.stats(), { published: 0, queued: 0, dropped: 3 });
    } finally {
      await publisher.close();
    }
  });
});
