import { type HeaderBag, headerValue } from './headers.js';

/** How a socket proves who it is: the session cookie or an Authorization header. */
export type Credentials =
  | { kind: 'authorization'; authorization: string; sid?: string | undefined }
  | { kind: 'sid'; sid: string };

/** The cookies of a Cookie header, by name (the first value wins). */
export function parseCookies(cookieHeader: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!cookieHeader) return cookies;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || cookies.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw value: a stray % must not lose the cookie
    }
    cookies.set(name, value);
  }
  return cookies;
}

/** The outcome of looking for credentials in the handshake headers (section 3.2). */
export type CredentialsResult =
  | { ok: true; credentials: Credentials }
  | { ok: false; reason: 'missing' | 'no-sid' };

/** Finds the credentials of a handshake; the Authorization header wins over the cookie. */
export function findCredentials(headers: HeaderBag): CredentialsResult {
  const authorization = headerValue(headers, 'authorization');
  const cookie = headerValue(headers, 'cookie');
  const sid = parseCookies(cookie).get('sid') || undefined;
  if (authorization)
    return { ok: true, credentials: { kind: 'authorization', authorization, sid } };
  if (cookie === undefined) return { ok: false, reason: 'missing' };
  if (sid === undefined) return { ok: false, reason: 'no-sid' };
  return { ok: true, credentials: { kind: 'sid', sid } };
}

/** The header that carries the credentials on a backchannel request (section 3.3). */
export function credentialHeader(credentials: Credentials): Record<string, string> {
  return credentials.kind === 'authorization'
    ? { authorization: credentials.authorization }
    : { cookie: `sid=${credentials.sid}` };
}
