import { RedisSocketSecret, type SocketSecret, StaticSocketSecret } from '../auth/socket-secret.js';
import type { Broker } from '../bridge/broker.js';
import { MemoryBroker } from '../bridge/broker-memory.js';
import { RedisBroker } from '../bridge/broker-redis.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { redactUrl } from '../redis/client.js';

/** Where events come in (Redis, or in memory without --redis), and where the socket secret is read. */
export function createBroker(
  config: Config,
  logger: Logger,
): { broker: Broker; secret: SocketSecret } {
  if (config.redis) {
    const broker = new RedisBroker(config.redis, logger);
    logger.info({ redis: redactUrl(config.redis) }, 'events come from the Redis channel "events"');
    // An explicit secret wins (the demo, or a backend that does not use Redis for it).
    const secret =
      config.socketSecret !== undefined
        ? new StaticSocketSecret(config.socketSecret)
        : new RedisSocketSecret(broker.commands);
    return { broker, secret };
  }
  logger.info(
    'no --redis given: using the in-memory broker (one process; events published to Redis are not seen)',
  );
  return { broker: new MemoryBroker(), secret: new StaticSocketSecret(config.socketSecret) };
}
