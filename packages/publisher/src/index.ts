export { PUBLISH_ERRORS, PublishError, type PublishErrorCode } from './errors.js';
export {
  createPublisher,
  Publisher,
  type PublisherContext,
  type PublisherOptions,
} from './publisher.js';
export { PublishTransaction, withTransaction } from './transaction.js';
export type { Transport } from './transport.js';
export { HttpTransport } from './transport-http.js';
export { type RedisClient, RedisTransport, type RetryOptions } from './transport-redis.js';
