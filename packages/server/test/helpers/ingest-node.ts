import { createClient } from 'redis';
import {
  fencedXadd,
  Ingest,
  type IngestKeys,
  type IngestOptions,
  type LeaseChangeReason,
} from '../../src/cluster/ingest.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import type { RedisClient } from '../../src/redis/client.js';

/** The keys of one test's lease, and the channel its messages are published on (in place of `events`). */
export function ingestKeys(prefix: string): { keys: IngestKeys; channel: string } {
  return {
    keys: {
      lease: `${prefix}:{ingest}:lease`,
      epoch: `${prefix}:{ingest}:epoch`,
      stream: `${prefix}:{ingest}:stream`,
      releasedChannel: `${prefix}:lease`,
    },
    channel: `${prefix}:events`,
  };
}

/** The message a web process would publish, numbered. */
export function seqMessage(n: number, event = 'seq'): string {
  return JSON.stringify({ event, message: { n }, room: 'r', namespace: 'site1.localhost' });
}

/**
 * The streams adapter's entry for a message, as the lead's adapter writes it (design 1.1): uid,
 * nsp, type 3, data {packet, opts: {rooms, except, flags: {hid, he}}}.
 */
export function adapterEntry(
  uid: string,
  message: { id: string; raw: string },
  epoch: number,
): Record<string, string> {
  const parsed = JSON.parse(message.raw) as {
    event: string;
    message: unknown;
    room: string;
    namespace: string;
  };
  return {
    uid,
    nsp: `/${parsed.namespace}`,
    type: '3',
    data: JSON.stringify({
      packet: { type: 2, data: [parsed.event, parsed.message] },
      opts: { rooms: [parsed.room], except: [], flags: { hid: message.id, he: epoch } },
    }),
  };
}

/** One lease change of a node, when it happened (Date.now()). */
export interface LeaseChange {
  holding: boolean;
  reason: LeaseChangeReason;
  at: number;
}

/** One ingest node as Herald would run it: a command client without offline queue, an `events` subscriber, the Ingest. */
export interface IngestNode {
  readonly nodeId: string;
  readonly ingest: Ingest;
  readonly client: RedisClient;
  readonly changes: LeaseChange[];
  /** Every broadcast the Ingest asked for: the message's number, and the entry id (null: fenced out). */
  readonly broadcasts: { n: number | undefined; entry: string | null }[];
  /** Whether the `events` subscription is up. */
  subscribed(): boolean;
  close(): Promise<void>;
}

export interface IngestNodeOptions {
  url: string;
  nodeId: string;
  prefix: string;
  logger?: Logger;
  /** Not started: messages can be handed to `take` first. */
  start?: boolean;
  ingest?: Partial<Omit<IngestOptions, 'client' | 'keys' | 'nodeId' | 'logger'>>;
  onLeaseChange?: (change: LeaseChange) => void;
}

/** Starts a node: connected and subscribed when it resolves (Redis must be up). */
export async function startIngestNode(options: IngestNodeOptions): Promise<IngestNode> {
  const { keys, channel } = ingestKeys(options.prefix);
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: () => 50, connectTimeout: 2000 },
  }) as RedisClient;
  client.on('error', () => undefined);
  await client.connect();
  const events = client.duplicate({ disableOfflineQueue: false }) as RedisClient;
  events.on('error', () => undefined);
  await events.connect();
  let subscribedOnce = false;
  const subscribed = () => subscribedOnce && events.isReady;
  const changes: LeaseChange[] = [];
  const broadcasts: IngestNode['broadcasts'] = [];
  const ingest = new Ingest({
    client,
    nodeId: options.nodeId,
    keys,
    logger: options.logger ?? silentLogger(),
    subscribed,
    async broadcast(message, fence) {
      const fields = adapterEntry(options.nodeId, message, fence.epoch);
      const entry = await fencedXadd(client, keys, fence.token, fields, 20_000);
      broadcasts.push({ n: messageNumber(message.raw), entry });
      if (entry === null) throw new Error('fenced out: the lease is not ours');
    },
    onLeaseChange(holding, reason) {
      const change = { holding, reason, at: Date.now() };
      changes.push(change);
      options.onLeaseChange?.(change);
    },
    ...options.ingest,
  });
  await events.subscribe(channel, (raw: string) => ingest.take(raw));
  subscribedOnce = true;
  if (options.start !== false) await ingest.start();
  return {
    nodeId: options.nodeId,
    ingest,
    client,
    changes,
    broadcasts,
    subscribed,
    async close() {
      await ingest.close();
      for (const c of [events, client]) {
        if (c.isReady) await c.close().catch(() => c.destroy());
        else if (c.isOpen) c.destroy();
      }
    },
  };
}

function messageNumber(raw: string): number | undefined {
  try {
    return (JSON.parse(raw) as { message?: { n?: number } }).message?.n;
  } catch {
    return undefined;
  }
}

/** One entry of the stream, decoded. */
export interface StreamEntry {
  id: string;
  /** The entry's time (Redis's clock, from its id). */
  ms: number;
  uid: string;
  event: string;
  n: number;
  hid: string;
}

/** Every entry of the stream, in order. */
export async function readStream(client: RedisClient, stream: string): Promise<StreamEntry[]> {
  const entries = await client.xRange(stream, '-', '+');
  return entries.map(({ id, message }) => {
    const data = JSON.parse(String(message.data)) as {
      packet: { data: [string, { n: number }] };
      opts: { flags: { hid: string } };
    };
    return {
      id,
      ms: Number(id.split('-')[0]),
      uid: String(message.uid),
      event: data.packet.data[0],
      n: data.packet.data[1].n,
      hid: data.opts.flags.hid,
    };
  });
}
