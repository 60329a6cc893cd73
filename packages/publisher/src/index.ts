export { PUBLISH_ERRORS, PublishError, type PublishErrorCode } from './errors.js';
export {
  createPublisher,
  type PublishedMessage,
  Publisher,
  type PublisherContext,
  type PublisherOptions,
} from './publisher.js';
export { clusterStreamEntry, clusterStreamKey, EMITTER_UID } from './stream-entry.js';
export { PublishTransaction, withTransaction } from './transaction.js';
export type { Transport } from './transport.js';
export { type ClusterOptions, ClusterTransport } from './transport-cluster.js';
export { HttpTransport } from './transport-http.js';
export { type RedisClient, RedisTransport, type RetryOptions } from './transport-redis.js';
