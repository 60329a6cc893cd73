import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { recorder, type Stack, startStack } from './helpers/stack.js';

/** The message the field report saw on `SUBSCRIBE events`, byte for byte (Python's indent=1). */
const FIELD_REPORT_MESSAGE = (site: string) =>
  `{\n "event": "msgprint",\n "message": {\n  "message": "Hello!"\n },\n "namespace": "${site}",\n "room": "user:Administrator"\n}`;

describe('the Redis bridge', () => {
  let stack: Stack;
  let publisher: ReturnType<typeof createClient>;
  before(async () => {
    stack = await startStack({ redis: true });
    publisher = createClient({ url: stack.redis!.url });
    publisher.on('error', () => undefined);
    await publisher.connect();
    await waitFor(() => stack.herald.broker.status().ready, {
      what: 'Herald subscribed to events',
    });
  });
  after(async () => {
    await publisher.quit().catch(() => undefined);
    await stack.close();
  });

  test("the field report's check: PUBLISH events reaches Administrator on that site only", async () => {
    const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const site2Admin = await stack.connect({ site: SITE2, sid: 'sid-site2-admin' });
    const [a, b, c] = [recorder(admin), recorder(alice), recorder(site2Admin)];

    await publisher.publish('events', FIELD_REPORT_MESSAGE(SITE1));
    await waitFor(() => a.of('msgprint').length === 1, { what: 'msgprint for Administrator' });
    assert.deepEqual(a.of('msgprint'), [[{ message: 'Hello!' }]]);

    // A sentinel to every socket after it: once it arrived, the msgprint would have too.
    await publisher.publish(
      'events',
      JSON.stringify({ event: 'sentinel', message: {}, room: null }),
    );
    await waitFor(() => b.of('sentinel').length === 1 && c.of('sentinel').length === 1, {
      what: 'sentinels',
    });
    assert.equal(b.of('msgprint').length, 0, "another user's socket gets nothing");
    assert.equal(c.of('msgprint').length, 0, "another site's Administrator gets nothing");
    for (const s of [admin, alice, site2Admin]) s.disconnect();
  });

  test('a broadcast without a room reaches every site', async () => {
    const one = await stack.connect({ site: SITE1, sid: 'sid-carol' });
    const two = await stack.connect({ site: SITE2, sid: 'sid-dave' });
    const [r1, r2] = [recorder(one), recorder(two)];
    await publisher.publish(
      'events',
      JSON.stringify({ event: 'build_event', message: { success: true } }),
    );
    await waitFor(() => r1.of('build_event').length === 1 && r2.of('build_event').length === 1, {
      what: 'build_event on both sites',
    });
    assert.deepEqual(r1.of('build_event'), [[{ success: true }]]);
    one.disconnect();
    two.disconnect();
  });

  test('malformed, eventless and namespace-less messages are skipped; a good one right after is delivered', async () => {
    const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
    const r = recorder(admin);
    const skippedBefore = { ...stack.herald.router.stats.skipped };
    await publisher.publish('events', '{"event": "msgprint", "message": ');
    await publisher.publish(
      'events',
      JSON.stringify({ message: 'no event', room: 'user:Administrator', namespace: SITE1 }),
    );
    await publisher.publish(
      'events',
      JSON.stringify({ event: 'msgprint', message: 'no namespace', room: 'user:Administrator' }),
    );
    await publisher.publish(
      'events',
      JSON.stringify({
        event: 'connect',
        message: 'reserved',
        room: 'user:Administrator',
        namespace: SITE1,
      }),
    );
    await publisher.publish(
      'events',
      JSON.stringify({
        event: 'msgprint',
        message: 'good',
        room: 'user:Administrator',
        namespace: SITE1,
      }),
    );
    await waitFor(() => r.of('msgprint').length === 1, { what: 'the good message' });
    assert.deepEqual(r.of('msgprint'), [['good']]);
    const skipped = stack.herald.router.stats.skipped;
    assert.equal(skipped.malformed_json - skippedBefore.malformed_json, 1);
    assert.equal(skipped.missing_event - skippedBefore.missing_event, 1);
    assert.equal(skipped.missing_namespace - skippedBefore.missing_namespace, 1);
    assert.equal(skipped.reserved_event - skippedBefore.reserved_event, 1);
    admin.disconnect();
  });

  test('a message written the way Python writes it (indent 1, escaped non-ASCII) arrives equal', async () => {
    const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
    const r = recorder(admin);
    const original = {
      title: 'Grüße — 東京',
      rows: [1, 2.5, null, true],
      nested: { emoji: '🎉' },
      // Frappe may send large messages: 512 KiB of rows.
      bulk: Array.from({ length: 2600 }, (_, i) => ({ i, text: `ligne ${i} ${'é'.repeat(180)}` })),
    };
    const pythonStyle = JSON.stringify(
      { event: 'data', message: original, room: 'user:Administrator', namespace: SITE1 },
      null,
      1,
    ).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    assert.ok(
      [...pythonStyle].every((ch) => ch.charCodeAt(0) < 0x80),
      'the text on the wire is ASCII only',
    );
    await publisher.publish('events', pythonStyle);
    await waitFor(() => r.of('data').length === 1, { what: 'the event' });
    assert.deepEqual(r.of('data')[0], [original]);
    admin.disconnect();
  });

  test('Redis killed and restarted with clients connected: an event published after the restart is delivered', async () => {
    const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
    const r = recorder(admin);
    await stack.redis!.kill();
    await waitFor(() => !stack.herald.broker.status().ready, {
      what: 'Herald to notice Redis is gone',
    });
    await stack.redis!.start();
    await waitFor(() => stack.herald.broker.status().ready, {
      what: 'Herald to resubscribe',
      timeoutMs: 15_000,
    });
    await waitFor(
      async () => {
        await publisher.publish(
          'events',
          JSON.stringify({ event: 'after_restart', message: 1, room: 'all', namespace: SITE1 }),
        );
        return r.of('after_restart').length > 0;
      },
      { what: 'an event after the restart', timeoutMs: 15_000, intervalMs: 200 },
    );
    assert.equal(admin.connected, true, 'the client stayed connected throughout');
    admin.disconnect();
  });
});

