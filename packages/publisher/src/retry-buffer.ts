import { PublishError } from './errors.js';

/** What the buffer needs of the Redis connection; `M` is what it sends, `A` the command's answer. */
export interface RetryLink<A = number, M = string> {
  /** True while commands can be sent. */
  isReady(): boolean;
  /** Sends one message (PUBLISH events: resolves with the number of subscribers that received it). */
  publish(message: M): Promise<A>;
  /** Whether an answer means delivered (default: PUBLISH reached a subscriber, the count is above 0). */
  heard?(answer: A): boolean;
  /** The connection's last error, for messages. */
  lastError(): string;
  /** Asks for a connection (a no-op for a client the caller manages). */
  connect(): void;
}

interface Pending<A, M> {
  message: M;
  at: number;
  resolve(answer: A): void;
  reject(error: unknown): void;
}

/** Why the oldest message still waits: Redis cannot be reached, or nobody subscribed heard it. */
type Waiting = 'unreachable' | 'unheard' | undefined;

/** Most messages sent in one go (pipelined on the one connection) while deliveries succeed. */
const MAX_BATCH = 256;
/** How soon a message that reached no subscriber is sent again: doubling up to the cap. */
const FIRST_PROBE_MS = 20;
const MAX_PROBE_MS = 100;

/**
 * Every publish of a publisher with `retry`, in order, until a subscriber got it. A PUBLISH that
 * fails (Redis unreachable) or reaches 0 subscribers (Herald not subscribed yet, e.g. still
 * resubscribing after a Redis restart) keeps its message at the head of the queue, and what was
 * published later waits behind it. Bounded in count and age: a message that does not fit, or is
 * not delivered within `maxAgeMs`, is dropped, counted and its publish rejected. The cluster
 * transport's XADD is delivered once Redis wrote the entry (`heard`), so only an unreachable Redis
 * holds it.
 *
 * One loop sends at a time. While deliveries succeed it sends up to MAX_BATCH messages at once;
 * after a failure it sends the oldest alone, every FIRST_PROBE_MS..MAX_PROBE_MS, until one is
 * heard, so nothing published later can reach a subscriber before it.
 */
export class RetryBuffer<A = number, M = string> {
  readonly #items: Pending<A, M>[] = [];
  readonly #maxQueued: number;
  readonly #maxAgeMs: number;
  readonly #link: RetryLink<A, M>;
  readonly #heard: (answer: A) => boolean;
  /** The first `#inFlight` items are being sent: never expired under the loop's feet. */
  #inFlight = 0;
  #running = false;
  #closed = false;
  #waiting: Waiting;
  #probeMs = FIRST_PROBE_MS;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  dropped = 0;

  constructor(options: { maxQueued: number; maxAgeMs: number }, link: RetryLink<A, M>) {
    this.#maxQueued = options.maxQueued;
    this.#maxAgeMs = options.maxAgeMs;
    this.#link = link;
    this.#heard = link.heard ?? ((answer) => (answer as number) > 0);
  }

  get size(): number {
    return this.#items.length;
  }

  /** Queues a message; its promise resolves (with the answer) once delivered, or rejects when dropped. */
  push(message: M): Promise<A> {
    if (this.#closed)
      return Promise.reject(new PublishError('HERALD_PUBLISH_CLOSED', 'the publisher is closed'));
    this.expire();
    if (this.#items.length >= this.#maxQueued) {
      this.dropped += 1;
      return Promise.reject(
        new PublishError(
          'HERALD_PUBLISH_BUFFER_FULL',
          `${this.#maxQueued} messages already wait (${this.#why()}): this one was dropped`,
        ),
      );
    }
    // Messages must expire even while the loop waits on a PUBLISH: check while any wait.
    this.#timer ??= setInterval(
      () => {
        this.expire();
        if (this.#items.length === 0) {
          clearInterval(this.#timer);
          this.#timer = undefined;
        }
      },
      Math.max(20, Math.min(1000, this.#maxAgeMs / 4)),
    ).unref();
    const queued = new Promise<A>((resolve, reject) =>
      this.#items.push({ message, at: Date.now(), resolve, reject }),
    );
    void this.#run();
    return queued;
  }

  /** Redis is ready again: send now rather than at the end of the current pause. */
  wake(): void {
    this.#wake?.();
  }

  /** Drops (and rejects) the messages older than the age limit, except those being sent. */
  expire(now = Date.now()): void {
    while (
      this.#items.length > this.#inFlight &&
      now - this.#items[this.#inFlight]!.at > this.#maxAgeMs
    ) {
      const [item] = this.#items.splice(this.#inFlight, 1);
      this.dropped += 1;
      item!.reject(
        this.#waiting === 'unheard'
          ? new PublishError(
              'HERALD_PUBLISH_NO_SUBSCRIBER',
              `Redis took the message but no subscriber of events got it within ${this.#maxAgeMs} ms: the message was dropped`,
            )
          : new PublishError(
              'HERALD_PUBLISH_BUFFER_FULL',
              `Redis was unreachable for more than ${this.#maxAgeMs} ms (${this.#link.lastError()}): the message was dropped`,
            ),
      );
    }
  }

  /** Rejects everything still waiting and stops sending. */
  clear(reason: PublishError): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const item of this.#items.splice(0)) item.reject(reason);
    this.#inFlight = 0;
    this.#wake?.();
  }

  #why(): string {
    if (this.#waiting === 'unheard') return 'no subscriber of events on Redis';
    if (this.#waiting === 'unreachable' || !this.#link.isReady()) return 'Redis is unreachable';
    return 'Redis has not answered them yet';
  }

  /** The one sending loop: runs while anything waits, and never twice at once. */
  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        this.expire();
        if (this.#closed || this.#items.length === 0) return;
        if (!this.#link.isReady()) {
          this.#waiting = 'unreachable';
          this.#link.connect();
          // Woken by `ready`; the pause only bounds how late an expiry is noticed.
          await this.#pause(Math.max(20, Math.min(1000, this.#maxAgeMs / 4)));
          continue;
        }
        const probing = this.#waiting !== undefined;
        const batch = this.#items.slice(0, probing ? 1 : MAX_BATCH);
        this.#inFlight = batch.length;
        // async: a client that throws instead of rejecting must not end the loop (or the process).
        const answers = await Promise.allSettled(
          batch.map(async (item) => this.#link.publish(item.message)),
        );
        this.#inFlight = 0;
        if (this.#closed) return;
        // The batch is still the head of the queue: put back, in order, what was not heard.
        const kept: Pending<A, M>[] = [];
        let failure: Waiting;
        answers.forEach((answer, i) => {
          const item = batch[i]!;
          if (answer.status === 'fulfilled' && this.#heard(answer.value)) {
            // Heard. A message heard after an earlier one of its batch was not could only come
            // from a subscriber arriving between two pipelined commands; sending it again would
            // deliver it twice, so it counts as delivered.
            item.resolve(answer.value);
            return;
          }
          kept.push(item);
          if (failure) return;
          failure = answer.status === 'rejected' ? 'unreachable' : 'unheard';
        });
        this.#items.splice(0, batch.length, ...kept);
        if (failure === undefined) {
          this.#waiting = undefined;
          this.#probeMs = FIRST_PROBE_MS;
          continue;
        }
        this.#waiting = failure;
        await this.#pause(this.#probeMs);
        this.#probeMs = Math.min(this.#probeMs * 2, MAX_PROBE_MS);
      }
    } finally {
      this.#running = false;
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
