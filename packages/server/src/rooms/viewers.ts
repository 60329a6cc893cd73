import { openDocRoom } from '@herald/protocol';
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
  nsp.to(room).emit('doc_viewers', { doctype, docname, users });
  return true;
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
class ViewerNotices {
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

/** A server's notices, when its viewers are told at most once per interval: held by the server. */
const NOTICES = Symbol('herald.viewerNotices');
type WithNotices = { [NOTICES]?: ViewerNotices | undefined };

/**
 * A server's documents tell their viewers at most once per `intervalMs` while they change (the
 * first change at once, the latest state at the end of the interval); 0: at every change, as
 * upstream. The notices are the server's own (two servers in one process never share them).
 */
export function limitViewerNotices(io: HeraldIo, intervalMs: number): void {
  (io as WithNotices)[NOTICES] = intervalMs > 0 ? new ViewerNotices(intervalMs) : undefined;
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
  const limited = (nsp.server as WithNotices)[NOTICES];
  if (limited) limited.notify(nsp, caller, doctype, docname, room);
  else tellViewers(nsp, caller, doctype, docname, room);
}
