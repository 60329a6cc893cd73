/** One buffered message of `events`. */
export interface BufferedMessage {
  /** Its position: consecutive, starting at 0, never reused. */
  readonly seq: number;
  /** Its content id (content-id.ts). */
  readonly id: string;
  readonly raw: string;
  /** When it arrived, on the monotonic clock (performance.now()). */
  readonly at: number;
}

/** How long and how much the buffer keeps. */
export interface RecentBufferLimits {
  /** Messages older than this are dropped (unless pinned). */
  maxAgeMs: number;
  /** At most this many messages... */
  maxMessages: number;
  /** ...and at most this many characters of raw text, whatever their age or pin. */
  maxChars: number;
}

/**
 * The messages of the last `maxAgeMs`, in arrival order, bounded by count and size as well so that
 * memory stays bounded at any rate. A pin (the ingest holder's next message to send) keeps the
 * messages from it on past their age; only the count and size caps drop those, and they are
 * counted in `droppedPinned`.
 */
export class RecentBuffer {
  readonly #limits: RecentBufferLimits;
  #items: BufferedMessage[] = [];
  #head = 0;
  #nextSeq = 0;
  #chars = 0;
  #pin: number | undefined;
  /** Pinned (unsent) messages dropped by the caps since start. */
  droppedPinned = 0;

  constructor(limits: RecentBufferLimits) {
    this.#limits = limits;
  }

  /** The seq of the oldest message kept (equal to `endSeq` when empty). */
  get firstSeq(): number {
    return this.#nextSeq - this.size;
  }

  /** The seq the next message will get. */
  get endSeq(): number {
    return this.#nextSeq;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get chars(): number {
    return this.#chars;
  }

  /** Messages from `seq` on are kept past their age; undefined: no pin. */
  set pin(seq: number | undefined) {
    this.#pin = seq;
  }

  /** Appends a message, then drops what is too old or over the caps. */
  push(id: string, raw: string, at: number): BufferedMessage {
    const message: BufferedMessage = { seq: this.#nextSeq, id, raw, at };
    this.#nextSeq += 1;
    this.#items.push(message);
    this.#chars += raw.length;
    this.prune(at);
    return message;
  }

  /** The message at `seq`, if still kept. */
  at(seq: number): BufferedMessage | undefined {
    if (seq < this.firstSeq || seq >= this.#nextSeq) return undefined;
    return this.#items[this.#head + (seq - this.firstSeq)];
  }

  /** Drops the messages older than `maxAgeMs` before `now` (not pinned ones), and any over the caps. */
  prune(now: number): void {
    const { maxAgeMs, maxMessages, maxChars } = this.#limits;
    const cutoff = now - maxAgeMs;
    for (;;) {
      const oldest = this.#items[this.#head];
      if (!oldest) break;
      const overCap = this.size > maxMessages || this.#chars > maxChars;
      const pinned = this.#pin !== undefined && oldest.seq >= this.#pin;
      if (!overCap && (pinned || oldest.at >= cutoff)) break;
      if (overCap && pinned) this.droppedPinned += 1;
      this.#drop();
    }
    this.#compact();
  }

  #drop(): void {
    const oldest = this.#items[this.#head]!;
    this.#chars -= oldest.raw.length;
    this.#items[this.#head] = undefined as unknown as BufferedMessage;
    this.#head += 1;
  }

  /** Shifting one by one is O(n); the dropped head is cut off in one go once it is large. */
  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
