import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TtlCache } from '../src/auth/ttl-cache.js';

/** A cache on a clock the test moves. */
function cacheAt(maxEntries: number) {
  const clock = { now: 0 };
  const cache = new TtlCache<string, string>(maxEntries, () => clock.now);
  const put = (key: string, ttlMs = 60_000) =>
    cache.getOrLoad(
      key,
      async () => `value of ${key}`,
      () => ttlMs,
    );
  return { clock, cache, put };
}

describe('TtlCache', () => {
  test('an entry is served until its TTL runs out, then dropped', async () => {
    const { clock, cache, put } = cacheAt(10);
    await put('a', 5_000);
    clock.now = 4_999;
    assert.equal(cache.peek('a'), 'value of a');
    clock.now = 5_000;
    assert.equal(cache.peek('a'), undefined);
    assert.equal(cache.size, 0);
  });

  test('past its size the least recently used entry goes, a hit counting to the second', async () => {
    const { clock, cache, put } = cacheAt(3);
    await put('a');
    await put('b');
    await put('c');
    // Used again a second later, 'a' becomes the most recently used: 'b' goes first.
    clock.now = 1_000;
    assert.equal(cache.peek('a'), 'value of a');
    await put('d');
    assert.equal(cache.peek('b'), undefined);
    assert.equal(cache.size, 3);
    // The order is now c, a, d. A hit on 'a' within a second of its last move leaves it where it
    // is, so the next two entries push out 'c' and then 'a'. (Looking up a missing key moves
    // nothing.)
    clock.now = 1_500;
    assert.equal(cache.peek('a'), 'value of a');
    await put('e');
    await put('f');
    assert.equal(cache.peek('c'), undefined);
    assert.equal(cache.peek('a'), undefined);
    assert.equal(cache.size, 3);
  });

  test('concurrent loads of one key share one call; a failed load is not kept', async () => {
    const { cache } = cacheAt(10);
    let calls = 0;
    const load = async () => {
      calls += 1;
      if (calls === 1) throw new Error('backend down');
      return 'ok';
    };
    const failed = await Promise.allSettled([
      cache.getOrLoad('k', load, () => 1_000),
      cache.getOrLoad('k', load, () => 1_000),
    ]);
    assert.deepEqual(
      failed.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(calls, 1);
    assert.equal(await cache.getOrLoad('k', load, () => 1_000), 'ok');
    assert.equal(await cache.getOrLoad('k', load, () => 1_000), 'ok');
    assert.equal(calls, 2);
  });

  test('a value whose TTL is 0 is returned but not kept', async () => {
    const { cache } = cacheAt(10);
    assert.equal(
      await cache.getOrLoad(
        'k',
        async () => 'v',
        () => 0,
      ),
      'v',
    );
    assert.equal(cache.size, 0);
  });
});
