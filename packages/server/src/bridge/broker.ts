/**
 * Where events come in from. The Redis broker subscribes to Frappe's `events` channel; the memory
 * broker serves a single process without Redis. Both hand the router the raw message text, so
 * both are routed by the same code.
 */
export interface Broker {
  /** A short name for logs and health: `redis` or `memory`. */
  readonly kind: 'redis' | 'memory';
  /** Starts delivering messages of the `events` channel; never rejects for an unreachable Redis. */
  start(onMessage: (raw: string) => void): Promise<void>;
  /** Publishes raw text on a channel (`events` by default); rejects when it cannot. */
  publish(raw: string, channel?: string): Promise<void>;
  /** How many times the connection to Redis was re-established (0 without Redis). */
  reconnects(): number;
  /** Whether messages can flow right now, and why not. */
  status(): { ready: boolean; detail?: string | undefined };
  close(): Promise<void>;
}
