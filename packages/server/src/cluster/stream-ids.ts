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
): Promise<string[]> {
  const ids: string[] = [];
  let start = String(Math.max(0, Math.floor(sinceMs)));
  for (;;) {
    const entries = await client.xRange(stream, start, '+', { COUNT: BATCH });
    for (const entry of entries) {
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

/** How many times each id occurs. */
export function countIds(ids: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
