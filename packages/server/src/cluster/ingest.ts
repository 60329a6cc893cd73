import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis/client.js';
import { contentId } from './content-id.js';
import { acquireLease, parseToken, releaseLease, renewLease } from './lease.js';
import { RecentBuffer } from './recent-buffer.js';
import { OrderedIds, streamContentIds } from './stream-ids.js';

export { contentId } from './content-id.js';
export { fencedXadd } from './lease.js';
export { streamContentIds } from './stream-ids.js';

/** The Redis names of the lease (one hash tag, so one slot of a Redis Cluster). */
export interface IngestKeys {
  /** `<prefix>:{ingest}:lease`, value `<node id>:<epoch>`. */
  lease: string;
  /** `<prefix>:{ingest}:epoch`, the counter of holders. */
  epoch: string;
  /** The streams adapter's stream, where the holder's broadcasts go. */
  stream: string;
  /** `<prefix>:lease`: "released" is published there, and followers take over at once. */
  releasedChannel: string;
}

/** Why this node's hold of the lease began or ended. */
export type LeaseChangeReason = 'acquired' | 'released' | 'lost' | 'expired';

/** One message of `events` to broadcast, with its content id. */
export interface IngestMessage {
  id: string;
  raw: string;
}

/** What fences a broadcast: the lease must still hold `token` when the XADD runs. */
export interface LeaseFence {
  /** `<node id>:<epoch>`. */
  token: string;
  epoch: number;
}

/** The most broadcasts the holder has in flight (a burst goes out whole; memory bounded by the buffer). */
const MAX_IN_FLIGHT = 1024;

/** How far before its oldest buffered message a taker reads the stream (delivery skew). */
const SCAN_MARGIN_MS = 1000;

export interface IngestOptions {
  /**
   * The command client (offline queue off, as Herald's is: commands fail at once while Redis is
   * away). Scripts, XRANGE and PUBLISH go through it.
   */
  client: RedisClient;
  /**
   * A client the ingest may SUBSCRIBE the released channel on (shared with others, left open at
   * close). Without one, it makes a duplicate of `client` (offline queue on) and closes it.
   */
  subscriber?: RedisClient | undefined;
  nodeId: string;
  keys: IngestKeys;
  /** The lease's time to live (default 3000). */
  leaseTtlMs?: number | undefined;
  /** How often the holder renews it (default 1000). */
  renewEveryMs?: number | undefined;
  /** How often a node not holding it tries to take it (default 500). */
  acquireEveryMs?: number | undefined;
  /** How far back the buffer and the takeover's scan of the stream go (default 15000). */
  bufferMs?: number | undefined;
  /** At most this many messages buffered, whatever their age (default 100000). */
  bufferMaxMessages?: number | undefined;
  /** At most this many characters of messages buffered (default 64 Mi). */
  bufferMaxChars?: number | undefined;
  /**
   * Broadcasts one message cluster-wide, tagged with its content id (`hid`) and the epoch, through
   * `fencedXadd` with the fence's token. Rejects when fenced out or when the write may not have
   * happened: the node then gives the lease up. It must resolve (not reject) for a message it
   * skips as bad, or each holder in turn would give the lease up on it.
   */
  broadcast(message: IngestMessage, fence: LeaseFence): Promise<void>;
  /** Whether this node's `events` subscription is up: a node without it neither takes nor keeps the lease. */
  subscribed(): boolean;
  logger: Logger;
  /** The `uid` of the entries `broadcast` writes: only those are matched at a takeover. */
  entryUid?: string | undefined;
  /** Told when this node's hold begins or ends (metrics). */
  onLeaseChange?: ((holding: boolean, reason: LeaseChangeReason) => void) | undefined;
}

