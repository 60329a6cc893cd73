import type { RedisClient } from '../redis/client.js';

/** How many entries one XRANGE reads. */
const BATCH = 1000;

/**
 * The content ids (`hid` in `opts.flags` of the entry's JSON `data`, the streams adapter's entry
 * format) of the stream's entries since `sinceMs` (Redis's clock), in stream order, read with
 * XRANGE in batches. Entries without one (not from ingest) or not JSON are left out.
 */
export async function streamContentIds(
  client: Pick<RedisClient, 'xRange'>,
  stream: string,
  sinceMs: number,
  /** Only entries written with this `uid` (the ingest's). */
  uid?: string,
): Promise<string[]> {
  const ids: string[] = [];
  let start = String(Math.max(0, Math.floor(sinceMs)));
  for (;;) {
    const entries = await client.xRange(stream, start, '+', { COUNT: BATCH });
    for (const entry of entries) {
      // Only the ingest's own entries: the HTTP API's and the publisher's are not from `events`.
      if (uid !== undefined && entry.message.uid !== uid) continue;
      const id = entryContentId(entry.message.data);
      if (id !== undefined) ids.push(id);
    }
    if (entries.length < BATCH) return ids;
    start = `(${entries[entries.length - 1]!.id}`;
  }
}

/** The `hid` flag of one entry's `data` field. */
export function entryContentId(data: unknown): string | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const hid = (JSON.parse(data) as { opts?: { flags?: { hid?: unknown } } })?.opts?.flags?.hid;
    return typeof hid === 'string' ? hid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The stream's content ids in order, matched against the buffer's messages in order: every node
 * receives `events` in the one order Redis publishes it in, and the holders wrote what they
 * received in that order, so the stream's entries are the buffer's messages, in order, after some
 * that came before the buffer began. A message is matched with the next entry of its id from where
 * the last match was (entries skipped on the way came before the buffer); unmatched, it was never
 * written. Counting ids regardless of order (an earlier version) took an identical message published
 * before this node's buffer began for one in it, and lost the one in it.
 */
export class OrderedIds {
  readonly #ids: string[];
  #next = 0;

  constructor(ids: string[]) {
    this.#ids = ids;
  }

  /** Whether the stream holds this message (the next entry with its id), consumed if so. */
  take(id: string): boolean {
    const at = this.#ids.indexOf(id, this.#next);
    if (at === -1) return false;
    this.#next = at + 1;
    return true;
  }
}
