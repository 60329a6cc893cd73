import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createPublisher,
  type PublishError,
  type Publisher,
  withTransaction,
} from '@herald/publisher';
import { startRedis, startTcpProxy, type TestRedis } from '@herald/testkit';
import { subscribeEvents } from './helpers.js';

describe('transactions', () => {
  let redis: TestRedis;
  let events: Awaited<ReturnType<typeof subscribeEvents>>;
  let publisher: Publisher;
  before(async () => {
    redis = await startRedis();
    events = await subscribeEvents(redis.url);
    publisher = createPublisher({ site: 's1', redis: redis.url }).withContext({ user: 'bob' });
  });
  after(async () => {
    await publisher.close();
    await events.close();
    await redis.stop();
  });

  test('commit publishes each once (duplicates collapsed), in order', async () => {
    const before = events.seen.length;
    const tx = publisher.transaction();
    const update = {
      event: 'doc_update',
      message: { name: 'TD-1' },
      doctype: 'ToDo',
      docname: 'TD-1',
      afterCommit: true,
    };
    await tx.publishRealtime(update);
    await tx.publishRealtime({
      event: 'list_update',
      message: { doctype: 'ToDo', name: 'TD-1' },
      afterCommit: true,
    });
    await tx.publishRealtime(update);
    assert.equal(tx.pending.length, 2);
    const sent = await tx.commit();
    assert.equal(sent.length, 2);
    await events.until(before + 2);
    assert.deepEqual(
      events.seen.slice(before).map((m) => [m.event, m.room]),
      [
        ['doc_update', 'doc:ToDo/TD-1'],
        ['list_update', 'doctype:ToDo'],
      ],
    );
    await assert.rejects(
      tx.publishRealtime(update),
      (error: PublishError) => error.code === 'HERALD_PUBLISH_TRANSACTION_CLOSED',
    );
  });

  test('duplicates are found by value: the same message with its keys in another order goes out once', async () => {
    // As upstream, where `[event, message, room] not in frappe.local.realtime_log` compares dicts
    // by value; arrays keep their order, and values of another type are other messages.
    const before = events.seen.length;
    const tx = publisher.transaction();
    const send = (message: unknown) =>
      tx.publishRealtime({
        event: 'doc_update',
        message,
        room: 'doc:ToDo/TD-3',
        afterCommit: true,
      });
    await send({ name: 'TD-3', changes: { status: 'Closed', owner: 'bob', tags: ['a', 'b'] } });
    await send({ changes: { tags: ['a', 'b'], owner: 'bob', status: 'Closed' }, name: 'TD-3' });
    await send({ name: 'TD-3', changes: { status: 'Closed', owner: 'bob', tags: ['b', 'a'] } });
    await send({
      name: 'TD-3',
      changes: { status: 'Closed', owner: 'bob', tags: ['a', 'b'], n: 1 },
    });
    await send({
      name: 'TD-3',
      changes: { status: 'Closed', owner: 'bob', tags: ['a', 'b'], n: '1' },
    });
    assert.equal(tx.pending.length, 4, 'the reordered copy collapsed, the rest did not');
    await tx.commit();
    await publisher.publishToRoom('marker', 'marker', 2);
    await events.until(before + 5);
    const sent = events.seen.slice(before);
    assert.equal(sent.filter((m) => m.event === 'doc_update').length, 4);
    assert.equal(sent.at(-1)!.event, 'marker', 'nothing else came after the commit');
    assert.deepEqual(
      sent[0]!.message,
      {
        name: 'TD-3',
        changes: { status: 'Closed', owner: 'bob', tags: ['a', 'b'] },
      },
      'the first of the equal ones is the one sent',
    );
  });

  test('rollback publishes nothing; a task publish bypasses the queue', async () => {
    const before = events.seen.length;
    await assert.rejects(
      withTransaction(publisher, async (tx) => {
        await tx.publishRealtime({
          event: 'doc_update',
          message: {},
          doctype: 'ToDo',
          docname: 'TD-2',
          afterCommit: true,
        });
        await tx.publishRealtime({
          event: 'task_progress',
          message: { percent: 5 },
          taskId: 'job-7',
          afterCommit: true,
        });
        throw new Error('the database rolled back');
      }),
      /the database rolled back/,
    );
    await publisher.publishToRoom('marker', 'marker', 1);
    await events.until(before + 2);
    assert.deepEqual(
      events.seen.slice(before).map((m) => m.event),
      ['task_progress', 'marker'],
      'only the task publish went out',
    );
  });

  test('afterCommit outside a transaction is a clear error', async () => {
    await assert.rejects(
      publisher.publishRealtime({ event: 'x', afterCommit: true }),
      (error: PublishError) => {
        assert.equal(error.code, 'HERALD_PUBLISH_BAD_ARGUMENT');
        assert.match(error.message, /afterCommit needs a transaction/);
        return true;
      },
    );
  });

  test('bad arguments are named', async () => {
    await assert.rejects(
      publisher.publishRealtime({ event: 42 as unknown as string }),
      /event must be a string \(got number\)/,
    );
    await assert.rejects(
      publisher.publishRealtime({ event: 'x', docname: {} as unknown as string }),
      /docname must be a string or a number/,
    );
    await assert.rejects(
      publisher.publishProgress({ percent: Number.NaN }),
      /percent must be a number/,
    );
    assert.throws(
      () => createPublisher({ site: '', redis: redis.url }),
      /site must be the site name/,
    );
  });

  test('a message written with non-ASCII text and 512 KiB of payload arrives equal', async () => {
    const before = events.seen.length;
    const message = {
      title: 'Grüße — 東京 🎉',
      rows: Array.from({ length: 4096 }, (_, i) => ({ i, text: `row ${i} ${'é'.repeat(100)}` })),
    };
    assert.ok(JSON.stringify(message).length > 512 * 1024);
    await publisher.publishToUser('bob', 'big', message);
    await events.until(before + 1);
    assert.deepEqual(events.seen[before]!.message, message);
  });
});