/** What the ingest stands at, for health and metrics. */
export interface IngestStatus {
  holding: boolean;
  /** The holder's node id as last seen (this node's while it holds). */
  holder: string | undefined;
  /** The holder's epoch as last seen. */
  epoch: number | undefined;
  /** How long this node has held the lease. */
  leaseAgeMs: number | undefined;
  /** Messages in the buffer. */
  buffered: number;
  /** Takeovers: buffered messages the stream lacked, broadcast from the buffer. */
  filled: number;
  /** Takeovers: buffered messages found in the stream, not broadcast again. */
  matched: number;
  /** Messages this node has broadcast (fills included). */
  sent: number;
  /** Messages dropped unsent by the buffer's caps (a holder that fell that far behind). */
  dropped: number;
  /** Whether the released channel is subscribed. */
  listening: boolean;
}

/** The holder stops this long before its lease expires on Redis (clock drift, time in flight). */
const LEASE_MARGIN_MS = 200;
/**
 * A message that arrives this soon after the lease was taken is checked against the stream too:
 * the previous holder may have written it before our SET while our subscription delivered it after
 * the SET's reply (two connections, no order between them), e.g. right after a release.
 */
const LATE_ARRIVAL_MS = 1000;
/** Bound on each Redis command of release and close. */
const CLOSE_COMMAND_MS = 1000;
const RELEASED = 'released';

/** This node's hold of the lease. */
interface Hold {
  readonly token: string;
  readonly epoch: number;
  /** Monotonic: past it, the holder stops on its own. */
  deadline: number;
  readonly acquiredAt: number;
  /** Messages that arrived before this (monotonic) are checked against the stream's ids. */
  readonly checkUntil: number;
  /** Where the buffer ended when the lease was taken: the fill is the part before. */
  readonly snapshotEnd: number;
  /** Redis's clock: the stream is scanned from here. */
  readonly scanFromMs: number;
  /** The next buffer seq to broadcast. */
  cursor: number;
  /** The pump stops before its next broadcast. */
  stopped: boolean;
  wake: (() => void) | undefined;
  done: Promise<void>;
  filled: number;
  matched: number;
  assumed: number;
  reported: boolean;
}

/**
 * The ingest lease of a cluster node (docs/cluster-design.md 5.5). Every node hands it every
 * message of `events` (`take`), which it keeps for `bufferMs`; the node holding the lease turns
 * each into one cluster broadcast, in order, one at a time. A node that takes the lease first
 * reads the stream's content ids of the last `bufferMs` and broadcasts from its buffer what the
 * stream lacks (one stream entry matches one buffered copy, so a message published twice stays
 * twice). Redis errors are logged and give the lease up or are retried on the next timer; they
 * never throw out of here.
 */
export class Ingest {
  readonly #options: IngestOptions;
  readonly #client: RedisClient;
  readonly #log: Logger;
  readonly #ttl: number;
  readonly #bufferMs: number;
  readonly #buffer: RecentBuffer;
  #hold: Hold | undefined;
  #started = false;
  #releasing = false;
  #closed = false;
  #acquiring: Promise<void> | undefined;
  #renewing = false;
  #timers: NodeJS.Timeout[] = [];
  #subscriber: RedisClient | undefined;
  #ownSubscriber = false;
  #listening = false;
  readonly #onReleased = () => this.#tryAcquire();
  /** The last holder's token seen, and the epoch key's generation (lease.ts). */
  #holderToken: string | undefined;
  #generation: string | undefined;
  /** Buffered messages that arrived before this (monotonic) were delivered from a stream Redis lost. */
  #assumeSentBefore: number | undefined;
  #redisHealthy = true;
  #lastAnswerAt = performance.now();
  /** Monotonic: see #trouble. */
  #outageSince: number | undefined;
  #filled = 0;
  #matched = 0;
  #sent = 0;

