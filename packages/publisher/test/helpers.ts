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
