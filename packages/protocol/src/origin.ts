import { hostnameOf, sameHostname } from './hostname.js';

/** The scheme://host[:port] form of an origin, or undefined when it does not parse. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

/**
 * The origin check of section 3.2: a missing Origin is allowed (browsers omit it on same-origin
 * polling); otherwise its hostname must be the Host's, or the origin must be listed as allowed.
 */
export function isOriginAllowed(
  host: string | undefined,
  origin: string | undefined,
  allowedOrigins: readonly string[] = [],
): boolean {
  if (origin === undefined) return true;
  if (sameHostname(hostnameOf(host), hostnameOf(origin))) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === undefined) return false;
  return allowedOrigins.some((allowed) => normalizeOrigin(allowed) === normalized);
}
