import type { Presence } from './presence.js';

/**
 * One process: a document's viewers are its open_doc room's local members, answered at once and
 * stored nowhere (the room is the record). Holds no state, so one instance serves every server.
 */
export class MemoryPresence implements Presence {
  readonly shared = false;

  viewers(_site: string, _room: string, local: readonly string[]): readonly string[] {
    return local;
  }

  async close(): Promise<void> {}
}

/** The presence of a server that is not part of a cluster. */
export const MEMORY_PRESENCE: Presence = new MemoryPresence();