describe('Redis unavailable', () => {
  test('without retry, a publish rejects promptly with a coded error', async () => {
    const redis = await startRedis();
    await redis.stop();
    const publisher = createPublisher({ site: 's1', redis: redis.url });
    const started = Date.now();
    await assert.rejects(publisher.publishToAll('x', {}), (error: PublishError) => {
      assert.equal(error.code, 'HERALD_PUBLISH_REDIS_UNAVAILABLE');
      assert.match(
        error.message,
        new RegExp(`cannot publish to Redis \\(redis://127.0.0.1:${redis.port}\\)`),
      );
      assert.ok(error.hint.length > 0);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    await publisher.close();
  });

  test('with retry, a 3-second Redis outage loses nothing and keeps order', async () => {
    // The publisher reaches Redis through a proxy that is cut for 3 seconds; the subscriber that
    // checks what arrives stays connected throughout, so nothing is published before it listens.
    const redis = await startRedis();
    const proxy = await startTcpProxy(redis.port);
    const publisher = createPublisher({
      site: 's1',
      redis: `redis://127.0.0.1:${proxy.port}`,
      retry: { maxQueued: 1000, maxAgeMs: 30_000 },
    });
    const events = await subscribeEvents(redis.url);
    try {
      await publisher.publishToAll('warmup', 0);
      await events.until(1);
      proxy.cut();
      const sending = Array.from({ length: 20 }, (_, i) => publisher.publishToAll('seq', i));
      await new Promise((resolve) => setTimeout(resolve, 3000)); // the outage itself
      proxy.restore();
      await Promise.all(sending);
      await events.until(21);
      assert.deepEqual(
        events.seen.slice(1).map((m) => m.message),
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.equal(publisher.stats().dropped, 0);
      assert.equal(publisher.stats().queued, 0);
    } finally {
      await events.close();
      await publisher.close();
      await proxy.close();
      await redis.stop();
    }
  });

  test('past the buffer limits, messages are dropped, counted and rejected', async () => {
    const redis = await startRedis();
    await redis.stop();
    const publisher = createPublisher({
      site: 's1',
      redis: redis.url,
      retry: { maxQueued: 2, maxAgeMs: 300 },
    });
    const results = await Promise.allSettled(
      [0, 1, 2].map((i) => publisher.publishToAll('seq', i)),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    for (const r of results)
      assert.equal((r as PromiseRejectedResult).reason.code, 'HERALD_PUBLISH_BUFFER_FULL');
    assert.equal(publisher.stats().dropped, 3, 'one did not fit, two grew too old');
    await publisher.close();
  });
});
