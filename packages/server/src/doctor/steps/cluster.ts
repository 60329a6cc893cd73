import { createClient } from 'redis';
import { clusterKeys } from '../../cluster/keys.js';
import { NODE_TIMING, nodeKey, nodesKey } from '../../cluster/nodes.js';
import type { StepOutcome } from './step.js';
import { type DoctorStep, fail } from './step.js';

/** The settings every node of a cluster must agree on (cluster/membership.ts writes them). */
export const AGREED_SETTINGS = [
  'recoveryWindowMs',
  'streamLength',
  'maxMessageBytes',
  'adapter',
] as const;

/** One node as its record and the nodes zset tell it. */
export interface NodeView {
  id: string;
  /** The record's fields (empty when the record expired). */
  record: Record<string, string>;
  /** Ms since its last beat, by Redis's clock (0 for a beat in the future: a stopping node). */
  beatAgeMs: number;
}

/** What the doctor read of a cluster on one Redis. */
export interface ClusterView {
  prefix: string;
  nodes: NodeView[];
  /** `PUBSUB NUMSUB events`. */
  subscribers: number;
  /** The ingest lease's value (`<node id>:<epoch>`), if any. */
  lease: string | undefined;
}

/** A node that is up, beating and has a record: it should be subscribed to `events`. */
export const isLive = (node: NodeView): boolean =>
  node.record.state === 'up' && node.beatAgeMs <= NODE_TIMING.deadAfterMs;

const describe = (node: NodeView): string =>
  `${node.id} (${node.record.host ?? '?'}, ${node.record.state ?? 'no record'}, beat ${(node.beatAgeMs / 1000).toFixed(1)} s ago)`;

/** The verdict on a cluster (pure): a StepOutcome, or a throw from `fail`. */
export function judgeCluster(view: ClusterView): StepOutcome {
  const { nodes, prefix } = view;
  const listed = nodes.map(describe).join(', ');
  const live = nodes.filter(isLive);
  const seen = `${nodes.length} node(s) under "${prefix}": ${listed}`;
  if (live.length === 0) {
    return { status: 'warn', detail: `${seen}; none is up and beating` };
  }
  if (view.subscribers < live.length) {
    const missing = live.length - view.subscribers;
    fail(
      `${missing} of ${live.length} nodes are not subscribed to events (PUBSUB NUMSUB events: ${view.subscribers}); ${seen}`,
      "a node that is up but not subscribed neither sees the web server's events nor can take the ingest lease: its Redis connection for SUBSCRIBE is down, or it listens on another Redis than --redis",
      "look for Redis errors in those nodes' logs and restart them with the same --redis as the web server",
    );
  }
  const liveIds = new Set(
    nodes
      .filter((n) => n.record.state !== 'stopped' && n.beatAgeMs <= NODE_TIMING.deadAfterMs)
      .map((n) => n.id),
  );
  if (view.lease === undefined) {
    fail(
      `no node holds the ingest lease (${clusterKeys(prefix).lease} is missing) while ${live.length} node(s) are live: events published by the web server are not broadcast`,
      'every node failed to take the lease: their events subscription is down, or they cannot write to Redis (read-only replica, maxmemory, ACL)',
      "check the nodes' logs for lease and Redis errors; /health/ready on each node names its ingest state",
    );
  }
  const holder = view.lease!.slice(0, view.lease!.lastIndexOf(':'));
  if (!liveIds.has(holder)) {
    fail(
      `the ingest lease names ${holder} (${view.lease}), which is not a live node: events published by the web server are not broadcast until it expires`,
      'the holder stopped or is paused (a frozen process, a VM stall) without giving the lease up, or a node of another cluster with the same --cluster-prefix holds it',
      `wait for the lease's TTL; if it stays, look for a process with --node-id ${holder} on this Redis and stop it, or give each cluster its own --cluster-prefix`,
    );
  }
  for (const setting of AGREED_SETTINGS) {
    const values = new Map<string, string[]>();
    for (const node of nodes.filter((n) => liveIds.has(n.id))) {
      const value = node.record[setting];
      if (value === undefined) continue;
      values.set(value, [...(values.get(value) ?? []), node.id]);
    }
    if (values.size > 1) {
      const which = [...values].map(([value, ids]) => `${ids.join(', ')}: ${value}`).join('; ');
      fail(
        `the nodes disagree on ${setting} (${which})`,
        'the nodes were started with different settings (a config file or flag changed on some machines only, or a rolling upgrade not finished)',
        'start every node of the cluster with the same settings, then restart the odd ones',
      );
    }
  }
  return {
    status: 'ok',
    detail: `${seen}; ${view.subscribers} subscribed to events; ingest lease held by ${holder}`,
  };
}

/** Reads the nodes, their records, the lease and the subscribers of `events`. */
async function readCluster(
  client: ReturnType<typeof createClient>,
  prefix: string,
): Promise<ClusterView> {
  const [seconds, micros] = await client.time().then((t) => [Number(t[0]), Number(t[1])]);
  const now = seconds! * 1000 + Math.floor(micros! / 1000);
  // By id, not by beat: the same order at each run.
  const beats = (await client.zRangeWithScores(nodesKey(prefix), 0, -1)).sort((a, b) =>
    a.value < b.value ? -1 : 1,
  );
  const nodes = await Promise.all(
    beats.map(async ({ value: id, score }) => ({
      id,
      record: await client.hGetAll(nodeKey(prefix, id)),
      beatAgeMs: Math.max(0, now - score),
    })),
  );
  const numsub = (await client.pubSubNumSub('events')) as Record<string, number>;
  const lease = (await client.get(clusterKeys(prefix).lease)) ?? undefined;
  return { prefix, nodes, subscribers: numsub.events ?? 0, lease };
}

/**
 * cluster (with --redis): when `herald serve --cluster` nodes share that Redis, each is up and
 * subscribed to `events`, one of them holds the ingest lease, and they agree on their settings.
 * Skipped for a single-process Herald (no node records there).
 */
export const clusterStep: DoctorStep = {
  name: 'cluster',
  async run({ options, timeoutMs }) {
    if (!options.redis) return { status: 'skip', detail: 'give --redis to check a cluster' };
    const prefix = options.clusterPrefix ?? 'herald';
    const client = createClient({
      url: options.redis,
      socket: { reconnectStrategy: false, connectTimeout: timeoutMs },
    });
    client.on('error', () => undefined);
    try {
      const connected = await client.connect().then(
        () => true,
        () => false,
      );
      // The redis step after this one names the failure, with its fix.
      if (!connected) return { status: 'skip', detail: 'Redis unreachable' };
      const view = await readCluster(client, prefix);
      if (view.nodes.length === 0) {
        return {
          status: 'skip',
          detail: `no cluster nodes under "${prefix}" on this Redis (a single-process Herald${prefix === 'herald' ? '; give --cluster-prefix if the cluster has another' : ''})`,
        };
      }
      return judgeCluster(view);
    } finally {
      client.destroy();
    }
  },
};
