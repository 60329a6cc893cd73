import {
  type EventMessage,
  type ProgressArgs,
  type PublishArgs,
  type PublishContext,
  publishHelpers,
  type ResolvedPublish,
  resolveProgress,
  resolvePublish,
} from '@herald/protocol';
import { PublishError } from './errors.js';
import { PublishTransaction } from './transaction.js';
import type { Transport } from './transport.js';
import { type ClusterOptions, ClusterTransport } from './transport-cluster.js';
import { HttpTransport } from './transport-http.js';
import { type RedisClient, RedisTransport, type RetryOptions } from './transport-redis.js';

/** Who publishes: the session user and the current job's task id (never taken from globals). */
export interface PublisherContext {
  user?: string | undefined;
  taskId?: string | undefined;
}

/**
 * Where a publisher sends: Redis `events` (`redis`: a URL or a client), Herald's HTTP API
 * (`http`), or a Herald cluster's stream (`cluster`: written directly, see ClusterTransport).
 */
export type PublisherOptions =
  | {
      site: string;
      redis: string | RedisClient;
      retry?: RetryOptions;
      http?: never;
      cluster?: never;
    }
  | {
      site: string;
      http: { url: string; apiKey: string; timeoutMs?: number };
      redis?: never;
      cluster?: never;
    }
  | { site: string; cluster: ClusterOptions; retry?: RetryOptions; redis?: never; http?: never };

/** A published message; with the cluster transport, `entryId` is its stream entry id (the clients' offset). */
export type PublishedMessage = EventMessage & { entryId?: string };

const optionalString = (value: unknown, name: string) => {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw new PublishError(
      'HERALD_PUBLISH_BAD_ARGUMENT',
      `${name} must be a string (got ${typeof value})`,
    );
  }
};

/** publishRealtime and friends for one site, like Frappe's `frappe.realtime` module. */
export class Publisher {
  readonly site: string;
  readonly context: PublisherContext;
  readonly #transport: Transport;
  readonly #counts: { published: number };

  /** Use createPublisher(). */
  constructor(
    site: string,
    transport: Transport,
    context: PublisherContext = {},
    counts = { published: 0 },
  ) {
    this.site = site;
    this.#transport = transport;
    this.context = context;
    this.#counts = counts;
  }

  /** The same publisher, for a session user and/or a background job's task id. */
  withContext(context: PublisherContext): Publisher {
    return new Publisher(this.site, this.#transport, { ...this.context, ...context }, this.#counts);
  }

  /** Applies the publish rules (room and event choice) without sending. */
  resolve(args: PublishArgs): ResolvedPublish {
    if (typeof args !== 'object' || args === null)
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        'publishRealtime takes an object of arguments',
      );
    for (const name of ['event', 'room', 'user', 'doctype', 'taskId'] as const)
      optionalString(args[name], name);
    if (args.event === '')
      throw new PublishError('HERALD_PUBLISH_BAD_ARGUMENT', 'event must not be empty');
    if (
      args.docname !== undefined &&
      args.docname !== null &&
      !['string', 'number'].includes(typeof args.docname)
    ) {
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        `docname must be a string or a number (got ${typeof args.docname})`,
      );
    }
    return resolvePublish(args, this.#publishContext());
  }

  /** Sends an already resolved message. */
  async send(message: EventMessage): Promise<PublishedMessage> {
    const entryId = await this.#transport.send(message);
    this.#counts.published += 1;
    return typeof entryId === 'string' ? { ...message, entryId } : message;
  }

