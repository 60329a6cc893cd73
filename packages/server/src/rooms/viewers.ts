import { openDocRoom } from '@herald/protocol';
import { MEMORY_PRESENCE } from '../presence/memory.js';
import type { Presence } from '../presence/presence.js';
import type { HeraldIo, HeraldNamespace } from '../session.js';

/**
 * The distinct users with a document open, in the order their sockets joined its `open_doc` room.
 * Only the room's members are looked at (upstream scanned every socket of the site).
 */
export function viewersOf(
  nsp: HeraldNamespace,
  doctype: string,
  docname: string,
  room = openDocRoom(doctype, docname),
): string[] {
  const members = nsp.adapter.rooms.get(room);
  const users = new Set<string>();
  for (const id of members ?? []) {
    const user = nsp.sockets.get(id)?.data.user;
    if (user !== undefined) users.add(user);
  }
  return [...users];
}

/** Tells a document's viewers who is viewing it, unless the caller is alone with it. */
function tellViewers(
  nsp: HeraldNamespace,
  caller: string,
  doctype: string,
  docname: string,
  room: string,
): boolean {
  const users = viewersOf(nsp, doctype, docname, room);
  if (users.length === 1 && users[0] === caller) return false;
  emitViewers(nsp, doctype, docname, room, users);
  return true;
}

/** Emits `doc_viewers` to the document's room (in a cluster, its members on every node). */
function emitViewers(
  nsp: HeraldNamespace,
  doctype: string,
  docname: string,
  room: string,
  users: readonly string[],
): void {
  nsp.to(room).emit('doc_viewers', { doctype, docname, users });
}

/** How a server tells its documents' viewers after a change on this node. */
interface Notices {
  notify(
    nsp: HeraldNamespace,
    caller: string,
    doctype: string,
    docname: string,
    room: string,
  ): void;
}

/** A document whose viewers were told within the interval. */
interface Told {
  doctype: string;
  docname: string;
  /** Who changed it last since (the caller of the next notice), if it changed. */
  changedBy: string | undefined;
}

/**
 * `doc_viewers` is state (who is viewing now), not a log: while a document's viewers change
 * faster than the interval, they are told the first change at once and then the latest state at
 * most once per interval, so a busy document costs one notice per interval instead of one per
 * open and close to every viewer (the messages grow with the square of its viewers).
 */
class ViewerNotices implements Notices {
  readonly #intervalMs: number;
  /** Documents told within the interval, by namespace and room. */
  readonly #told = new Map<HeraldNamespace, Map<string, Told>>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  notify(
    nsp: HeraldNamespace,
    caller: string,
    doctype: string,
    docname: string,
    room: string,
  ): void {
    const told = this.#told.get(nsp)?.get(room);
    if (told) {
      told.changedBy = caller;
      return;
    }
    if (!tellViewers(nsp, caller, doctype, docname, room)) return;
    let docs = this.#told.get(nsp);
    if (!docs) {
      docs = new Map();
      this.#told.set(nsp, docs);
    }
    docs.set(room, { doctype, docname, changedBy: undefined });
    setTimeout(this.#settle, this.#intervalMs, nsp, room).unref();
  }

  /** The interval of a told document ended: its latest state, if it changed, and a new interval. */
  readonly #settle = (nsp: HeraldNamespace, room: string) => {
    const docs = this.#told.get(nsp);
    const told = docs?.get(room);
    if (!docs || !told) return;
    const caller = told.changedBy;
    told.changedBy = undefined;
    if (caller !== undefined && tellViewers(nsp, caller, told.doctype, told.docname, room)) {
      setTimeout(this.#settle, this.#intervalMs, nsp, room).unref();
      return;
    }
    docs.delete(room);
    if (docs.size === 0) this.#told.delete(nsp);
  };
}

/** A document of a cluster whose viewers this node told (or is telling) within the interval. */
interface SharedDoc {
  readonly doctype: string;
  readonly docname: string;
  /** The list this node told last (or found its changer alone with); none before the first answer. */
  lastSent: readonly string[] | undefined;
  /** Whether this node's viewers changed since its last question to the presence, and who changed them last. */
  changed: boolean;
  changedBy: string | undefined;
  /** A question to the presence is out (one at a time per document: its writes stay in order). */
  asking: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Without an interval, how soon a cluster node reads a document's list again after telling it. */
const RECHECK_MS = 100;
/** How soon a question the presence could not answer (Redis down) is asked again, at least. */
const RETRY_MS = 1000;

/**
 * `doc_viewers` in a cluster: a change on this node stores its local viewers and reads everyone's
 * (the presence), then tells the document's room on every node. The throttle is ViewerNotices's,
 * and each interval ends on the cluster's latest state: at its end the node asks again and tells
 * if its own viewers changed meanwhile or the list differs from what it told last, so two nodes
 * changing one document at once both end on the full list. Without an interval every change is
 * told, and the list is read once more shortly after.
 */
class SharedViewerNotices implements Notices {
  readonly #presence: Presence;
  readonly #intervalMs: number;
  readonly #docs = new Map<HeraldNamespace, Map<string, SharedDoc>>();

  constructor(presence: Presence, intervalMs: number) {
    this.#presence = presence;
    this.#intervalMs = intervalMs;
  }

