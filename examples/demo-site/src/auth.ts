import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Store, User } from './store.js';

/** The user a request is from: its sid cookie or `Authorization: token key:secret`; else Guest. */
export interface Session {
  user: string;
  userType: 'System User' | 'Website User' | 'Guest';
  fullName: string;
}

export const GUEST: Session = { user: 'Guest', userType: 'Guest', fullName: 'Guest' };

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The sid cookie of a request. */
export function sidOf(req: IncomingMessage): string | undefined {
  return /(?:^|;\s*)sid=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
}

const asSession = (user: User): Session => ({
  user: user.name,
  userType: user.userType,
  fullName: user.fullName,
});

/** Who sent the request, on a site; an unknown sid is Guest (as in Frappe), a bad token is null. */
export function sessionOf(store: Store, site: string, req: IncomingMessage): Session | null {
  const data = store.read(site);
  if (!data) return GUEST;
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^token\s+([^:]+):(.+)$/i.exec(authorization);
    const user =
      match &&
      data.users.find(
        (u) => u.apiKey && same(u.apiKey, match[1]!) && same(u.apiSecret ?? '', match[2]!),
      );
    return user ? asSession(user) : null;
  }
  const sid = sidOf(req);
  const name = sid ? data.sessions[sid] : undefined;
  const user = name ? data.users.find((u) => u.name === name) : undefined;
  return user ? asSession(user) : GUEST;
}

/** Logs a user in: checks the password and opens a session; returns the new sid. */
export function login(
  store: Store,
  site: string,
  usr: string,
  pwd: string,
): { sid: string; session: Session } | null {
  const user = store.read(site)?.users.find((u) => u.name === usr || u.name.split('@')[0] === usr);
  if (!user || !same(user.password, pwd)) return null;
  const sid = randomBytes(18).toString('base64url');
  store.transaction(site, (data) => {
    data.sessions[sid] = user.name;
  });
  return { sid, session: asSession(user) };
}

/** Ends a session. */
export function logout(store: Store, site: string, sid: string | undefined): void {
  if (!sid) return;
  store.transaction(site, (data) => {
    delete data.sessions[sid];
  });
}
