// `herald doctor --redis` against `herald serve --cluster` nodes (real redis-server, real node
// processes, the doctor run as the CLI): the cluster step lists the nodes and names the faults.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startRedis, waitFor } from '@herald/testkit';
import type { RedisClientType } from 'redis';
import { createClient } from 'redis';
import { runHerald } from './helpers/cli.js';
import { type ClusterNodeProcess, startCluster } from './helpers/cluster.js';
import { SITE1 } from './helpers/fixtures.js';

/** As a dev bench runs it: the doctor's socket (Origin 127.0.0.1) is on the default site. */
const DEV = ['--default-site', SITE1];

interface Step {
  name: string;
  status: string;
  detail: string;
  cause?: string;
  fix?: string;
}

/** The doctor as an operator runs it, against `node` and `redisUrl`; its JSON report. */
async function doctor(node: ClusterNodeProcess, redisUrl: string, extra: string[] = []) {
  const cli = runHerald([
    'doctor',
    '--url',
    node.url,
    '--site',
    SITE1,
    '--sid',
    'sid-alice',
    '--redis',
    redisUrl,
    '--json',
    ...extra,
  ]);
  const code = await cli.exited;
  const report = JSON.parse(cli.output()) as { ok: boolean; steps: Step[]; brokenAt?: string };
  const step = (name: string) => report.steps.find((s) => s.name === name);
  return { code, report, cluster: step('cluster')!, redis: step('redis') };
}

/** Until `count` nodes beat, as many are subscribed to events, and one holds the lease. */
async function settled(client: RedisClientType, count: number): Promise<void> {
  await waitFor(
    async () =>
      (await client.zCard('herald:nodes')) === count &&
      ((await client.pubSubNumSub('events')) as Record<string, number>).events === count &&
      (await client.get('herald:{ingest}:lease')) !== null,
    { timeoutMs: 20_000, what: `${count} nodes beating, subscribed and a lease holder` },
  );
}

/** Writes a record for a node `id` that beats now and is up (what a node's heartbeat writes). */
async function fakeNode(client: RedisClientType, id: string, fields: Record<string, string> = {}) {
  const [seconds, micros] = await client.time().then((t) => [Number(t[0]), Number(t[1])]);
  const now = seconds! * 1000 + Math.floor(micros! / 1000);
  await client.zAdd('herald:nodes', { score: now, value: id });
  await client.hSet(`herald:node:${id}`, {
    host: 'ghost-host',
    pid: '1',
    port: '1',
    state: 'up',
    beat: String(now),
    ...fields,
  });
}

describe('herald doctor against a cluster', () => {
  test('a healthy 2-node cluster: the cluster step passes and lists both nodes', async () => {
    const cluster = await startCluster(2, DEV);
    try {
      await settled(cluster.redisClient, 2);
      const {
        code,
        report,
        cluster: step,
        redis,
      } = await doctor(cluster.nodes[0]!, cluster.redis.url);
      assert.equal(code, 0, JSON.stringify(report.steps, null, 1));
      assert.equal(step.status, 'ok');
      assert.match(
        step.detail,
        /^2 node\(s\) under "herald": node1 \([^,]+, up, beat \d+\.\d s ago\), node2 \([^,]+, up, beat \d+\.\d s ago\); 2 subscribed to events; ingest lease held by node[12]$/,
      );
      // The msgprint, published once to events, reaches the socket through the cluster.
      assert.equal(redis!.status, 'ok');
      assert.match(redis!.detail, /2 realtime server\(s\) listening; a msgprint to user:alice/);
      // Another prefix: no cluster there, as for a single-process Herald.
      const other = await doctor(cluster.nodes[0]!, cluster.redis.url, [
        '--cluster-prefix',
        'other',
      ]);
      assert.equal(other.code, 0);
      assert.equal(other.cluster.status, 'skip');
      assert.match(other.cluster.detail, /^no cluster nodes under "other" on this Redis/);
    } finally {
      await cluster.close();
    }
  });

  test('nodes started with different --recovery-window: named with both values', async () => {
    const redis = await startRedis();
    const a = await startCluster(1, [...DEV, '--recovery-window', '60000'], { redis });
    const b = await startCluster(1, [...DEV, '--recovery-window', '90000', '--node-id', 'node2'], {
      redis,
    });
    try {
      await settled(a.redisClient, 2);
      const { code, cluster: step } = await doctor(a.nodes[0]!, redis.url);
      assert.equal(code, 1);
      assert.equal(step.status, 'fail');
      assert.match(
        step.detail,
        /the nodes disagree on recoveryWindowMs \((node1: 60000; node2: 90000|node2: 90000; node1: 60000)\)/,
      );
      assert.match(step.fix!, /same settings/);
    } finally {
      await b.close();
      await a.close();
      await redis.stop();
    }
  });

  test('a live node that is not subscribed to events: "1 of 3 nodes"', async () => {
    const cluster = await startCluster(2, DEV);
    // The fake node's process "lives" (its alive channel is listened on: the sweeper keeps it),
    // but it has no events subscription.
    const alive = cluster.redisClient.duplicate();
    alive.on('error', () => undefined);
    await alive.connect();
    try {
      await settled(cluster.redisClient, 2);
      await alive.subscribe('herald:alive:ghost', () => undefined);
      await fakeNode(cluster.redisClient, 'ghost');
      const { code, cluster: step } = await doctor(cluster.nodes[0]!, cluster.redis.url);
      assert.equal(code, 1);
      assert.equal(step.status, 'fail');
      assert.match(
        step.detail,
        /^1 of 3 nodes are not subscribed to events \(PUBSUB NUMSUB events: 2\); .*ghost \(ghost-host, up, beat/,
      );
      assert.ok(step.cause && step.fix);
    } finally {
      alive.destroy();
      await cluster.close();
    }
  });

  test('the ingest lease held by a node that is not live: named', async () => {
    const cluster = await startCluster(2, DEV);
    try {
      await settled(cluster.redisClient, 2);
      await cluster.redisClient.set('herald:{ingest}:lease', 'ghost:99', { PX: 60_000 });
      const { code, cluster: step } = await doctor(cluster.nodes[0]!, cluster.redis.url);
      assert.equal(code, 1);
      assert.match(
        step.detail,
        /^the ingest lease names ghost \(ghost:99\), which is not a live node/,
      );
    } finally {
      await cluster.close();
    }
  });

  test('live nodes and no lease holder: "events published by the web server are not broadcast"', async () => {
    // A Redis of its own, as a cluster whose nodes all failed to take the lease would leave it:
    // a live node, subscribed to events, and no lease.
    const cluster = await startCluster(1, DEV);
    const other = await startRedis();
    const client = createClient({ url: other.url }) as RedisClientType;
    const subscriber = client.duplicate();
    client.on('error', () => undefined);
    subscriber.on('error', () => undefined);
    try {
      await client.connect();
      await subscriber.connect();
      await subscriber.subscribe('events', () => undefined);
      await fakeNode(client, 'lonely');
      const { code, cluster: step } = await doctor(cluster.nodes[0]!, other.url);
      assert.equal(code, 1);
      assert.match(
        step.detail,
        /^no node holds the ingest lease \(herald:\{ingest\}:lease is missing\) while 1 node\(s\) are live: events published by the web server are not broadcast$/,
      );
    } finally {
      subscriber.destroy();
      client.destroy();
      await other.stop();
      await cluster.close();
    }
  });
});
