import type { Credentials } from '@herald/protocol';
import { OperatorSession, Session, type SocketSession } from '../session.js';

/** The version of the plain form below; another version is treated as no session. */
const VERSION = 1;

/**
 * A socket's session as plain data, for Redis (the streams adapter stores it with msgpack, which
 * keeps only plain values: a class, its getters and its Maps do not survive the trip). In-flight
 * work of the old process is dropped (`pending`, `earlyChecks`), and so is the rate budget (its
 * clock is the old process's): it starts full.
 */
export interface PlainSession {
  v: typeof VERSION;
  base: string;
  site: string;
  user: string;
  userType: string;
  installedApps: string[];
  credentials: Credentials;
  operator: boolean;
  openDocs?: [string, { doctype: string; docname: string }][];
  state?: [string, unknown][];
}

/** Whether msgpack carries the value as it is: plain JSON-like data only. */
function isPlain(value: unknown, depth = 0): boolean {
  if (depth > 32) return false;
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (Array.isArray(value)) return value.every((item) => isPlain(item, depth + 1));
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      return Object.values(value as object).every((item) => isPlain(item, depth + 1));
    }
    default:
      return false;
  }
}

/**
 * The plain form of a session. `dropped` is told each handler state key whose value is not plain
 * data (a class instance, a function, a Map...): it does not move with the session.
 */
export function encodeSession(
  session: SocketSession,
  dropped?: (key: string) => void,
): PlainSession {
  const plain: PlainSession = {
    v: VERSION,
    base: (session.backchannel as { base: string }).base,
    site: session.site,
    user: session.user,
    userType: session.userType,
    installedApps: [...session.installedApps],
    credentials: session.credentials,
    operator: session.operator === true,
  };
  if (session.openDocs && session.openDocs.size > 0) {
    plain.openDocs = [...session.openDocs].map(([room, doc]) => [
      room,
      { doctype: doc.doctype, docname: doc.docname },
    ]);
  }
  if (session.state && session.state.size > 0) {
    const state: [string, unknown][] = [];
    for (const [key, value] of session.state) {
      if (isPlain(value)) state.push([key, value]);
      else dropped?.(key);
    }
    if (state.length > 0) plain.state = state;
  }
  return plain;
}

const isString = (value: unknown): value is string => typeof value === 'string';

function isCredentials(value: unknown): value is Credentials {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  if (c.kind === 'sid') return isString(c.sid);
  if (c.kind === 'authorization')
    return isString(c.authorization) && (c.sid === undefined || isString(c.sid));
  return false;
}

/** A session from its plain form; undefined when it is not one this Herald wrote. */
export function decodeSession(value: unknown): Session | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const plain = value as Partial<PlainSession>;
  if (
    plain.v !== VERSION ||
    !isString(plain.base) ||
    !isString(plain.site) ||
    !isString(plain.user) ||
    !isString(plain.userType) ||
    !Array.isArray(plain.installedApps) ||
    !plain.installedApps.every(isString) ||
    !isCredentials(plain.credentials)
  ) {
    return undefined;
  }
  const identity = {
    user: plain.user,
    userType: plain.userType,
    installedApps: plain.installedApps,
  };
  const session = plain.operator
    ? new OperatorSession(plain.base, plain.site, plain.credentials, identity)
    : new Session(plain.base, plain.site, plain.credentials, identity);
  if (Array.isArray(plain.openDocs) && plain.openDocs.length > 0) {
    session.openDocs = new Map();
    for (const entry of plain.openDocs) {
      if (!Array.isArray(entry) || !isString(entry[0])) continue;
      const doc = entry[1] as { doctype?: unknown; docname?: unknown } | undefined;
      if (doc && isString(doc.doctype) && isString(doc.docname))
        session.openDocs.set(entry[0], { doctype: doc.doctype, docname: doc.docname });
    }
  }
  if (Array.isArray(plain.state) && plain.state.length > 0) {
    session.state = new Map();
    for (const entry of plain.state) {
      if (Array.isArray(entry) && isString(entry[0])) session.state.set(entry[0], entry[1]);
    }
  }
  return session;
}
