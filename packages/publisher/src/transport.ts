import type { EventMessage } from '@herald/protocol';

/** How messages leave the publisher: Redis `PUBLISH events`, or Herald's HTTP publish API. */
export interface Transport {
  /** Resolves once delivered as far as it can tell (Redis: a subscriber got it; HTTP: Herald took it); else rejects with a PublishError. */
  send(message: EventMessage): Promise<void>;
  /** Messages waiting in the retry buffer, and those dropped from it. */
  stats(): { queued: number; dropped: number };
  close(): Promise<void>;
}
