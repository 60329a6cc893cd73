import type { EventMessage } from '@herald/protocol';
import { PublishError } from './errors.js';
import { type RedisClient, RedisConnection } from './redis-connection.js';
import { RetryBuffer } from './retry-buffer.js';
import { clusterStreamEntry, clusterStreamKey } from './stream-entry.js';
import type { Transport } from './transport.js';
import type { RetryOptions } from './transport-redis.js';

/** Where a Herald cluster keeps its stream: the nodes' --cluster-* settings. */
export interface ClusterOptions {
  /** The cluster's Redis (the nodes' --cluster-redis, else their --redis): a URL or a client. */
  redis: string | RedisClient;
  /** The nodes' --cluster-prefix (default `herald`). */
  prefix?: string | undefined;
  /** The nodes' --cluster-stream-length: the XADD trims to about this many entries (default 20000). */
  streamLength?: number | undefined;
  /** The largest message, in UTF-8 bytes (default 8 MiB, as Herald's --max-message-bytes). */
  maxMessageBytes?: number | undefined;
}

const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
const integerIn = (value: unknown, min: number, max: number) =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/** A stream entry's fields, ready for XADD. */
type Entry = Record<string, string>;

/**
 * Writes each message to a Herald cluster's stream itself (`XADD <prefix>:{ingest}:stream MAXLEN
 * ~ <streamLength> * uid emitter nsp /<site> type 3 data <json>`): every node's reader delivers the
 * entry to its sockets in the room, with the entry id as the Socket.IO offset, so a client that
 * was away gets it back on any node. No node takes it from `events` first, so it needs no ingest
 * lease: written once, delivered once per socket. A publish resolves with the entry id once Redis
 * wrote it. Room-less events (every namespace) have no entry: they are refused. Without `retry`, a
 * publish that Redis cannot take rejects at once; with it, it waits in the bounded buffer, in
 * order (RetryBuffer), and the buffer sends what waits in pipelined batches.
 */
export class ClusterTransport implements Transport {
  readonly stream: string;
  readonly #redis: RedisConnection;
  readonly #buffer: RetryBuffer<string, Entry> | undefined;
  readonly #streamLength: number;
  readonly #maxMessageBytes: number;
  readonly #what: string;
  #closed = false;

  constructor(
    options: ClusterOptions,
    more: { retry?: RetryOptions | undefined; connectTimeoutMs?: number } = {},
  ) {
    const { prefix = 'herald', streamLength = 20_000, maxMessageBytes = 8 * 1024 * 1024 } = options;
    if (typeof prefix !== 'string' || !PREFIX.test(prefix))
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        `cluster.prefix must be the nodes' --cluster-prefix: 1 to 64 letters, digits, _, . or - (got ${JSON.stringify(prefix)})`,
      );
    if (!integerIn(streamLength, 1000, 100_000_000))
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        `cluster.streamLength must be the nodes' --cluster-stream-length: an integer from 1000 to 100000000 (got ${String(streamLength)})`,
      );
    if (!integerIn(maxMessageBytes, 1, 512 * 1024 * 1024))
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        `cluster.maxMessageBytes must be an integer from 1 to 536870912 (got ${String(maxMessageBytes)})`,
      );
    this.stream = clusterStreamKey(prefix);
    this.#streamLength = streamLength;
    this.#maxMessageBytes = maxMessageBytes;
    this.#what = `add to the cluster stream ${this.stream} on Redis`;
    this.#redis = new RedisConnection(options.redis, {
      connectTimeoutMs: more.connectTimeoutMs,
      onReady: () => this.#buffer?.wake(),
    });
    this.#buffer = more.retry
      ? new RetryBuffer<string, Entry>(more.retry, {
          isReady: () => this.#redis.isReady,
          lastError: () => this.#redis.lastError(),
          publish: (entry) => this.#xadd(entry),
          // Written is delivered: every node's reader takes it from the stream.
          heard: () => true,
          connect: () => this.#redis.connect(),
        })
      : undefined;
  }

  /** Resolves with the stream entry id (the offset clients get with the event). */
  async send(message: EventMessage): Promise<string> {
    if (this.#closed) throw new PublishError('HERALD_PUBLISH_CLOSED', 'the publisher is closed');
    const entry = clusterStreamEntry(message, { maxMessageBytes: this.#maxMessageBytes });
    if (this.#buffer) return this.#buffer.push(entry);
    await this.#redis.ready(this.#what);
    try {
      return await this.#xadd(entry);
    } catch (error) {
      throw this.#redis.unavailable(this.#what, error);
    }
  }

  stats() {
    return { queued: this.#buffer?.size ?? 0, dropped: this.#buffer?.dropped ?? 0 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#buffer?.clear(
      new PublishError('HERALD_PUBLISH_CLOSED', 'the publisher was closed before Redis came back'),
    );
    await this.#redis.close();
  }

  /** XADD <stream> MAXLEN ~ <n> * <fields>: resolves with the entry id. */
  #xadd(entry: Entry): Promise<string> {
    return this.#redis.client.xAdd(this.stream, '*', entry, {
      TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.#streamLength },
    });
  }
}
