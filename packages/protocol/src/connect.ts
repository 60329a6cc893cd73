import { type Credentials, findCredentials } from './credentials.js';
import { type HeaderBag, headerValue } from './headers.js';
import { hostnameOf, sameHostname } from './hostname.js';
import { isOriginAllowed } from './origin.js';
import { type SiteSource, siteNameOf, siteSourceOf } from './site.js';
import { quoteValue } from './site-name.js';

/**
 * The CONNECT_ERROR messages of section 3, exactly as upstream clients see them; `invalidSiteName`
 * is Herald's own (upstream takes any name), and is followed by what is wrong with the name.
 */
export const CONNECT_ERROR = {
  invalidNamespace: 'Invalid namespace',
  invalidSiteName: 'Invalid site name',
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

/** Which check refused a connection. */
export type ConnectRule = 'origin' | 'site-name' | 'namespace' | 'credentials';

/** The outcome of the checks of section 3.2, before the backchannel is asked. */
export type ConnectCheck =
  | { ok: true; site: string; credentials: Credentials }
  | { ok: false; error: string; rule: ConnectRule; site: string | undefined };

const SOURCE_NAMES: Record<SiteSource['from'], string> = {
  'x-frappe-site-name': 'the X-Frappe-Site-Name header',
  default_site: 'default_site',
  origin: 'the Origin header',
  host: 'the Host header',
};

/**
 * Runs the checks of section 3.2: origin, the site name rule (Herald's: the site must be a host
 * name, see site-name.ts), namespace, then credentials.
 */
export function checkConnect(options: ConnectOptions): ConnectCheck {
  const { headers } = options;
  // The origin is checked first: an Origin from another host would otherwise pick the site and
  // surface as a misleading "Invalid namespace" (the spec's vectors expect "Invalid origin").
  const host = headerValue(headers, 'host');
  const origin = headerValue(headers, 'origin');
  const originOnHost = origin === undefined || sameHostname(hostnameOf(host), hostnameOf(origin));
  // An extra allowed origin (a single-page app on another host) does not name the site.
  const source = siteSourceOf(headers, { ...options, ignoreOrigin: !originOnHost });
  const named = source === undefined ? undefined : siteNameOf(source);
  const site = named?.ok ? named.site : undefined;
  if (!isOriginAllowed(host, origin, options.allowedOrigins)) {
    return { ok: false, error: CONNECT_ERROR.invalidOrigin, rule: 'origin', site };
  }
  if (source !== undefined && named !== undefined && !named.ok) {
    const error = `${CONNECT_ERROR.invalidSiteName}: ${SOURCE_NAMES[source.from]} is ${quoteValue(source.value)}, which ${named.problem}; a site name is a host name such as erp.example.com`;
    return { ok: false, error, rule: 'site-name', site: undefined };
  }
  if (site === undefined || options.namespace.slice(1) !== site) {
    return { ok: false, error: CONNECT_ERROR.invalidNamespace, rule: 'namespace', site };
  }
  const found = findCredentials(headers);
  if (!found.ok) {
    const error =
      found.reason === 'missing' ? CONNECT_ERROR.missingCredentials : CONNECT_ERROR.noAuthMethod;
    return { ok: false, error, rule: 'credentials', site };
  }
  return { ok: true, site, credentials: found.credentials };
}
