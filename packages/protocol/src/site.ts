import { type HeaderBag, headerValue } from './headers.js';
import { hostnameOf } from './hostname.js';
import { checkSiteName, type SiteNameCheck, siteNameOfAuthority } from './site-name.js';

/** What site resolution needs to know besides the headers. */
export interface SiteOptions {
  /** Whether the peer is a configured trusted proxy, whose X-Frappe-Site-Name is believed. */
  trustedProxy: boolean;
  /** Site used when the Host is `localhost` or `127.0.0.1`. */
  defaultSite?: string | undefined;
  /** Skip the Origin step: set when the Origin is an extra allowed origin on another host. */
  ignoreOrigin?: boolean | undefined;
}

/** Where a connection's site name comes from (section 3.1), and the value it is read from. */
export interface SiteSource {
  from: 'x-frappe-site-name' | 'default_site' | 'origin' | 'host';
  /** The header's value (or default_site) as it was, before the hostname is taken. */
  value: string;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

/**
 * Which value names the site of a connection (section 3.1): the trusted proxy's
 * X-Frappe-Site-Name, then the default site for a local Host, then the Origin, then the Host.
 */
export function siteSourceOf(headers: HeaderBag, options: SiteOptions): SiteSource | undefined {
  if (options.trustedProxy) {
    const fromProxy = headerValue(headers, 'x-frappe-site-name')?.trim();
    if (fromProxy) return { from: 'x-frappe-site-name', value: fromProxy };
  }
  const hostHeader = headerValue(headers, 'host');
  const host = hostnameOf(hostHeader);
  if (options.defaultSite && host !== undefined && LOCAL_HOSTS.has(host.toLowerCase())) {
    return { from: 'default_site', value: options.defaultSite };
  }
  const origin = options.ignoreOrigin ? undefined : headerValue(headers, 'origin');
  if (origin !== undefined && hostnameOf(origin) !== undefined)
    return { from: 'origin', value: origin };
  return host === undefined ? undefined : { from: 'host', value: hostHeader! };
}

/** The site name a source gives, checked by the site name rule (see site-name.ts). */
export function siteNameOf(source: SiteSource): SiteNameCheck {
  switch (source.from) {
    case 'x-frappe-site-name':
    case 'host':
      return siteNameOfAuthority(source.value.trim());
    case 'origin':
      // An Origin is a URL by its nature: its hostname is the name.
      return checkSiteName(hostnameOf(source.value) ?? '');
    default:
      return checkSiteName(source.value);
  }
}

/**
 * The site a connection is for (section 3.1): the trusted proxy's X-Frappe-Site-Name, then the
 * default site for a local Host, then the Origin's hostname, then the Host's. Not checked: see
 * `siteNameOf` for the rule a site name must pass.
 */
export function resolveSite(headers: HeaderBag, options: SiteOptions): string | undefined {
  const source = siteSourceOf(headers, options);
  if (source === undefined) return undefined;
  return source.from === 'default_site' ? source.value : hostnameOf(source.value);
}
