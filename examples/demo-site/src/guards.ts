import type { ServerResponse } from 'node:http';
import type { Session } from './auth.js';
import { error } from './http.js';
import { canRead, hasDeskAccess } from './permissions.js';
import type { ToDo } from './store.js';

// Guards of the desk routes: each answers the refusal itself, so a handler only has to stop
// (`if (!requireDesk(res, session)) return;`) and every route refuses in the same words.

/** Desk routes are for System Users: Guest is asked to log in (401), anyone else refused (403). */
export function requireDesk(res: ServerResponse, session: Session): boolean {
  if (hasDeskAccess(session)) return true;
  error(
    res,
    session.user === 'Guest' ? 401 : 403,
    'PermissionError',
    session.user === 'Guest' ? 'Log in first' : 'Not permitted',
  );
  return false;
}

/** The ToDo `name` if the session may read it; else answers 404 (no such ToDo) or 403. */
export function findReadable(
  res: ServerResponse,
  todos: readonly ToDo[],
  session: Session,
  name: string,
): ToDo | undefined {
  const todo = todos.find((t) => t.name === name);
  if (!todo || !canRead(session, todo)) {
    error(
      res,
      todo ? 403 : 404,
      todo ? 'PermissionError' : 'DoesNotExistError',
      todo ? 'Not permitted' : `ToDo ${name} not found`,
    );
    return undefined;
  }
  return todo;
}
