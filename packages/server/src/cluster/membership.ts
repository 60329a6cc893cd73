import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { siteNamespaces } from '../namespaces.js';
import type { ViewersChange } from '../presence/presence.js';
import type { RedisPresence } from '../presence/redis.js';
import { docOfRoom } from '../rooms/viewers.js';
import type { HeraldIo } from '../session.js';
import type { ClusterNode } from './cluster.js';
import { broadcastEntry } from './ingest-node.js';
import { Nodes } from './nodes.js';

/** The `uid` of the viewers notices a node writes for others (a node died, or this one is back). */
const PRESENCE_UID = 'presence';

/**
 * This node among the cluster's: its heartbeat and record, who is alive, and, on the lease holder,
 * the sweep of dead nodes. A dead node's viewers are removed and the documents' remaining viewers
 * told, through the stream (the sweeping node need not have the site's namespace, and a client
 * that is away gets it when it recovers).
 */
export async function joinCluster(parts: {
  cluster: ClusterNode;
  presence: RedisPresence;
  io: HeraldIo;
  port: number | string;
  streamLength: number;
  /** Settings that must match on every node, kept in the node's record. */
  settings: Record<string, string | number>;
  logger: Logger;
  metrics: Metrics;
}): Promise<Nodes> {
  const { cluster, logger } = parts;
  const log = logger.child({ component: 'nodes' });
  const announce = (changes: ViewersChange[]) => {
    for (const { site, room, users } of changes) {
      const doc = docOfRoom(room);
      if (!doc) continue;
      cluster.redis.commands
        .xAdd(
          cluster.keys.stream,
          '*',
          broadcastEntry(PRESENCE_UID, site, room, 'doc_viewers', { ...doc, users }, {}),
          { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: parts.streamLength } },
        )
        .catch((error: unknown) =>
          log.warn(
            { err: (error as Error).message, site, room },
            'could not tell viewers of a change',
          ),
        );
    }
  };
  // A connection for SUBSCRIBE: a duplicate of the command client, with its offline queue.
  const subscriber = cluster.redis.commands.duplicate();
  subscriber.on('error', () => undefined);
  await subscriber.connect().catch(() => undefined);
  const nodes = new Nodes({
    client: cluster.redis.commands,
    subscriber,
    id: cluster.nodeId,
    prefix: cluster.keys.prefix,
    info: { port: parts.port },
    extra: () => ({
      sockets: siteNamespaces(parts.io).reduce((sum, nsp) => sum + nsp.sockets.size, 0),
      // The settings every node must agree on (herald doctor compares them across nodes).
      ...parts.settings,
    }),
    presence: parts.presence,
    logger,
    onDead: (node, affected) => {
      log.info(
        { dead: node, documents: affected.length },
        'a node of the cluster is gone; its viewers were removed',
      );
      announce(affected);
    },
    onRejoin: announce,
  });
  await nodes.start();
  parts.metrics.watchNodes(() => nodes.liveCount());
  const close = nodes.close.bind(nodes);
  nodes.close = async () => {
    await close();
    subscriber.destroy();
  };
  return nodes;
}
