import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPublisher, type RedisClient } from '@herald/publisher';
import { waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { SITE1 } from './helpers/fixtures.js';
import { recorder, startStack } from './helpers/stack.js';

// What a browser sees of `@herald/publisher` (with retry) across a real Redis restart that both
// sides live through: the publisher's connection and Herald's subscription both drop, and each
// comes back on its own backoff. Two publishers run through the same restart: one with the
// client the publisher makes from a URL, one with a caller's client that reconnects every 20 ms,
// so that it is certainly back (and flushing) long before Herald has resubscribed.
describe('the publisher with retry, across a Redis restart that Herald sees too', () => {
  test('a socket gets every event published before, during and after the restart, once each, in order', async (t) => {
    const stack = await startStack({ redis: true });
    const redis = stack.redis!;
    const retry = { maxQueued: 10_000, maxAgeMs: 30_000 };
    const fastClient = createClient({
      url: redis.url,
      socket: { reconnectStrategy: () => 20 },
    }) as RedisClient;
    fastClient.on('error', () => undefined);
    await fastClient.connect();
    const publishers = {
      url: createPublisher({ site: SITE1, redis: redis.url, retry }),
      client: createPublisher({ site: SITE1, redis: fastClient, retry }),
    };
    const streams = Object.keys(publishers) as (keyof typeof publishers)[];
    const sent = { url: [] as Promise<unknown>[], client: [] as Promise<unknown>[] };
    let timer: NodeJS.Timeout | undefined;
    try {
      await waitFor(() => stack.herald.broker.status().ready, { what: 'Herald subscribed' });
      const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
      const r = recorder(admin);

      // A steady stream of events from each, one every 10 ms, as a busy backend sends them.
      timer = setInterval(() => {
        for (const name of streams)
          sent[name].push(publishers[name].publishToAll(`seq_${name}`, sent[name].length));
      }, 10);
      const count = () => sent.url.length;
      await waitFor(() => r.of('seq_url').length >= 20, { what: '20 events before the restart' });

      const killedAtMs = Date.now();
      await redis.kill();
      await waitFor(() => !stack.herald.broker.status().ready, { what: 'Herald to see Redis go' });
      const killedAt = count();
      // About three seconds of publishing with Redis gone.
      await waitFor(() => count() >= killedAt + 300, { what: '300 publishes while down' });
      const restartedAtMs = Date.now();
      await redis.start();
      const upAtMs = Date.now();
      await waitFor(() => stack.herald.broker.status().ready, {
        what: 'Herald to resubscribe',
        timeoutMs: 20_000,
      });
      const resubscribedAt = count();
      const resubscribedAtMs = Date.now();
      await waitFor(() => streams.every((name) => publishers[name].stats().queued < 5), {
        what: 'the held events to go out',
        intervalMs: 5,
      });
      t.diagnostic(
        `Redis down ${restartedAtMs - killedAtMs} ms; Herald resubscribed ${resubscribedAtMs - upAtMs} ms after Redis was back; ${resubscribedAt - killedAt} events per publisher held meanwhile, all out ${Date.now() - upAtMs} ms after Redis was back`,
      );
      await waitFor(() => count() >= resubscribedAt + 30, { what: '30 publishes after' });
      clearInterval(timer);
      timer = undefined;

      for (const name of streams) {
        const results = await Promise.allSettled(sent[name]);
        const failed = results.filter((result) => result.status === 'rejected');
        assert.deepEqual(failed, [], `every publish of the ${name} publisher resolved`);
        await publishers[name].publishToAll(`end_${name}`, null);
      }
      await waitFor(() => streams.every((name) => r.of(`end_${name}`).length === 1), {
        what: 'the end markers',
        timeoutMs: 20_000,
      });

      // What each stream's subscriber-side looks like, side by side, then the exact lists.
      const outcome = (name: keyof typeof publishers) => {
        const received = r.of(`seq_${name}`).map(([n]) => n as number);
        return {
          published: sent[name].length,
          missing: sent[name].filter((_, i) => !received.includes(i)).length,
          duplicated: received.length - new Set(received).size,
          inOrder: received.every((n, i) => i === 0 || n > received[i - 1]!),
        };
      };
      assert.deepEqual(
        streams.map(outcome),
        streams.map((name) => ({
          published: sent[name].length,
          missing: 0,
          duplicated: 0,
          inOrder: true,
        })),
        'every event reached the socket once, in order',
      );
      for (const name of streams) {
        const expected = sent[name].map((_, i) => i);
        assert.deepEqual(
          r.of(`seq_${name}`),
          expected.map((n) => [n]),
        );
        assert.deepEqual(publishers[name].stats(), {
          published: expected.length + 1,
          queued: 0,
          dropped: 0,
        });
      }
      assert.equal(admin.connected, true, 'the socket stayed connected throughout');
    } finally {
      if (timer) clearInterval(timer);
      for (const name of streams) await publishers[name].close();
      await fastClient.quit().catch(() => fastClient.destroy());
      await stack.close();
    }
  });
});
