import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPublisher, type PublishError } from '@herald/publisher';
import { delay, startRedis, startTcpProxy, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { subscribeEvents } from './helpers.js';

const seq = (events: { seen: Record<string, unknown>[] }) =>
  events.seen.filter((m) => m.event === 'seq').map((m) => m.message as number);

/** How many PUBLISH commands Redis has run (INFO commandstats), read on a connection of its own. */
async function publishCalls(url: string) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    count: async () => {
      const info = await client.info('commandstats');
      return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
    },
    close: () => client.quit(),
  };
}

describe('retry: one flush at a time', () => {
  test('publishes made while the buffer flushes reach the subscriber once each, in order', async () => {
    // The publisher reaches Redis through a proxy cut while 2000 publishes pile up; the
    // subscriber stays connected. Once the flush has begun, 50 more publishes arrive.
    const redis = await startRedis();
    const proxy = await startTcpProxy(redis.port);
    const publisher = createPublisher({
      site: 's1',
      redis: `redis://127.0.0.1:${proxy.port}`,
      retry: { maxQueued: 10_000, maxAgeMs: 30_000 },
    });
    const events = await subscribeEvents(redis.url);
    try {
      await publisher.publishToAll('warmup', 0);
      await events.until(1);
      proxy.cut();
      const sent: Promise<unknown>[] = [];
      for (let i = 0; i < 2000; i += 1) sent.push(publisher.publishToAll('seq', i));
      await waitFor(() => publisher.stats().queued === 2000, { what: '2000 queued' });
      proxy.restore();
      await waitFor(() => seq(events).length > 0, {
        what: 'the flush to begin',
        intervalMs: 1,
        timeoutMs: 15_000,
      });
      for (let i = 2000; i < 2050; i += 1) {
        sent.push(publisher.publishToAll('seq', i));
        await delay(1);
      }
      await Promise.all(sent);
      await publisher.publishToAll('end', null);
      await waitFor(() => events.seen.some((m) => m.event === 'end'), { what: 'the end marker' });
      const received = seq(events);
      assert.equal(received.length - new Set(received).size, 0, 'nothing arrived twice');
      assert.deepEqual(
        received,
        Array.from({ length: 2050 }, (_, i) => i),
        'everything, once, in order',
      );
      assert.deepEqual(publisher.stats(), { published: 2052, queued: 0, dropped: 0 });
    } finally {
      await events.close();
      await publisher.close();
      await proxy.close();
      await redis.stop();
    }
  });
});

describe('a publish resolves only once a subscriber of events got it', () => {
  test('without retry, a publish that reached no subscriber rejects with a coded error', async () => {
    const redis = await startRedis();
    const publisher = createPublisher({ site: 's1', redis: redis.url });
    try {
      await assert.rejects(publisher.publishToAll('nobody', {}), (error: PublishError) => {
        assert.equal(error.code, 'HERALD_PUBLISH_NO_SUBSCRIBER');
        assert.match(error.message, /no subscriber of events got it/);
        assert.match(error.hint, /Herald runs with --redis set to this same Redis/);
        return true;
      });
      assert.deepEqual(publisher.stats(), { published: 0, queued: 0, dropped: 0 });
      const events = await subscribeEvents(redis.url);
      await publisher.publishToAll('heard', {});
      await events.until(1);
      await events.close();
    } finally {
      await publisher.close();
      await redis.stop();
    }
  });

  test('with retry, publishes wait for a subscriber, in order, and resolve once it got them', async () => {
    const redis = await startRedis();
    const publisher = createPublisher({
      site: 's1',
      redis: redis.url,
      retry: { maxQueued: 100, maxAgeMs: 30_000 },
    });
    try {
      const settled: number[] = [];
      const sent: Promise<unknown>[] = [0, 1, 2, 3, 4].map((i) =>
        publisher.publishToAll('seq', i).then(() => settled.push(i)),
      );
      await waitFor(() => publisher.stats().queued === 5, { what: '5 held' });
      // Redis is up and nobody listens: the oldest is sent again and again, heard by nobody.
      const calls = await publishCalls(redis.url);
      await waitFor(async () => (await calls.count()) >= 5 + 3, { what: 'three PUBLISHes more' });
      await calls.close();
      assert.equal(settled.length, 0, 'nothing resolved while nobody listened');
      assert.equal(publisher.stats().queued, 5);
      const events = await subscribeEvents(redis.url);
      sent.push(publisher.publishToAll('seq', 5).then(() => settled.push(5)));
      await Promise.all(sent);
      await events.until(6);
      assert.deepEqual(seq(events), [0, 1, 2, 3, 4, 5], 'once each, in order');
      assert.deepEqual(settled, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(publisher.stats(), { published: 6, queued: 0, dropped: 0 });
      await events.close();
    } finally {
      await publisher.close();
      await redis.stop();
    }
  });

  test('with retry, what no subscriber got within maxAgeMs is dropped, counted and rejected', async () => {
    const redis = await startRedis();
    const publisher = createPublisher({
      site: 's1',
      redis: redis.url,
      retry: { maxQueued: 100, maxAgeMs: 300 },
    });
    try {
      const results = await Promise.allSettled(
        [0, 1, 2].map((i) => publisher.publishToAll('seq', i)),
      );
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        const error = (result as PromiseRejectedResult).reason as PublishError;
        assert.equal(error.code, 'HERALD_PUBLISH_NO_SUBSCRIBER');
        assert.match(error.message, /no subscriber of events got it within 300 ms/);
      }
      assert.deepEqual(publisher.stats(), { published: 0, queued: 0, dropped: 3 });
    } finally {
      await publisher.close();
      await redis.stop();
    }
  });
});