  notify(
    nsp: HeraldNamespace,
    caller: string,
    doctype: string,
    docname: string,
    room: string,
  ): void {
    let docs = this.#docs.get(nsp);
    const known = docs?.get(room);
    if (known) {
      known.changed = true;
      known.changedBy = caller;
      if (this.#intervalMs === 0 && !known.asking) {
        clearTimeout(known.timer);
        this.#ask(nsp, room, known);
      }
      return;
    }
    const doc: SharedDoc = {
      doctype,
      docname,
      lastSent: undefined,
      changed: true,
      changedBy: caller,
      asking: false,
      timer: undefined,
    };
    if (!docs) {
      docs = new Map();
      this.#docs.set(nsp, docs);
    }
    docs.set(room, doc);
    this.#ask(nsp, room, doc);
  }

  #ask(nsp: HeraldNamespace, room: string, doc: SharedDoc): void {
    const changed = doc.changed;
    const caller = changed ? doc.changedBy : undefined;
    doc.changed = false;
    doc.changedBy = undefined;
    doc.asking = true;
    doc.timer = undefined;
    const local = viewersOf(nsp, doc.doctype, doc.docname, room);
    const answer = this.#presence.viewers(nsp.name.slice(1), room, local);
    if (answer instanceof Promise) {
      answer.then(
        (users) => this.#answered(nsp, room, doc, users, changed, caller),
        // The presence logged why; the change is asked again later.
        () => this.#answered(nsp, room, doc, null, changed, caller),
      );
    } else {
      this.#answered(nsp, room, doc, answer, changed, caller);
    }
  }

  /** `users`: the list; undefined: nothing to tell (presence held); null: the question failed. */
  #answered(
    nsp: HeraldNamespace,
    room: string,
    doc: SharedDoc,
    users: readonly string[] | undefined | null,
    changed: boolean,
    caller: string | undefined,
  ): void {
    doc.asking = false;
    if (users === undefined) {
      this.#forget(nsp, room, doc);
      return;
    }
    if (users === null) {
      if (changed && !doc.changed) {
        doc.changed = true;
        doc.changedBy = caller;
      }
      this.#arm(nsp, room, doc, Math.max(this.#intervalMs, RETRY_MS));
      return;
    }
    const alone = users.length === 1 && users[0] === caller;
    const tell = !alone && (changed || !sameList(users, doc.lastSent));
    if (tell) emitViewers(nsp, doc.doctype, doc.docname, room, users);
    doc.lastSent = users;
    if (doc.changed && this.#intervalMs === 0) this.#ask(nsp, room, doc);
    else if (tell || doc.changed) this.#arm(nsp, room, doc, this.#intervalMs || RECHECK_MS);
    else this.#forget(nsp, room, doc);
  }

  #arm(nsp: HeraldNamespace, room: string, doc: SharedDoc, ms: number): void {
    doc.timer = setTimeout(() => this.#ask(nsp, room, doc), ms).unref();
  }

  #forget(nsp: HeraldNamespace, room: string, doc: SharedDoc): void {
    clearTimeout(doc.timer);
    const docs = this.#docs.get(nsp);
    if (docs?.get(room) !== doc) return;
    docs.delete(room);
    if (docs.size === 0) this.#docs.delete(nsp);
  }
}

function sameList(a: readonly string[], b: readonly string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((user, i) => user === b[i]);
}

/** A server's notices, when its viewers are told at most once per interval or through a cluster's presence: held by the server. */
const NOTICES = Symbol('herald.viewerNotices');
type WithNotices = { [NOTICES]?: Notices | undefined };

/**
 * A server's documents tell their viewers at most once per `intervalMs` while they change (the
 * first change at once, the latest state at the end of the interval); 0: at every change, as
 * upstream. `presence` says who views a document: the room's local members (the default, one
 * process), or every node's (a cluster's). The notices are the server's own (two servers in one
 * process never share them).
 */
export function limitViewerNotices(
  io: HeraldIo,
  intervalMs: number,
  presence: Presence = MEMORY_PRESENCE,
): void {
  (io as WithNotices)[NOTICES] = presence.shared
    ? new SharedViewerNotices(presence, intervalMs)
    : intervalMs > 0
      ? new ViewerNotices(intervalMs)
      : undefined;
}

/**
 * A socket of `caller` opened or closed the document, or left: its viewers are told who is viewing
 * it, unless the caller is alone with it. `room` is the document's `open_doc` room, when the caller
 * has its name at hand.
 */
export function notifyViewers(
  nsp: HeraldNamespace,
  caller: string,
  doctype: string,
  docname: string,
  room = openDocRoom(doctype, docname),
): void {
  // One process without an interval: told at once from the room's members (a presence that is
  // not shared answers the local list itself), with no notices object in between.
  const notices = (nsp.server as WithNotices)[NOTICES];
  if (notices) notices.notify(nsp, caller, doctype, docname, room);
  else tellViewers(nsp, caller, doctype, docname, room);
}

/** `open_doc:`, the start of every open_doc room. */
const OPEN_DOC = openDocRoom('', '').slice(0, -1);

/**
 * The document of an open_doc room (`open_doc:<doctype>/<docname>`; a doctype has no `/`), or
 * undefined for another room.
 */
export function docOfRoom(room: string): { doctype: string; docname: string } | undefined {
  if (!room.startsWith(OPEN_DOC)) return undefined;
  const slash = room.indexOf('/', OPEN_DOC.length);
  if (slash < 0) return undefined;
  return { doctype: room.slice(OPEN_DOC.length, slash), docname: room.slice(slash + 1) };
}

/**
 * Tells a document's viewers who views it after a change this node did not make (a node died, or
 * this one came back: `Nodes`' onDead and onRejoin), in the site's namespace `nsp`.
 */
export function announceViewers(
  nsp: HeraldNamespace,
  room: string,
  users: readonly string[],
): void {
  const doc = docOfRoom(room);
  if (doc) emitViewers(nsp, doc.doctype, doc.docname, room, users);
}
