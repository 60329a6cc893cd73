import type { EventMessage, ProgressArgs, PublishArgs } from '@herald/protocol';
import { PublishError } from './errors.js';
import type { PublishedMessage, Publisher } from './publisher.js';

/** A plain object's own keys sorted, so that JSON text no longer depends on insertion order. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((name) => [name, record[name]]),
  );
}

/**
 * The JSON text of a value with every object's keys sorted, recursively: two values that go on
 * the wire as equal JSON (arrays in the same order) get the same text, whatever their key order.
 * JSON.stringify hands the replacer each value after `toJSON`, so a Date is its ISO text.
 */
function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, sortedKeys);
}

/**
 * A scope tied to a database transaction: publishes with `afterCommit: true` wait for `commit()`
 * and vanish on `rollback()`; equal ones (same event, message and room, compared by value, key
 * order aside, as upstream compares its dicts) go out once, the first of them. A publish whose
 * rules turn after-commit off (a task's progress) goes out at once.
 */
export class PublishTransaction {
  readonly #publisher: Publisher;
  readonly #queued = new Map<string, EventMessage>();
  #open = true;

  constructor(publisher: Publisher) {
    this.#publisher = publisher;
  }

  /** Publishes now, or after the commit when the resolved call says so. */
  async publishRealtime(args: PublishArgs): Promise<PublishedMessage> {
    this.#check();
    const resolved = this.#publisher.resolve(args);
    if (!resolved.afterCommit) return this.#publisher.send(resolved.message);
    const { event, message, room } = resolved.message;
    const key = canonicalJson([event, message, room])!;
    if (!this.#queued.has(key)) this.#queued.set(key, resolved.message);
    return resolved.message;
  }

  /** publish_progress inside the transaction (never after-commit: progress is live). */
  publishProgress(args: ProgressArgs): Promise<PublishedMessage> {
    this.#check();
    return this.#publisher.publishProgress(args);
  }

  /** What waits for the commit. */
  get pending(): readonly EventMessage[] {
    return [...this.#queued.values()];
  }

  /** Sends what waited, in order; rejects with the first failure (the rest is not sent). */
  async commit(): Promise<PublishedMessage[]> {
    this.#check();
    this.#open = false;
    const messages = [...this.#queued.values()];
    this.#queued.clear();
    const sent: PublishedMessage[] = [];
    for (const message of messages) sent.push(await this.#publisher.send(message));
    return sent;
  }

  /** Drops what waited. */
  rollback(): void {
    this.#open = false;
    this.#queued.clear();
  }

  #check(): void {
    if (!this.#open)
      throw new PublishError(
        'HERALD_PUBLISH_TRANSACTION_CLOSED',
        'this transaction was already committed or rolled back',
      );
  }
}

/**
 * Runs `work` inside a publish transaction: commits when it resolves, rolls back when it throws.
 * With node-postgres, put the database COMMIT at the end of `work`:
 *
 * ```ts
 * await withTransaction(publisher, async (tx) => {
 *   await db.query('BEGIN');
 *   await db.query('UPDATE todo SET status = $1 WHERE name = $2', ['Closed', name]);
 *   await tx.publishRealtime({ event: 'doc_update', message: { name }, doctype: 'ToDo', docname: name, afterCommit: true });
 *   await db.query('COMMIT'); // a throw before this line rolls the events back too
 * });
 * ```
 */
export async function withTransaction<T>(
  publisher: Publisher,
  work: (tx: PublishTransaction) => Promise<T>,
): Promise<T> {
  const tx = publisher.transaction();
  let result: T;
  try {
    result = await work(tx);
  } catch (error) {
    tx.rollback();
    throw error;
  }
  await tx.commit();
  return result;
}