  /** publish_realtime: resolves room and event by Frappe's rules and publishes; afterCommit needs a transaction. */
  async publishRealtime(args: PublishArgs): Promise<PublishedMessage> {
    const resolved = this.resolve(args);
    if (resolved.afterCommit) {
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        'afterCommit needs a transaction: use publisher.transaction() or withTransaction()',
      );
    }
    return this.send(resolved.message);
  }

  /** publish_progress: a `progress` event to the task, else the document, else the session user. */
  async publishProgress(args: ProgressArgs): Promise<PublishedMessage> {
    if (typeof args?.percent !== 'number' || !Number.isFinite(args.percent)) {
      throw new PublishError('HERALD_PUBLISH_BAD_ARGUMENT', 'percent must be a number');
    }
    return this.send(resolveProgress(args, this.#publishContext()).message);
  }

  /** An event to every socket of a user. */
  publishToUser(user: string, event: string, message?: unknown) {
    return this.publishRealtime(publishHelpers.toUser(user, event, message));
  }
  /** An event to a document's subscribers. */
  publishToDoc(doctype: string, docname: string | number, event: string, message?: unknown) {
    return this.publishRealtime(publishHelpers.toDoc(doctype, docname, event, message));
  }
  /** An event to a doctype's list subscribers. */
  publishToDoctype(doctype: string, event: string, message?: unknown) {
    return this.publishRealtime(publishHelpers.toDoctype(doctype, event, message));
  }
  /** `task_progress` to a background task's room. */
  publishTaskProgress(taskId: string, message?: unknown) {
    return this.publishRealtime(publishHelpers.taskProgress(taskId, message));
  }
  /** An event to every socket of the site, guests included. */
  publishToWebsite(event: string, message?: unknown) {
    return this.publishRealtime(publishHelpers.toWebsite(event, message));
  }
  /** An event to every System User socket of the site. */
  publishToAll(event: string, message?: unknown) {
    return this.publishRealtime(publishHelpers.toAll(event, message));
  }
  /** An event to any room, e.g. one an app's handler joined sockets to. */
  publishToRoom(room: string, event: string, message?: unknown) {
    return this.publishRealtime(publishHelpers.toRoom(room, event, message));
  }

  /** A scope whose after-commit publishes wait for its commit. */
  transaction(): PublishTransaction {
    return new PublishTransaction(this);
  }

  /** What was published, what waits in the retry buffer, and what was dropped from it. */
  stats(): { published: number; queued: number; dropped: number } {
    return { published: this.#counts.published, ...this.#transport.stats() };
  }

  /** Closes the connection (a Redis client given by the caller stays open). */
  close(): Promise<void> {
    return this.#transport.close();
  }

  #publishContext(): PublishContext {
    return { site: this.site, sessionUser: this.context.user, jobTaskId: this.context.taskId };
  }
}

/** Creates a publisher for one site, over Redis, Herald's HTTP publish API or a cluster's stream. */
export function createPublisher(options: PublisherOptions): Publisher {
  if (!options || typeof options.site !== 'string' || options.site === '') {
    throw new PublishError(
      'HERALD_PUBLISH_BAD_ARGUMENT',
      'site must be the site name (the Socket.IO namespace), e.g. "erp.example.com"',
    );
  }
  const given = (['redis', 'http', 'cluster'] as const).filter((key) => options[key] !== undefined);
  if (given.length > 1) {
    throw new PublishError(
      'HERALD_PUBLISH_BAD_ARGUMENT',
      `give one of redis, http and cluster, not ${given.join(' and ')}`,
    );
  }
  if (options.redis !== undefined)
    return new Publisher(options.site, new RedisTransport(options.redis, { retry: options.retry }));
  if (options.http !== undefined) {
    if (!options.http.url || !options.http.apiKey) {
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        'http needs { url, apiKey }: the Herald server URL and one of its --api-key values',
      );
    }
    return new Publisher(options.site, new HttpTransport(options.http));
  }
  if (options.cluster !== undefined) {
    if (typeof options.cluster !== 'object' || options.cluster === null || !options.cluster.redis) {
      throw new PublishError(
        'HERALD_PUBLISH_BAD_ARGUMENT',
        "cluster needs { redis }: the cluster's Redis (a URL or a client), and prefix / streamLength when the nodes set --cluster-prefix / --cluster-stream-length",
      );
    }
    return new Publisher(
      options.site,
      new ClusterTransport(options.cluster, { retry: options.retry }),
    );
  }
  throw new PublishError(
    'HERALD_PUBLISH_BAD_ARGUMENT',
    'give one of redis (a URL or a client), http: { url, apiKey } or cluster: { redis }',
  );
}
