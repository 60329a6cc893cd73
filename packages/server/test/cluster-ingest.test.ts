import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type NodeProcess, runNode, startRedis, type TestRedis, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { contentId, fencedXadd, streamContentIds } from '../src/cluster/ingest.js';
import { fencedXaddMany } from '../src/cluster/lease.js';
import { RecentBuffer } from '../src/cluster/recent-buffer.js';
import type { RedisClient } from '../src/redis/client.js';
import {
  adapterEntry,
  type IngestNode,
  ingestKeys,
  readStream,
  type StreamEntry,
  seqMessage,
  startIngestNode,
} from './helpers/ingest-node.js';
import { logSink } from './helpers/log-sink.js';

// The ingest lease of cluster mode (docs/cluster-design.md 5.5) against a real redis-server:
// nodes, each with its own command client (offline queue off, as Herald's) and its own `events`
// subscriber, hand every message to their Ingest; the holder of the lease writes each once to the
// stream, in the streams adapter's entry format, through the fenced XADD. What a client of the
// cluster would receive is what the stream holds, so the tests read the stream.

const FIXTURE = fileURLToPath(new URL('./fixtures/ingest-node.ts', import.meta.url));

let redis: TestRedis;
let publisher: RedisClient;
let tests = 0;
/** Each test its own keys and channel on the file's Redis. */
const nextPrefix = () => `t${++tests}`;

before(async () => {
  redis = await startRedis();
  publisher = createClient({
    url: redis.url,
    socket: { reconnectStrategy: () => 50 },
  }) as RedisClient;
  publisher.on('error', () => undefined);
  await publisher.connect();
});

after(async () => {
  publisher.destroy();
  await redis.stop();
});

/** Numbered messages published every `everyMs`, every `twiceEvery`-th one twice in a row. */
function startFeed(
  channel: string,
  { everyMs, twiceEvery = 0 }: { everyMs: number; twiceEvery?: number },
) {
  const published: { n: number; at: number }[] = [];
  let next = 0;
  let failures = 0;
  const timer = setInterval(() => {
    const n = next++;
    const copies = twiceEvery > 0 && n % twiceEvery === twiceEvery - 1 ? 2 : 1;
    for (let i = 0; i < copies; i += 1) {
      published.push({ n, at: Date.now() });
      publisher.publish(channel, seqMessage(n)).catch(() => {
        failures += 1;
      });
    }
  }, everyMs);
  return {
    published,
    failures: () => failures,
    stop: () => clearInterval(timer),
  };
}

/** Publishes an end marker and resolves the stream's entries before it, once it is there. */
async function settledStream(channel: string, stream: string): Promise<StreamEntry[]> {
  await publisher.publish(channel, seqMessage(-1, 'end'));
  const entries = await waitFor(
    async () => {
      const all = await readStream(publisher, stream);
      return all.some((entry) => entry.event === 'end') ? all : undefined;
    },
    { what: 'the end marker in the stream', timeoutMs: 15_000 },
  );
  return entries.filter((entry) => entry.event !== 'end');
}

/** The numbers that are missing from / repeated in the stream, compared with what was published. */
function compare(entries: StreamEntry[], published: { n: number }[]) {
  const want = new Map<number, number>();
  for (const { n } of published) want.set(n, (want.get(n) ?? 0) + 1);
  const got = new Map<number, number>();
  for (const { n } of entries) got.set(n, (got.get(n) ?? 0) + 1);
  const lost = [...want].filter(([n, count]) => (got.get(n) ?? 0) < count).map(([n]) => n);
  const repeated = [...got].filter(([n, count]) => count > (want.get(n) ?? 0)).map(([n]) => n);
  return { lost, repeated };
}

/** Every message exactly once (twice if published twice), in the order published. */
function assertExactlyOnceInOrder(entries: StreamEntry[], published: { n: number }[]) {
  const { lost, repeated } = compare(entries, published);
  assert.deepEqual({ lost, repeated }, { lost: [], repeated: [] }, 'nothing lost or repeated');
  assert.deepEqual(
    entries.map((entry) => entry.n),
    published.map((message) => message.n),
    'in the order published',
  );
}

