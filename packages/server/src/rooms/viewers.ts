import { openDocRoom } from '@herald/protocol';
import type { HeraldNamespace } from '../session.js';

/**
 * The distinct users with a document open, in the order their sockets joined its `open_doc` room.
 * Only the room's members are looked at (upstream scanned every socket of the site).
 */
export function viewersOf(nsp: HeraldNamespace, doctype: string, docname: string): string[] {
  const members = nsp.adapter.rooms.get(openDocRoom(doctype, docname));
  const users = new Set<string>();
  for (const id of members ?? []) {
    const user = nsp.sockets.get(id)?.data.user;
    if (user !== undefined) users.add(user);
  }
  return [...users];
}

/** Tells a document's viewers who is viewing it, unless the caller is alone with it. */
export function notifyViewers(
  nsp: HeraldNamespace,
  caller: string,
  doctype: string,
  docname: string,
): void {
  const users = viewersOf(nsp, doctype, docname);
  if (users.length === 1 && users[0] === caller) return;
  nsp.to(openDocRoom(doctype, docname)).emit('doc_viewers', { doctype, docname, users });
}
