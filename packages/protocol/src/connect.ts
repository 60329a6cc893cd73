import { type Credentials, findCredentials } from './credentials.js';
import { type HeaderBag, headerValue } from './headers.js';
import { hostnameOf, sameHostname } from './hostname.js';
import { isOriginAllowed } from './origin.js';
import { resolveSite } from './site.js';

/** The CONNECT_ERROR messages of section 3, exactly as upstream clients see them. */
export const CONNECT_ERROR = {
  invalidNamespace: 'Invalid namespace',
  invalidOrigin: 'Invalid origin',
  missingCredentials:
    'Missing cookie and authorization header. Either one needed for authentication.',
  noAuthMethod: 'No authentication method used. Use cookie or authorization header.',
  unauthorized: 'Unauthorized',
} as const;

/** What the connect checks need besides the headers. */
export interface ConnectOptions {
  /** The namespace the client asked for, with its leading `/`. */
  namespace: string;
  headers: HeaderBag;
  trustedProxy: boolean;
  defaultSite?: string | undefined;
  allowedOrigins?: readonly string[] | undefined;
}

/** The outcome of the checks of section 3.2, before the backchannel is asked. */
export type ConnectCheck =
  | { ok: true; site: string; credentials: Credentials }
  | { ok: false; error: string; site: string | undefined };

/** Runs the checks of section 3.2: origin, namespace, then credentials. */
export function checkConnect(options: ConnectOptions): ConnectCheck {
  const { headers } = options;
  // The origin is checked first: an Origin from another host would otherwise pick the site and
  // surface as a misleading "Invalid namespace" (the spec's vectors expect "Invalid origin").
  const host = headerValue(headers, 'host');
  const origin = headerValue(headers, 'origin');
  const originOnHost = origin === undefined || sameHostname(hostnameOf(host), hostnameOf(origin));
  // An extra allowed origin (a single-page app on another host) does not name the site.
  const site = resolveSite(headers, { ...options, ignoreOrigin: !originOnHost });
  if (!isOriginAllowed(host, origin, options.allowedOrigins)) {
    return { ok: false, error: CONNECT_ERROR.invalidOrigin, site };
  }
  if (site === undefined || options.namespace.slice(1) !== site) {
    return { ok: false, error: CONNECT_ERROR.invalidNamespace, site };
  }
  const found = findCredentials(headers);
  if (!found.ok) {
    const error =
      found.reason === 'missing' ? CONNECT_ERROR.missingCredentials : CONNECT_ERROR.noAuthMethod;
    return { ok: false, error, site };
  }
  return { ok: true, site, credentials: found.credentials };
}
