import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Config } from '../config/schema.js';

/** A worker's registry as prom-client gives it (`Registry.getMetricsAsJSON`). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * What the primary of `herald serve --workers` and its workers say to each other over the IPC
 * channel (besides @socket.io/sticky's own `sticky:*` messages). Every type starts with `herald:`.
 */
export type PrimaryMessage =
  /** The configuration the worker runs with (parsed once, in the primary) and its number. */
  | { type: 'herald:start'; config: Config; worker: number }
  /** Asks a ready worker for its registry. */
  | { type: 'herald:metrics'; id: number }
  /** The whole group's metrics, the answer to a worker's `herald:group-metrics`. */
  | { type: 'herald:group-metrics-answer'; id: number; text?: string; error?: string };

export type WorkerMessage =
  /**
   * The worker listens for messages now: a message sent before that is lost (Node drops one that
   * arrives with no listener, and loading the worker's modules takes a while), so the primary
   * sends `herald:start` only in answer to this.
   */
  | { type: 'herald:hello' }
  /** Started (Socket.IO attached, the broker subscribed): it may be given connections. */
  | { type: 'herald:ready' }
  /** A worker's registry, the answer to `herald:metrics`. */
  | { type: 'herald:metrics-answer'; id: number; metrics?: MetricsJson; error?: string }
  /** A worker's /metrics asks the primary for the whole group's. */
  | { type: 'herald:group-metrics'; id: number }
  /** The worker's last message before it exits: everything it sent before has been written. */
  | { type: 'herald:stopped' };

/** The message's `type` when it is one of Herald's (`herald:...`), else undefined. */
export function heraldType(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const type = (message as { type?: unknown }).type;
  return typeof type === 'string' && type.startsWith('herald:') ? type : undefined;
}
