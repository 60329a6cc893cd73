import type { SocketRecords } from '../cluster/socket-records.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { HeraldSocket } from '../session.js';
import type { CoreHandlers } from './core-handlers.js';
import type { CoreEvent } from './core-requests.js';
import type { SocketLimits } from './limits.js';

/** What the re-join needs. */
export interface RejoinDeps {
  records: SocketRecords;
  core: CoreHandlers;
  limits: SocketLimits;
  /** The claim waits this long for Redis at most (--backend-timeout). */
  timeoutMs: number;
  metrics?: Metrics | undefined;
  logger: Logger;
}

/** A private session id as Socket.IO makes them (base64id: letters, digits, - and _). */
const PID = /^[A-Za-z0-9_-]{1,64}$/;

/** The private session id a client presented in its CONNECT (`auth.pid`), if a well-formed one. */
export function presentedPid(socket: HeraldSocket): string | undefined {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  const pid = auth?.pid;
  return typeof pid === 'string' && PID.test(pid) ? pid : undefined;
}

/**
 * The core request that joins a recorded room again, with its arguments (the room's name is the
 * one that request makes of them). Open documents are re-opened from the record's own list.
 */
export function requestFor(room: string): [Exclude<CoreEvent, 'ping'>, unknown[]] | undefined {
  if (room.startsWith('doctype:')) return ['doctype_subscribe', [room.slice('doctype:'.length)]];
  if (room.startsWith('task_progress:'))
    return ['task_subscribe', [room.slice('task_progress:'.length)]];
  if (room.startsWith('doc:')) {
    const rest = room.slice('doc:'.length);
    // Doctype names have no slash; document names may.
    const slash = rest.indexOf('/');
    return slash > 0 ? ['doc_subscribe', [rest.slice(0, slash), rest.slice(slash + 1)]] : undefined;
  }
  return undefined;
}

/**
 * A socket connected without recovery but presented the private session id of an earlier one (its
 * node was killed, so Socket.IO stored no session): the record of that id is claimed from Redis
 * and, if it is this user's, its rooms are joined again and its documents reopened, each through
 * the core request a client sends for it (read permission asked again, limits applied, viewers
 * told), as if the client had sent them; Frappe's desk never sends them again by itself. Rooms an
 * app's handler joined are not in the record (Herald cannot repeat the app's check). Never throws;
 * every step is bounded (the claim by `timeoutMs`, each request by the backend timeout).
 */
export function rejoinOnConnect(socket: HeraldSocket, deps: RejoinDeps): void {
  if (socket.recovered) return;
  const pid = presentedPid(socket);
  if (pid === undefined) return;
  rejoin(socket, pid, deps).catch((error: unknown) => {
    deps.metrics?.recoveries.inc({ outcome: 'rejoin_failed' });
    deps.logger.warn(
      { site: socket.data.site, user: socket.data.user, socket: socket.id, err: error },
      'could not re-join the rooms of a socket',
    );
  });
}

async function rejoin(socket: HeraldSocket, pid: string, deps: RejoinDeps): Promise<void> {
  const started = performance.now();
  const site = socket.nsp.name.slice(1);
  const user = socket.data.user;
  const log = deps.logger.child({ site, user, socket: socket.id });
  let claim: Awaited<ReturnType<SocketRecords['claim']>>;
  try {
    claim = await deps.records.claim(site, pid, user, deps.timeoutMs);
  } catch (error) {
    deps.metrics?.recoveries.inc({ outcome: 'rejoin_failed' });
    log.debug(
      { err: error instanceof Error ? error.message : String(error) },
      'no re-join: the socket records could not be read',
    );
    return;
  }
  // The claim script compares the users; compared again here, where it matters.
  if (claim.outcome !== 'found' || claim.record.user !== user) {
    const outcome = claim.outcome === 'found' ? 'other_user' : claim.outcome;
    deps.metrics?.recoveries.inc({ outcome: `rejoin_${outcome}` });
    log.debug({ outcome }, 'no re-join: no record of this user for the session id presented');
    return;
  }
  const { record } = claim;
  const requests: [Exclude<CoreEvent, 'ping'>, unknown[]][] = [];
  for (const room of record.rooms.slice(0, deps.limits.maxRooms)) {
    const request = requestFor(room);
    if (request) requests.push(request);
  }
  for (const doc of record.openDocs.slice(0, deps.limits.maxOpenDocs))
    requests.push(['doc_open', doc]);
  const replies = await Promise.all(
    requests.map(([event, args]) => deps.core.request(socket, event, args)),
  );
  // Why some were not re-joined (a permission revoked, the web server down): the codes only.
  const refused = new Map<string, number>();
  for (const reply of replies)
    if (!reply.ok) refused.set(reply.error.code, (refused.get(reply.error.code) ?? 0) + 1);
  deps.metrics?.recoveries.inc({ outcome: 'rejoined' });
  log.debug(
    {
      from: claim.node,
      rooms: record.rooms.length,
      openDocs: record.openDocs.length,
      refused: Object.fromEntries(refused),
      ms: Math.round(performance.now() - started),
    },
    'socket re-joined its rooms after its node was lost',
  );
}
