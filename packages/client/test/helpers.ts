import { createRealtime, type Realtime, type RealtimeOptions } from '@herald/client';

/** A client for a test site, over websocket, with the Host/Origin a browser on that site would send. */
export function clientFor(
  url: string,
  port: number,
  site: string,
  sid: string,
  options: Partial<RealtimeOptions> = {},
): Realtime {
  return createRealtime({
    url,
    site,
    transports: ['websocket'],
    headers: { host: `${site}:${port}`, origin: `http://${site}:${port}`, cookie: `sid=${sid}` },
    reconnection: { initialDelayMs: 100, maxDelayMs: 500, jitter: 0.2 },
    ...options,
  });
}

/** Collects the data of one event. */
export function collect<T = unknown>(client: Realtime, event: string): T[] {
  const seen: T[] = [];
  client.on(event, (data) => seen.push(data as T));
  return seen;
}