/** The worst time from a publish to its stream entry (same machine: one clock). */
function worstDelay(entries: StreamEntry[], published: { n: number; at: number }[]): number {
  const publishedAt = new Map(published.map(({ n, at }) => [n, at]));
  return Math.max(...entries.map((entry) => entry.ms - (publishedAt.get(entry.n) ?? entry.ms)));
}

async function startNodes(prefix: string, names: string[], options = {}): Promise<IngestNode[]> {
  const nodes: IngestNode[] = [];
  for (const nodeId of names) {
    nodes.push(await startIngestNode({ url: redis.url, nodeId, prefix, ...options }));
  }
  return nodes;
}

const holders = (nodes: IngestNode[]) => nodes.filter((node) => node.ingest.status().holding);

/** Runs the fixture node in a child process; resolves once it is subscribed (and holds, if asked). */
async function startChild(prefix: string, nodeId: string): Promise<NodeProcess> {
  const child = runNode(FIXTURE, [redis.url, nodeId, prefix]);
  await child.waitForOutput(/^lease held acquired$/m);
  return child;
}

describe('the ingest lease', () => {
  // Off: drop `if holder then return ... end` from ACQUIRE (lease.ts): every node takes it.
  test('three nodes fed the same messages put each in the stream exactly once, in order', async (t) => {
    const prefix = nextPrefix();
    const { keys, channel } = ingestKeys(prefix);
    const nodes = await startNodes(prefix, ['a', 'b', 'c']);
    t.after(() => Promise.all(nodes.map((node) => node.close())));
    await waitFor(() => holders(nodes).length === 1, { what: 'a holder' });

    const feed = startFeed(channel, { everyMs: 2 });
    await waitFor(() => feed.published.length >= 500, { what: '500 messages', timeoutMs: 20_000 });
    feed.stop();
    const entries = await settledStream(channel, keys.stream);

    assertExactlyOnceInOrder(entries, feed.published);
    assert.equal(feed.failures(), 0);
    assert.equal(holders(nodes).length, 1, 'still one holder');
    assert.equal(new Set(entries.map((entry) => entry.uid)).size, 1, 'all written by the holder');
    for (const node of nodes) {
      assert.ok(node.ingest.status().buffered >= 500, `${node.nodeId} buffered every message`);
    }
  });

  // Off: skip `counts.set(message.id, count - 1)` (ingest.ts): the second copy of 2 is taken as sent.
  test('a takeover broadcasts from its buffer what the stream lacks: one stream entry per buffered copy', async (t) => {
    const prefix = nextPrefix();
    const { keys } = ingestKeys(prefix);
    const message = (n: number) => ({ id: contentId(seqMessage(n)), raw: seqMessage(n) });
    // An earlier holder ("old", epoch 1) wrote 1, 2 (once) and 3, then went away.
    await publisher.set(keys.lease, 'old:1');
    for (const n of [1, 2, 3]) {
      await fencedXadd(publisher, keys, 'old:1', adapterEntry('old', message(n), 1), 1000);
    }
    await publisher.del(keys.lease);
    await publisher.hSet(keys.epoch, 'epoch', '1');

    // This node heard 0 (which the old holder never wrote), 1, 2 twice (published twice), 3 and 4.
    const [node] = await startNodes(prefix, ['taker'], { start: false });
    t.after(() => node!.close());
    for (const n of [0, 1, 2, 2, 3, 4]) node!.ingest.take(seqMessage(n));
    await node!.ingest.start();
    // Walked through: each of the six either found in the stream or broadcast.
    await waitFor(() => node!.ingest.status().matched + node!.broadcasts.length === 6, {
      what: 'the fill',
    });

    const entries = await readStream(publisher, keys.stream);
    assert.deepEqual(
      entries.map((entry) => `${entry.uid}:${entry.n}`),
      ['old:1', 'old:2', 'old:3', 'taker:0', 'taker:2', 'taker:4'],
    );
    const status = node!.ingest.status();
    assert.deepEqual(
      {
        holding: status.holding,
        epoch: status.epoch,
        filled: status.filled,
        matched: status.matched,
      },
      { holding: true, epoch: 2, filled: 3, matched: 3 },
    );
    assert.deepEqual(
      await streamContentIds(publisher, keys.stream, 0),
      [1, 2, 3, 0, 2, 4].map((n) => message(n).id),
    );
  });

  // Off: LATE_ARRIVAL_MS = 0 (ingest.ts): 1 goes out twice.
  test('a message the old holder wrote that reaches the taker only after it took the lease is not sent again', async (t) => {
    const prefix = nextPrefix();
    const { keys } = ingestKeys(prefix);
    const message = (n: number) => ({ id: contentId(seqMessage(n)), raw: seqMessage(n) });
    // The old holder heard 1 and wrote it just before it let the lease go; the taker's own
    // subscription delivers 1 only after the taker's SET was answered (another connection).
    await publisher.set(keys.lease, 'old:1');
    await fencedXadd(publisher, keys, 'old:1', adapterEntry('old', message(1), 1), 1000);
    await publisher.del(keys.lease);
    const [node] = await startNodes(prefix, ['taker']);
    t.after(() => node!.close());
    await waitFor(() => node!.ingest.status().holding, { what: 'the taker to hold' });
    const heldAt = node!.changes[0]!.at;
    node!.ingest.take(seqMessage(1));
    node!.ingest.take(seqMessage(2));
    await waitFor(() => node!.broadcasts.length >= 1, { what: 'the broadcast of 2' });
    // Published again a while later, 1 is a new message and goes out.
    await waitFor(() => Date.now() - heldAt > 1500, { intervalMs: 50 });
    node!.ingest.take(seqMessage(1));
    await waitFor(() => node!.broadcasts.length >= 2, { what: 'the broadcast of 1' });

    const entries = await readStream(publisher, keys.stream);
    assert.deepEqual(
      entries.map((entry) => `${entry.uid}:${entry.n}`),
      ['old:1', 'taker:2', 'taker:1'],
    );
    assert.equal(node!.ingest.status().matched, 1);
  });

  // Off: no PUBLISH of "released" in #dropLease (ingest.ts): nobody takes over for a minute.
  test('release() under a steady feed: nothing lost or repeated, a follower takes over within milliseconds', async (t) => {
    const prefix = nextPrefix();
    const { keys, channel } = ingestKeys(prefix);
    const sink = logSink();
    const [first] = await startNodes(prefix, ['first'], { logger: sink.logger });
    await waitFor(() => first!.ingest.status().holding, { what: 'the first node to hold' });
    // The followers poll only once a minute: only "released" can make them take over quickly.
    const followers = await startNodes(prefix, ['second', 'third'], {
      ingest: { acquireEveryMs: 60_000 },
    });
    const nodes = [first!, ...followers];
    t.after(() => Promise.all(nodes.map((node) => node.close())));
    await waitFor(() => followers.every((node) => node.ingest.status().listening), {
      what: 'the followers listening for "released"',
    });

    // Every tenth message is published twice (a web process may really send one twice).
    const feed = startFeed(channel, { everyMs: 2, twiceEvery: 10 });
    await waitFor(() => feed.published.length >= 300, { what: '300 messages', timeoutMs: 20_000 });
    const releasedAt = Date.now();
    await first!.ingest.release();
    const releaseMs = Date.now() - releasedAt;
    const taker = await waitFor(() => holders(followers)[0], { what: 'a follower to take over' });
    const handover = taker.changes.at(-1)!.at - releasedAt;
    const countAtRelease = feed.published.length;
    await waitFor(() => feed.published.length >= countAtRelease + 300, { what: '300 more' });
    feed.stop();
    const entries = await settledStream(channel, keys.stream);
    t.diagnostic(
      `release() took ${releaseMs} ms; taken over ${handover} ms after it was called; ${entries.length} entries`,
    );

    assertExactlyOnceInOrder(entries, feed.published);
    assert.ok(handover < 500, `taken over ${handover} ms after release() was called`);
    assert.ok(
      entries.some((entry) => entry.uid === 'first') &&
        entries.some((entry) => entry.uid === taker.nodeId),
      'both wrote',
    );
    assert.equal(first!.ingest.status().holding, false);
    assert.deepEqual(
      first!.changes.map((change) => change.reason),
      ['acquired', 'released'],
    );
    assert.ok(sink.lines.some((line) => line.msg === 'released the ingest lease'));
    assert.equal(await publisher.get(keys.lease), `${taker.nodeId}:${taker.ingest.status().epoch}`);
  });

  // Off: drop the GET check from FENCED_XADD (lease.ts).
  test('a late write with a token the lease no longer holds is refused by Redis', async (t) => {
    const prefix = nextPrefix();
    const { keys } = ingestKeys(prefix);
    const [a] = await startNodes(prefix, ['a']);
    const nodes = [a!];
    t.after(() => Promise.all(nodes.map((node) => node.close())));
    await waitFor(() => a!.ingest.status().holding, { what: 'a to hold' });
    const oldToken = `a:${a!.ingest.status().epoch}`;
    await a!.ingest.release();
    const [b] = await startNodes(prefix, ['b']);
    nodes.push(b!);
    await waitFor(() => b!.ingest.status().holding, { what: 'b to hold' });
    const newToken = `b:${b!.ingest.status().epoch}`;

    const fields = adapterEntry('a', { id: contentId(seqMessage(7)), raw: seqMessage(7) }, 1);
    assert.equal(await fencedXadd(publisher, keys, oldToken, fields, 1000), null);
    assert.equal(await publisher.exists(keys.stream), 0, 'nothing written');
    const id = await fencedXadd(publisher, keys, newToken, fields, 1000);
    assert.match(String(id), /^\d+-\d+$/);
    await publisher.del(keys.lease);
    assert.equal(await fencedXadd(publisher, keys, newToken, fields, 1000), null, 'no lease');
    assert.equal((await readStream(publisher, keys.stream)).length, 1);
    // Several entries in one call (the holder's burst): all of them, in order, or none.
    const entries = [8, 9, 10].map((n) =>
      adapterEntry('b', { id: contentId(seqMessage(n)), raw: seqMessage(n) }, 1),
    );
    await publisher.set(keys.lease, newToken);
    assert.equal(await fencedXaddMany(publisher, keys, oldToken, entries, 1000), null);
    assert.equal((await readStream(publisher, keys.stream)).length, 1, 'none of them written');
    const ids = await fencedXaddMany(publisher, keys, newToken, entries, 1000);
    assert.equal(ids?.length, 3);
    const stream = await readStream(publisher, keys.stream);
    assert.deepEqual(
      stream.slice(1).map((entry) => entry.id),
      ids,
      'the three, in order, after the first',
    );
  });

  // Off: no deadline checks in #tick and #pump (ingest.ts): it holds on through the pause.
  test('a holder that cannot renew stops on its own deadline, without Redis telling it', async (t) => {
    const prefix = nextPrefix();
    const [node] = await startNodes(prefix, ['alone'], {
      ingest: { leaseTtlMs: 1500, renewEveryMs: 500 },
    });
    t.after(() => node!.close());
    await waitFor(() => node!.ingest.status().holding, { what: 'the node to hold' });

    // Redis answers nobody for 4 s: the renews hang, and the lease cannot expire on Redis (expiry
    // is paused too), yet the holder must stop by its own clock, 1300 ms after its last renew.
    const pausedAt = Date.now();
    await publisher.sendCommand(['CLIENT', 'PAUSE', '4000', 'ALL']);
    const stopped = await waitFor(() => node!.changes.find((change) => !change.holding), {
      what: 'the holder to stop',
      timeoutMs: 10_000,
    });
    const after = stopped.at - pausedAt;
    node!.ingest.take(seqMessage(1));
    assert.equal(stopped.reason, 'expired');
    assert.ok(after < 3000, `stopped ${after} ms into a 4000 ms pause`);
    assert.equal(node!.ingest.status().holding, false);
    assert.deepEqual(node!.broadcasts, [], 'nothing broadcast');
    await publisher.sendCommand(['CLIENT', 'UNPAUSE']);
    await waitFor(() => node!.broadcasts.length === 1, {
      what: 'the message, once it holds again',
    });
  });

  // Off: counts from an empty scan (ingest.ts #pump): the taker sends what the child wrote again.
  test('the holder SIGKILLed under a steady feed: nothing lost or repeated, delayed less than TTL + 1 s', async (t) => {
    const prefix = nextPrefix();
    const { keys, channel } = ingestKeys(prefix);
    const child = await startChild(prefix, 'child');
    t.after(() => child.child.kill('SIGKILL'));
    const nodes = await startNodes(prefix, ['b', 'c']);
    t.after(() => Promise.all(nodes.map((node) => node.close())));

    const feed = startFeed(channel, { everyMs: 5, twiceEvery: 10 });
    await waitFor(async () => (await publisher.xLen(keys.stream)) >= 200, {
      what: '200 entries from the child',
    });
    child.child.kill('SIGKILL');
    const killedAt = Date.now();
    await child.exited;
    const publishedAtKill = feed.published.length;
    await waitFor(() => holders(nodes).length === 1, { what: 'a takeover', timeoutMs: 10_000 });
    const takenAt = holders(nodes)[0]!.changes.at(-1)!.at;
    const countAtTakeover = feed.published.length;
    await waitFor(() => feed.published.length >= countAtTakeover + 200, { what: '200 more' });
    feed.stop();
    const entries = await settledStream(channel, keys.stream);
    const delay = worstDelay(entries, feed.published);
    t.diagnostic(
      `taken over ${takenAt - killedAt} ms after the kill; ${countAtTakeover - publishedAtKill} published in between; worst delay ${delay} ms`,
    );

    assertExactlyOnceInOrder(entries, feed.published);
    assert.ok(delay < 3000 + 1000, `worst delay ${delay} ms`);
    assert.ok(countAtTakeover - publishedAtKill > 100, 'messages came in while nobody held it');
  });

  // Off: both the deadline checks (ingest.ts) and the fence (lease.ts); either alone keeps it.
  test('the holder SIGSTOPped past its lease, then SIGCONTed: nothing lost or repeated, nothing written after its deadline', async (t) => {
    const prefix = nextPrefix();
    const { keys, channel } = ingestKeys(prefix);
    const child = await startChild(prefix, 'child');
    t.after(() => child.child.kill('SIGKILL'));
    const nodes = await startNodes(prefix, ['b', 'c']);
    t.after(() => Promise.all(nodes.map((node) => node.close())));

    const feed = startFeed(channel, { everyMs: 5, twiceEvery: 10 });
    await waitFor(async () => (await publisher.xLen(keys.stream)) >= 200, {
      what: '200 entries from the child',
    });
    child.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitFor(() => holders(nodes).length === 1, { what: 'a takeover', timeoutMs: 10_000 });
    // Stopped for 5 s in all, as a long GC pause or a frozen VM would.
    await waitFor(() => Date.now() - stoppedAt >= 5000, { timeoutMs: 10_000, intervalMs: 50 });
    child.child.kill('SIGCONT');
    await child.waitForOutput(/^lease gave up (expired|lost)$/m, 10_000);
    const countAtWake = feed.published.length;
    await waitFor(() => feed.published.length >= countAtWake + 200, { what: '200 more' });
    feed.stop();
    const entries = await settledStream(channel, keys.stream);
    const delay = worstDelay(entries, feed.published);
    t.diagnostic(`child: ${child.output().trim().split('\n').join('; ')}; worst delay ${delay} ms`);

    assertExactlyOnceInOrder(entries, feed.published);
    const firstOther = entries.findIndex((entry) => entry.uid !== 'child');
    assert.ok(firstOther > 0);
    assert.deepEqual(
      entries.slice(firstOther).filter((entry) => entry.uid === 'child'),
      [],
      'the child wrote nothing once another node held the lease',
    );
    assert.ok(delay < 3000 + 1000, `worst delay ${delay} ms`);
  });

  // Off: no #assumeSentBefore on a new generation (ingest.ts #acquire): the last messages before the
  // restart go out again. A retry without delay (and without the subscribed() gate) spins.
  test('Redis killed and restarted on the same port: no crash, no spinning, the lease taken again, nothing sent twice', async (t) => {
    const prefix = nextPrefix();
    const { keys, channel } = ingestKeys(prefix);
    const nodes = await startNodes(prefix, ['a', 'b', 'c']);
    t.after(() => Promise.all(nodes.map((node) => node.close())));
    await waitFor(() => holders(nodes).length === 1, { what: 'a holder' });
    let feed = startFeed(channel, { everyMs: 5 });
    await waitFor(() => feed.published.length >= 200, { what: '200 messages' });
    feed.stop();
    const before = await settledStream(channel, keys.stream);
    assertExactlyOnceInOrder(before, feed.published);

    await redis.kill();
    // Two seconds without Redis: a timer in the process keeps firing and the CPU stays idle.
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 20);
    const cpu = process.cpuUsage();
    const started = Date.now();
    await waitFor(() => Date.now() - started >= 2000, { intervalMs: 50 });
    clearInterval(ticker);
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    t.diagnostic(`Redis down 2 s: ${ticks} ticks of a 20 ms timer, ${Math.round(cpuMs)} ms of CPU`);
    assert.ok(ticks >= 40, `the timer fired ${ticks} times in 2 s`);
    assert.ok(cpuMs < 1000, `${Math.round(cpuMs)} ms of CPU in 2 s`);
    assert.equal(holders(nodes).length, 0, 'nobody holds a lease it cannot renew');

    await redis.start();
    await waitFor(async () => Number((await publisher.pubSubNumSub(channel))[channel]) === 3, {
      what: 'every node subscribed again',
      timeoutMs: 20_000,
    });
    await waitFor(() => holders(nodes).length === 1, { what: 'a holder again', timeoutMs: 10_000 });
    feed = startFeed(channel, { everyMs: 5 });
    await waitFor(() => feed.published.length >= 200, { what: '200 messages after' });
    feed.stop();
    // Redis came back empty: what was delivered before the restart is not broadcast again.
    assertExactlyOnceInOrder(await settledStream(channel, keys.stream), feed.published);
  });

  // Off: overCap = false (recent-buffer.ts).
  test('the buffer keeps the last bufferMs, and never more than its caps', () => {
    const buffer = new RecentBuffer({ maxAgeMs: 1000, maxMessages: 3, maxChars: 10 });
    for (const [raw, at] of [
      ['a', 0],
      ['b', 500],
      ['c', 900],
    ] as const) {
      buffer.push(contentId(raw), raw, at);
    }
    assert.deepEqual([buffer.firstSeq, buffer.endSeq], [0, 3]);
    buffer.push(contentId('d'), 'd', 1400); // a is 1400 ms old, and over the count cap anyway
    assert.deepEqual([buffer.firstSeq, buffer.size], [1, 3]);
    buffer.prune(1600); // b is 1100 ms old
    assert.deepEqual([buffer.firstSeq, buffer.size], [2, 2]);
    buffer.pin = 2; // c unsent: kept past its age...
    buffer.prune(5000);
    assert.deepEqual([buffer.firstSeq, buffer.size, buffer.droppedPinned], [2, 2, 0]);
    buffer.push(contentId('0123456789'), '0123456789', 5000); // ...not past the size cap
    assert.deepEqual([buffer.firstSeq, buffer.chars, buffer.droppedPinned], [4, 10, 2]);
    assert.equal(buffer.at(4)?.raw, '0123456789');
    assert.equal(buffer.at(3), undefined);
    assert.equal(contentId('a'), contentId('a'));
    assert.match(contentId('a'), /^[A-Za-z0-9_-]{16}$/);
  });
});
