import type { Backchannel } from '../auth/backchannel.js';
import { asHeraldError, ERRORS, HeraldError } from '../errors.js';
import type { HeraldSocket } from '../session.js';

/** What a request needs read permission on: a doctype, or one document of it. */
export type PermissionTarget = readonly [doctype: string, docname?: string];

/** Permission checks of one socket that may run ahead of its earlier requests. */
export const MAX_EARLY_CHECKS = 8;

const describe = ([doctype, docname]: PermissionTarget) =>
  docname === undefined ? doctype : `${doctype} ${docname}`;

const denied = (socket: HeraldSocket, target: PermissionTarget) =>
  new HeraldError(
    'HERALD_PERMISSION_DENIED',
    `${socket.data.user} is not permitted to read ${describe(target)}`,
  );

/** Asks the web server (or its cached answer) for read permission; throws a coded error unless allowed. */
export async function requirePermission(
  socket: HeraldSocket,
  backchannel: Backchannel,
  target: PermissionTarget,
): Promise<void> {
  let allowed: boolean;
  try {
    allowed = await backchannel.hasPermission(socket.data.backchannel, target[0], target[1]);
  } catch (error) {
    const cause = asHeraldError(error);
    // The client gets the catalogue's words only: the URL and the backend's answer are in the log
    // (the backchannel logs every failed request) and in `cause`.
    throw new HeraldError(
      'HERALD_PERMISSION_CHECK_FAILED',
      `could not check read permission on ${describe(target)}: ${ERRORS[cause.code].message}`,
      { cause, hint: cause.hint },
    );
  }
  if (!allowed) throw denied(socket, target);
}

/**
 * The cached answer alone, without waiting: true when allowed, a thrown denial when denied, and
 * undefined when only the web server can tell.
 */
export function cachedPermission(
  socket: HeraldSocket,
  backchannel: Backchannel,
  target: PermissionTarget,
): true | undefined {
  const allowed = backchannel.cachedPermission(socket.data.backchannel, target[0], target[1]);
  if (allowed === false) throw denied(socket, target);
  return allowed;
}

/**
 * Starts a permission check before the socket's earlier requests are done, so the checks of a
 * burst of subscribes wait on the web server together instead of one after another. At most
 * MAX_EARLY_CHECKS per socket run ahead (undefined: check it in turn). The caller awaits it in turn.
 */
export function startEarlyCheck(
  socket: HeraldSocket,
  backchannel: Backchannel,
  target: PermissionTarget,
): Promise<void> | undefined {
  const session = socket.data;
  if ((session.earlyChecks ?? 0) >= MAX_EARLY_CHECKS) return undefined;
  session.earlyChecks = (session.earlyChecks ?? 0) + 1;
  const check = requirePermission(socket, backchannel, target);
  // Also handles a denial, which is awaited only in turn and must not count as unhandled.
  const done = () => {
    session.earlyChecks = (session.earlyChecks ?? 1) - 1;
  };
  check.then(done, done);
  return check;
}
