import type { EventMessage } from '@herald/protocol';

/** How messages leave the publisher: Redis `PUBLISH events`, the cluster's stream, or Herald's HTTP publish API. */
export interface Transport {
  /**
   * Resolves once delivered as far as it can tell (Redis: a subscriber got it; the cluster's
   * stream: the entry is written, resolving with its id; HTTP: Herald took it); else rejects with
   * a PublishError.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: transports written before the cluster one return Promise<void>
  send(message: EventMessage): Promise<string | void>;
  /** Messages waiting in the retry buffer, and those dropped from it. */
  stats(): { queued: number; dropped: number };
  close(): Promise<void>;
}
