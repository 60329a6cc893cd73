/**
 * Every Redis key and channel of a cluster, in one place. The stream, the lease and its epoch
 * share one hash tag (`{ingest}`), so they are in one slot of a Redis Cluster and one Lua script
 * may touch them together; a site's keys share the site's tag.
 */
export interface ClusterKeys {
  prefix: string;
  /** The streams adapter's one stream: every broadcast of every namespace. */
  stream: string;
  /** Prefix of the adapter's request channels (`<prefix>#<nsp>#`). */
  channelPrefix: string;
  /** Prefix of stored sessions (`<prefix>:session:<pid>`). */
  sessionKeyPrefix: string;
  lease: string;
  epoch: string;
  /** Where a holder that gives the lease up says so. */
  leaseReleased: string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    prefix,
    stream: `${prefix}:{ingest}:stream`,
    channelPrefix: prefix,
    sessionKeyPrefix: `${prefix}:session:`,
    lease: `${prefix}:{ingest}:lease`,
    epoch: `${prefix}:{ingest}:epoch`,
    leaseReleased: `${prefix}:lease`,
  };
}
