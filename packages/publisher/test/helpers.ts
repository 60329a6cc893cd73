import type { PublishArgs } from '@herald/protocol';
import { waitFor } from '@herald/testkit';
import { createClient } from 'redis';

/** A real `SUBSCRIBE events` client that keeps what it sees, parsed. */
export async function subscribeEvents(url: string) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const seen: Record<string, unknown>[] = [];
  await client.subscribe('events', (raw) => seen.push(JSON.parse(raw) as Record<string, unknown>));
  return {
    seen,
    /** Waits until `count` messages were seen in all. */
    until: (count: number) =>
      waitFor(() => seen.length >= count, { what: `${count} messages on events` }),
    close: () => client.quit(),
  };
}

/** The vectors' Python spelling of publish_realtime's arguments, in TypeScript spelling. */
export const argsOf = (call: Record<string, unknown>): PublishArgs => ({
  event: call.event as string | undefined,
  message: call.message,
  room: call.room as string | undefined,
  user: call.user as string | undefined,
  doctype: call.doctype as string | undefined,
  docname: call.docname as string | number | undefined,
  taskId: call.task_id as string | undefined,
  afterCommit: call.after_commit as boolean | undefined,
});

/** Reads a helper call as the vectors write it: `name('a', 'b', {'k': 1})`. */
export function parseHelperCall(text: string): { name: string; args: unknown[] } {
  const match = /^(\w+)\((.*)\)$/s.exec(text.trim());
  if (!match) throw new Error(`cannot read helper call ${text}`);
  const json = `[${match[2]!.replace(/'/g, '"').replace(/\bNone\b/g, 'null')}]`;
  return { name: match[1]!, args: JSON.parse(json) as unknown[] };
}
