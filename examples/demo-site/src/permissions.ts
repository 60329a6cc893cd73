import type { Session } from './auth.js';
import type { ToDo } from './store.js';

/** Desk (list and form views) is for System Users, as in Frappe. */
export const hasDeskAccess = (session: Session): boolean => session.userType === 'System User';

/** A ToDo is readable by its owner, the user it is assigned to, and Administrator. */
export function canRead(session: Session, todo: ToDo): boolean {
  if (!hasDeskAccess(session)) return false;
  return (
    session.user === 'Administrator' ||
    todo.owner === session.user ||
    todo.allocatedTo === session.user
  );
}

/** has_permission(doctype, name) as the demo answers it. */
export function hasPermission(
  session: Session,
  doctype: string,
  name: string,
  todos: readonly ToDo[],
): boolean {
  if (doctype !== 'ToDo') return false;
  if (name === '') return hasDeskAccess(session);
  const todo = todos.find((t) => t.name === name);
  return todo !== undefined && canRead(session, todo);
}