describe('the Redis bridge: one data argument', () => {
  test('without recovery, a server-to-client emit carries exactly the message', async () => {
    const stack = await startStack({ redis: true, config: { recoveryWindowMs: 0 } });
    try {
      await waitFor(() => stack.herald.broker.status().ready, { what: 'Herald subscribed' });
      const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
      const args: unknown[][] = [];
      admin.on('msgprint', (...received: unknown[]) => args.push(received));
      const publisher = createClient({ url: stack.redis!.url });
      await publisher.connect();
      await publisher.publish('events', FIELD_REPORT_MESSAGE(SITE1));
      await publisher.publish(
        'events',
        JSON.stringify({ event: 'msgprint', room: 'user:Administrator', namespace: SITE1 }),
      );
      await waitFor(() => args.length === 2, { what: 'two msgprints' });
      assert.deepEqual(
        args,
        [[{ message: 'Hello!' }], [null]],
        'one argument each; a missing message is null',
      );
      await publisher.quit();
    } finally {
      await stack.close();
    }
  });
});

describe('the Redis bridge: Redis absent at start', () => {
  test('the server starts without Redis and picks it up when Redis comes', async () => {
    const redis = await startRedis();
    await redis.stop();
    const stack = await startStack({ config: { redis: redis.url } });
    try {
      assert.equal(stack.herald.broker.status().ready, false);
      await redis.start();
      await waitFor(() => stack.herald.broker.status().ready, {
        what: 'Herald to subscribe',
        timeoutMs: 15_000,
      });
      const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
      const r = recorder(admin);
      const publisher = createClient({ url: redis.url });
      await publisher.connect();
      await publisher.publish(
        'events',
        JSON.stringify({
          event: 'hello',
          message: 'late',
          room: 'user:Administrator',
          namespace: SITE1,
        }),
      );
      await waitFor(() => r.of('hello').length === 1, { what: 'the event' });
      await publisher.quit();
      admin.disconnect();
    } finally {
      await stack.close();
      await redis.stop();
    }
  });
});
