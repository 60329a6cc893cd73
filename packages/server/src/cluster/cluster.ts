import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { RedisPresence } from '../presence/redis.js';
import { redactUrl } from '../redis/client.js';
import { type ClusterAdapter, createClusterAdapter } from './adapter.js';
import { type ClusterKeys, clusterKeys } from './keys.js';
import { defaultNodeId } from './node-id.js';
import { type ClusterRedis, createClusterRedis } from './redis.js';

/** One node of a cluster: its id, its Redis, its adapter. */
export interface ClusterNode {
  readonly nodeId: string;
  readonly keys: ClusterKeys;
  readonly redis: ClusterRedis;
  readonly adapter: ClusterAdapter;
  /** Who views which document, on every node (presence/redis.ts). */
  readonly presence: RedisPresence;
  /** What health reports of the cluster. */
  status(): { node: string; redis: boolean };
  /** After Socket.IO has closed (which stores every socket's session): sessions, then Redis. */
  close(): Promise<void>;
}

/** The Redis of the cluster: --cluster-redis (several: a Redis Cluster's nodes), else --redis. */
export function clusterRedisUrls(config: Config): string[] {
  if (config.clusterRedis.length > 0) return config.clusterRedis;
  return config.redis ? [config.redis] : [];
}

/** Connects this node to the cluster's Redis and makes its adapter (before Socket.IO is made). */
export async function startClusterNode(
  config: Config,
  logger: Logger,
  metrics: () => Metrics | undefined,
): Promise<ClusterNode> {
  const urls = clusterRedisUrls(config);
  if (urls.length === 0)
    throw new Error('cluster mode without Redis (the configuration check lets none through)');
  const nodeId = config.nodeId ?? defaultNodeId();
  const keys = clusterKeys(config.clusterPrefix);
  const redis = createClusterRedis(urls, keys.stream, logger);
  const connected = await redis.connect(5000);
  if (!connected) {
    logger.warn(
      { redis: urls.map(redactUrl), node: nodeId },
      "the cluster's Redis is not reachable yet: this node starts, and delivers only to its own sockets until it is",
    );
  }
  const adapter = createClusterAdapter({
    redis,
    keys,
    streamLength: config.clusterStreamLength,
    recoveryWindowMs: config.recoveryWindowMs,
    logger,
    metrics,
  });
  logger.info(
    {
      node: nodeId,
      redis: urls.map(redactUrl),
      redisCluster: redis.sharded,
      prefix: keys.prefix,
      stream: keys.stream,
    },
    'cluster mode: this node shares events, sessions and rooms with every node on this Redis',
  );
  const presence = new RedisPresence({
    client: redis.commands,
    node: nodeId,
    prefix: keys.prefix,
    logger,
  });
  return {
    nodeId,
    keys,
    redis,
    adapter,
    presence,
    status: () => ({ node: nodeId, redis: redis.state.ready }),
    async close() {
      await adapter.stored();
      await presence.close();
      await redis.close();
    },
  };
}
