import { createRealtime, type Realtime, type RealtimeOptions } from '@herald/client';
import type { ConfigInput, Herald } from '@herald/server';
import { HERALD_CLI, startTestHerald } from '@herald/server/testing';
import {
  fixtureSites,
  type NodeProcess,
  runNode,
  startTestBackend,
  type TestBackend,
} from '@herald/testkit';

/** Herald in this process, with the test backend's sites behind it. */
export interface Stack {
  herald: Herald;
  backend: TestBackend;
  close(): Promise<void>;
}

/** Starts the test backend and Herald (the test settings, with `config` over them) in front of it. */
export async function startStack(options: { config?: ConfigInput } = {}): Promise<Stack> {
  const backend = await startTestBackend({ sites: fixtureSites() });
  let herald: Herald;
  try {
    herald = await startTestHerald({ backend: backend.url, ...options.config });
  } catch (error) {
    await backend.close();
    throw error;
  }
  return {
    herald,
    backend,
    close: async () => {
      await herald.close();
      await backend.close();
    },
  };
}

/** Runs `herald <args>` as a separate process, from the sources. */
export function runHerald(args: string[]): NodeProcess {
  return runNode(HERALD_CLI, args, { HERALD_LOG_FORMAT: 'json' });
}

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
