/**
 * Who views a document: this node's viewers of it (the distinct users of its `open_doc` room's
 * local members) and, from them, the list `doc_viewers` carries. In one process that is the local
 * list itself (memory.ts); in a cluster, the lists of every node merged (redis.ts).
 */
export interface Presence {
  /**
   * Whether the answer may include viewers on other nodes. When false (one process) it is the
   * local list itself, answered at once, and nothing changes it but this node's own changes.
   */
  readonly shared: boolean;
  /**
   * This node's viewers of the document `room` (its open_doc room) of `site` are `local`
   * (distinct, in the order they came): stored if they changed since the last call for it, and
   * the document's viewers answered, distinct, the earliest first. `undefined`: none to tell now
   * (the presence is held or closed). A rejected promise: it could not be stored or read (the
   * presence has logged why); ask again later.
   */
  viewers(site: string, room: string, local: readonly string[]): ViewersAnswer;
  /** Stops storing and answering; leaves nothing running. */
  close(): Promise<void>;
}

/** What `Presence.viewers` answers: at once in one process, after a round trip in a cluster. */
export type ViewersAnswer = readonly string[] | undefined | Promise<readonly string[] | undefined>;

/**
 * A document whose viewers changed without a change on this node (another node died, or this one
 * came back after being taken for dead): whom its viewers should be told are viewing it.
 */
export interface ViewersChange {
  site: string;
  /** The document's open_doc room. */
  room: string;
  users: string[];
}
