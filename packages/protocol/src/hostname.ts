/**
 * The hostname part of a Host, Origin or X-Frappe-Site-Name value: the scheme, userinfo, path and
 * port are dropped; an IPv6 literal keeps its brackets.
 *
 * Unlike upstream's naive split, userinfo is removed before the port, so
 * `https://victim.com:1@evil.com` is `evil.com`, and `[::1]:9000` is `[::1]`.
 */
export function hostnameOf(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  let rest = hostAndPortOf(value.trim());
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    rest = close >= 0 ? rest.slice(0, close + 1) : rest;
  } else {
    const colon = rest.indexOf(':');
    if (colon >= 0) rest = rest.slice(0, colon);
  }
  return rest === '' ? undefined : rest;
}

/** Whether an authority (after any scheme) names a port of its own. */
export function hasExplicitPort(value: string): boolean {
  const rest = hostAndPortOf(value);
  return rest.startsWith('[') ? /\]:\d+$/.test(rest) : /:\d*$/.test(rest);
}

/** `host[:port]` of a URL or authority: without scheme, userinfo, path, query or fragment. */
function hostAndPortOf(value: string): string {
  let rest = value;
  const schemeEnd = rest.indexOf('://');
  if (schemeEnd >= 0) rest = rest.slice(schemeEnd + 3);
  const authorityEnd = rest.search(/[/?#]/);
  if (authorityEnd >= 0) rest = rest.slice(0, authorityEnd);
  const at = rest.lastIndexOf('@');
  return at >= 0 ? rest.slice(at + 1) : rest;
}

/** Host names compare without regard to case. */
export function sameHostname(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}
