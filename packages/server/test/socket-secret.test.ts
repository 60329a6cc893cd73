import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type TestRedis } from '@herald/testkit';
import { createClient } from 'redis';
import { RedisSocketSecret, SOCKET_SECRET_KEY } from '../src/auth/socket-secret.js';
import type { RedisClient } from '../src/redis/client.js';

describe('the socket secret read from Redis', () => {
  let redis: TestRedis;
  let client: RedisClient;
  before(async () => {
    redis = await startRedis();
    client = createClient({ url: redis.url }) as RedisClient;
    await client.connect();
  });
  after(async () => {
    await client.quit();
    await redis.stop();
  });

  /** GET commands Redis has served so far. */
  const gets = async () => {
    const stats = await client.info('commandstats');
    return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  };

  test('reads made at the same time share one GET; later reads see a new value', async () => {
    await client.set(SOCKET_SECRET_KEY, 'first');
    const secret = new RedisSocketSecret(client);
    const before = await gets();
    const values = await Promise.all(Array.from({ length: 20 }, () => secret.get()));
    assert.deepEqual(new Set(values), new Set(['first']));
    // One GET served the whole burst.
    assert.equal((await gets()) - before, 1);
    await client.set(SOCKET_SECRET_KEY, 'second');
    assert.equal(await secret.get(), 'second');
  });

  test('a fresh read is a GET of its own, even while another is under way', async () => {
    await client.set(SOCKET_SECRET_KEY, 'third');
    const secret = new RedisSocketSecret(client);
    const before = await gets();
    const [shared, fresh] = await Promise.all([secret.get(), secret.get({ fresh: true })]);
    assert.equal(shared, 'third');
    assert.equal(fresh, 'third');
    assert.equal((await gets()) - before, 2);
  });
});