  constructor(options: IngestOptions) {
    const ttl = options.leaseTtlMs ?? 3000;
    const renewEvery = options.renewEveryMs ?? 1000;
    if (!options.nodeId) throw new RangeError('the ingest needs a node id');
    if (!(ttl > LEASE_MARGIN_MS + renewEvery)) {
      throw new RangeError(
        `the lease's TTL (${ttl} ms) must exceed the renew interval (${renewEvery} ms) by more than ${LEASE_MARGIN_MS} ms`,
      );
    }
    this.#options = options;
    this.#client = options.client;
    this.#ttl = ttl;
    this.#bufferMs = options.bufferMs ?? 15_000;
    this.#log = options.logger.child({ component: 'ingest', node: options.nodeId });
    this.#buffer = new RecentBuffer({
      maxAgeMs: this.#bufferMs,
      maxMessages: options.bufferMaxMessages ?? 100_000,
      maxChars: options.bufferMaxChars ?? 64 * 2 ** 20,
    });
  }

  /** One message of `events`: every message, on every node, in arrival order. */
  take(raw: string): void {
    if (this.#closed) return;
    this.#buffer.push(contentId(raw), raw, performance.now());
    const hold = this.#hold;
    if (hold?.wake) {
      const wake = hold.wake;
      hold.wake = undefined;
      wake();
    }
  }

  /** Starts trying to take the lease; resolves at once (Redis may be down: it is retried). */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const { acquireEveryMs = 500, renewEveryMs = 1000 } = this.#options;
    this.#timers.push(
      setInterval(() => this.#tryAcquire(), acquireEveryMs).unref(),
      setInterval(() => this.#tick(), renewEveryMs).unref(),
    );
    this.#listen();
    this.#tryAcquire();
  }

  /**
   * Gives the lease up for good (SIGTERM, before Socket.IO closes): no more broadcasts or
   * attempts, the broadcast in flight awaited, the lease deleted if still ours, "released"
   * published so that a follower takes over within milliseconds and fills what came in between.
   */
  async release(): Promise<void> {
    this.#releasing = true;
    if (this.#acquiring) await settleWithin(this.#acquiring, CLOSE_COMMAND_MS);
    const hold = this.#hold;
    if (!hold) return;
    this.#stopPump(hold);
    await settleWithin(hold.done, Math.max(0, hold.deadline - performance.now()));
    if (this.#hold !== hold) return; // lost or expired meanwhile, and told so
    this.#endHold(hold);
    let deleted = false;
    try {
      deleted = Boolean(await this.#dropLease(hold.token));
    } catch (error) {
      this.#log.warn(
        { err: errorText(error), epoch: hold.epoch },
        `could not delete the ingest lease; it expires within ${this.#ttl} ms`,
      );
    }
    this.#holderToken = undefined;
    this.#log.info({ epoch: hold.epoch, deleted }, 'released the ingest lease');
    this.#notify(false, 'released');
  }

  /** Releases the lease if held, stops every timer and closes its own subscriber. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.release();
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#listening = false;
    if (!subscriber) return;
    if (this.#ownSubscriber) await closeClient(subscriber);
    else {
      await settleWithin(
        subscriber
          .unsubscribe(this.#options.keys.releasedChannel, this.#onReleased)
          .catch(() => undefined),
        CLOSE_COMMAND_MS,
      );
    }
  }

  status(): IngestStatus {
    const hold = this.#hold;
    const seen = this.#holderToken === undefined ? undefined : parseToken(this.#holderToken);
    return {
      holding: hold !== undefined,
      holder: hold ? this.#options.nodeId : seen?.nodeId,
      epoch: hold ? hold.epoch : seen?.epoch,
      leaseAgeMs: hold ? performance.now() - hold.acquiredAt : undefined,
      buffered: this.#buffer.size,
      filled: this.#filled,
      matched: this.#matched,
      sent: this.#sent,
      dropped: this.#buffer.droppedPinned,
      listening: this.#listening && Boolean(this.#subscriber?.isReady),
    };
  }

  /** SUBSCRIBEs the released channel (in the background: Redis may be down; the client resubscribes). */
  #listen(): void {
    const channel = this.#options.keys.releasedChannel;
    let subscriber = this.#options.subscriber;
    let connected: Promise<unknown> = Promise.resolve();
    if (!subscriber) {
      subscriber = this.#client.duplicate({ disableOfflineQueue: false }) as RedisClient;
      this.#ownSubscriber = true;
      let healthy = true;
      subscriber.on('error', (error: Error) => {
        if (healthy)
          this.#log.warn({ err: errorText(error) }, 'ingest subscriber: Redis unavailable');
        healthy = false;
      });
      subscriber.on('ready', () => {
        healthy = true;
      });
      connected = subscriber.connect();
    }
    this.#subscriber = subscriber;
    const client = subscriber;
    connected
      .then(() => client.subscribe(channel, this.#onReleased))
      .then(() => {
        this.#listening = this.#subscriber === client;
      })
      .catch((error: unknown) => {
        if (!this.#closed)
          this.#log.warn({ err: errorText(error) }, `could not subscribe ${channel}`);
      });
  }

  /** One attempt to take the lease, unless one is in flight or nothing calls for it. */
  #tryAcquire(): void {
    if (!this.#started || this.#closed || this.#releasing || this.#hold || this.#acquiring) return;
    if (!this.#subscribed()) return;
    this.#acquiring = this.#acquire().finally(() => {
      this.#acquiring = undefined;
    });
  }

  async #acquire(): Promise<void> {
    const answeredBefore = this.#lastAnswerAt;
    const outageSince = this.#outageSince;
    const sentAt = performance.now();
    let reply: Awaited<ReturnType<typeof acquireLease>>;
    try {
      reply = await acquireLease(this.#client, this.#options.keys, this.#options.nodeId, this.#ttl);
    } catch (error) {
      this.#failed(error, 'try the ingest lease');
      return;
    }
    this.#answered();
    const { epoch } = parseToken(reply.token);
    if (this.#generation !== undefined && reply.generation !== this.#generation) {
      // Redis lost its data (a restart without persistence, a flush), and the stream with it.
      // What was buffered before the outage was delivered from that stream: without this, a
      // takeover would broadcast it all again.
      this.#assumeSentBefore = outageSince ?? answeredBefore;
      this.#log.warn(
        { epoch },
        'Redis lost the ingest lease keys (restarted without persistence?): messages buffered before the outage count as delivered',
      );
    }
    this.#generation = reply.generation;
    this.#holderToken = reply.token;
    if (!reply.acquired) return;
    if (this.#closed || this.#releasing || !this.#subscribed()) {
      await this.#dropLease(reply.token).catch(() => undefined);
      return;
    }
    this.#startHold(reply.token, epoch, sentAt, reply.redisTimeMs);
  }

  #startHold(token: string, epoch: number, sentAt: number, redisTimeMs: number): void {
    const now = performance.now();
    this.#buffer.prune(now);
    const hold: Hold = {
      token,
      epoch,
      deadline: sentAt + this.#ttl - LEASE_MARGIN_MS,
      acquiredAt: now,
      checkUntil: now + LATE_ARRIVAL_MS,
      snapshotEnd: this.#buffer.endSeq,
      // From a little before the oldest message this node has (on Redis's clock): an entry older
      // than that is of a message published before this node's buffer began.
      scanFromMs: Math.max(
        redisTimeMs - this.#bufferMs,
        redisTimeMs - (now - (this.#buffer.at(this.#buffer.firstSeq)?.at ?? now)) - SCAN_MARGIN_MS,
      ),
      cursor: this.#buffer.firstSeq,
      stopped: false,
      wake: undefined,
      done: Promise.resolve(),
      filled: 0,
      matched: 0,
      assumed: 0,
      reported: false,
    };
    this.#buffer.pin = hold.cursor;
    this.#hold = hold;
    this.#log.info({ epoch, buffered: this.#buffer.size }, 'took the ingest lease');
    this.#notify(true, 'acquired');
    hold.done = this.#pump(hold).catch((error: unknown) => {
      this.#log.error({ err: errorText(error) }, 'the ingest holder stopped on an error');
      this.#giveUp(hold, 'lost', errorText(error));
    });
  }

  /** The holder's loop: the takeover's fill, then each new message, one broadcast at a time. */
  async #pump(hold: Hold): Promise<void> {
    let written: OrderedIds;
    try {
      const ids = await streamContentIds(
        this.#client,
        this.#options.keys.stream,
        hold.scanFromMs,
        this.#options.entryUid,
      );
      this.#answered();
      written = new OrderedIds(ids);
    } catch (error) {
      this.#failed(error, 'read the stream');
      this.#giveUp(hold, 'lost', `could not read the stream to fill from: ${errorText(error)}`);
      return;
    }
    const assumeSentBefore = this.#assumeSentBefore;
    /** Broadcasts sent and not yet answered, in order (one connection keeps their order). */
    let inFlight: { done: Promise<void>; isFill: boolean }[] = [];
    /** Waits for the broadcasts in flight; false (the lease given up) when one failed. */
    const settle = async (): Promise<boolean> => {
      const batch = inFlight;
      inFlight = [];
      const results = await Promise.allSettled(batch.map((b) => b.done));
      this.#answered();
      for (const [i, result] of results.entries()) {
        if (result.status === 'rejected') {
          this.#giveUp(hold, 'lost', `a broadcast failed: ${errorText(result.reason)}`);
          return false;
        }
        this.#sent += 1;
        if (batch[i]!.isFill) {
          hold.filled += 1;
          this.#filled += 1;
        }
      }
      return true;
    };
    while (!hold.stopped) {
      if (hold.cursor < this.#buffer.firstSeq) {
        this.#log.warn(
          { dropped: this.#buffer.firstSeq - hold.cursor },
          'the ingest holder fell behind the buffer cap: messages dropped unsent',
        );
        this.#advance(hold, this.#buffer.firstSeq);
      }
      if (hold.cursor >= hold.snapshotEnd && inFlight.length === 0) this.#reportFill(hold);
      const message = this.#buffer.at(hold.cursor);
      if (!message || inFlight.length >= MAX_IN_FLIGHT) {
        // Nothing more to send now (or a full window): wait for what is in flight, then for more.
        if (inFlight.length > 0) {
          if (!(await settle())) return;
          continue;
        }
        await new Promise<void>((resolve) => {
          hold.wake = resolve;
        });
        continue;
      }
      const isFill = message.seq < hold.snapshotEnd;
      if (message.at < hold.checkUntil) {
        if (assumeSentBefore !== undefined && message.at < assumeSentBefore) {
          hold.assumed += 1;
          this.#advance(hold, hold.cursor + 1);
          continue;
        }
        if (written.take(message.id)) {
          hold.matched += 1;
          this.#matched += 1;
          this.#advance(hold, hold.cursor + 1);
          continue;
        }
      }
      if (performance.now() >= hold.deadline) {
        await settle();
        this.#giveUp(hold, 'expired', 'the lease was not renewed in time');
        return;
      }
      if (!this.#subscribed()) {
        await settle();
        this.#giveUp(hold, 'lost', 'the events subscription is down');
        return;
      }
      // Sent without waiting for the answer: the writes of a burst go out together, in order on
      // one connection (each fenced by the lease in Redis), and the readers get them in a few
      // replies, not one per event; the window is bounded (MAX_IN_FLIGHT).
      let done: Promise<void>;
      try {
        done = this.#options.broadcast(
          { id: message.id, raw: message.raw },
          { token: hold.token, epoch: hold.epoch },
        );
      } catch (error) {
        done = Promise.reject(error);
      }
      // Observed at once (settle reads it): no unhandled rejection while others are sent.
      done.catch(() => undefined);
      inFlight.push({ done, isFill });
      this.#advance(hold, hold.cursor + 1);
    }
    if (inFlight.length > 0) await settle();
  }

  /** The caller's `subscribed()`, false if it throws; down counts as trouble (#trouble). */
  #subscribed(): boolean {
    let up = false;
    try {
      up = this.#options.subscribed();
    } catch {}
    if (!up) this.#trouble();
    return up;
  }

  #advance(hold: Hold, cursor: number): void {
    hold.cursor = cursor;
    if (this.#hold === hold) this.#buffer.pin = cursor;
  }

  #reportFill(hold: Hold): void {
    if (hold.reported) return;
    hold.reported = true;
    this.#log.info(
      { epoch: hold.epoch, filled: hold.filled, matched: hold.matched, assumed: hold.assumed },
      'ingest takeover: filled from the buffer what the stream lacked',
    );
  }

  /** The renew timer: the holder's deadline and subscription checked, the lease renewed. */
  #tick(): void {
    const hold = this.#hold;
    if (!hold) return;
    const now = performance.now();
    if (now >= hold.deadline) {
      this.#giveUp(hold, 'expired', 'the lease was not renewed in time');
      return;
    }
    if (!this.#subscribed()) {
      this.#giveUp(hold, 'lost', 'the events subscription is down');
      return;
    }
    if (this.#renewing) return;
    this.#renewing = true;
    renewLease(this.#client, this.#options.keys.lease, hold.token, this.#ttl)
      .then(
        (renewed) => {
          this.#answered();
          if (this.#hold !== hold) return;
          if (renewed) hold.deadline = Math.max(hold.deadline, now + this.#ttl - LEASE_MARGIN_MS);
          else this.#giveUp(hold, 'lost', 'the lease is no longer ours');
        },
        (error: unknown) => {
          this.#failed(error, 'renew the ingest lease');
          this.#giveUp(hold, 'lost', `could not renew the lease: ${errorText(error)}`);
        },
      )
      .finally(() => {
        this.#renewing = false;
      });
  }

  /** Ends the hold without being asked to: logged, told, the lease deleted if it is still ours. */
  #giveUp(hold: Hold, reason: 'lost' | 'expired', detail: string): void {
    if (this.#hold !== hold) return;
    this.#endHold(hold);
    this.#holderToken = undefined;
    this.#log.warn({ epoch: hold.epoch, reason, detail }, 'gave up the ingest lease');
    this.#notify(false, reason);
    this.#dropLease(hold.token).catch(() => this.#trouble());
  }

  #stopPump(hold: Hold): void {
    hold.stopped = true;
    const wake = hold.wake;
    hold.wake = undefined;
    wake?.();
  }

  #endHold(hold: Hold): void {
    this.#stopPump(hold);
    this.#reportFill(hold);
    this.#hold = undefined;
    this.#buffer.pin = undefined;
  }

  /** Compare-and-DEL, then "released" when it was ours; each bounded in time. */
  async #dropLease(token: string): Promise<boolean> {
    const { lease, releasedChannel } = this.#options.keys;
    const deleted = await settleWithin(releaseLease(this.#client, lease, token), CLOSE_COMMAND_MS);
    if (deleted) {
      await settleWithin(this.#client.publish(releasedChannel, RELEASED), CLOSE_COMMAND_MS);
    }
    return Boolean(deleted);
  }

  #notify(holding: boolean, reason: LeaseChangeReason): void {
    try {
      this.#options.onLeaseChange?.(holding, reason);
    } catch (error) {
      this.#log.error({ err: errorText(error) }, 'onLeaseChange threw');
    }
  }

  #answered(): void {
    this.#lastAnswerAt = performance.now();
    this.#outageSince = undefined;
    if (!this.#redisHealthy) this.#log.info('Redis answers the ingest lease again');
    this.#redisHealthy = true;
  }

  /**
   * When trouble began: a failed command or the subscription found down, whichever came first
   * since Redis last answered. If Redis turns out to have lost its data, what was buffered before
   * counts as delivered (with one Redis for `events` and the cluster, nothing comes in after).
   */
  #trouble(): void {
    this.#outageSince ??= performance.now();
  }

  /** One warning per outage, then debug lines. */
  #failed(error: unknown, what: string): void {
    this.#trouble();
    if (this.#redisHealthy) {
      this.#log.warn({ err: errorText(error) }, `could not ${what}; retrying`);
    } else this.#log.debug({ err: errorText(error) }, `could not ${what}`);
    this.#redisHealthy = false;
  }
}

/** `promise`'s value, or undefined once `ms` have passed (its rejection is still passed on). */
function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** QUIT when connected (bounded in time), else drop the connection attempt. */
async function closeClient(client: RedisClient): Promise<void> {
  if (!client.isReady) {
    if (client.isOpen) client.destroy();
    return;
  }
  try {
    if (
      (await settleWithin(
        client.close().then(() => true),
        CLOSE_COMMAND_MS,
      )) !== true
    ) {
      client.destroy();
    }
  } catch {
    client.destroy();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message || String(error) : String(error);
}
