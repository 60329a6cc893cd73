import { type HeaderBag, headerValue } from './headers.js';
import { hostnameOf } from './hostname.js';

/** What site resolution needs to know besides the headers. */
export interface SiteOptions {
  /** Whether the peer is a configured trusted proxy, whose X-Frappe-Site-Name is believed. */
  trustedProxy: boolean;
  /** Site used when the Host is `localhost` or `127.0.0.1`. */
  defaultSite?: string | undefined;
  /** Skip the Origin step: set when the Origin is an extra allowed origin on another host. */
  ignoreOrigin?: boolean | undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

/**
 * The site a connection is for (section 3.1): the trusted proxy's X-Frappe-Site-Name, then the
 * default site for a local Host, then the Origin's hostname, then the Host's.
 */
export function resolveSite(headers: HeaderBag, options: SiteOptions): string | undefined {
  if (options.trustedProxy) {
    const fromProxy = hostnameOf(headerValue(headers, 'x-frappe-site-name'));
    if (fromProxy) return fromProxy;
  }
  const host = hostnameOf(headerValue(headers, 'host'));
  if (options.defaultSite && host !== undefined && LOCAL_HOSTS.has(host.toLowerCase())) {
    return options.defaultSite;
  }
  const origin = options.ignoreOrigin ? undefined : hostnameOf(headerValue(headers, 'origin'));
  return origin ?? host;
}
