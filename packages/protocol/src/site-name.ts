/** The longest site name: a DNS name is at most 253 characters written out (RFC 1035, 2.3.4). */
export const MAX_SITE_NAME_LENGTH = 253;
/** The longest label (the part between dots) of a site name, as in DNS. */
export const MAX_SITE_LABEL_LENGTH = 63;

/** Whether a site name passed the rule, and when not, what is wrong with it (in words). */
export type SiteNameCheck = { ok: true; site: string } | { ok: false; problem: string };

// A label: letters, digits, hyphens and underscores, not starting or ending with a hyphen.
//
// Underscores are allowed, though a strict DNS host name (RFC 952/1123) has none: a Frappe site is
// a directory of the bench named by `bench new-site`, which does not restrict the name to DNS's
// letters, and names with underscores occur where the Host is a container or compose service name
// (`myproject_frontend_1`); browsers and Node's HTTP send them as they are. An underscore, unlike
// `/`, `\`, `..`, a space or a control character, has no meaning in a path, a header or a log line.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;
const LABEL_CHARACTER = /[A-Za-z0-9_.-]/;
const NAME_CHARACTERS = /^[A-Za-z0-9_.-]*$/;

/** A value as a site name error quotes it: JSON-escaped, cut to its first 64 characters. */
export function quoteValue(value: string): string {
  return value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
}

function describeCharacter(character: string): string {
  if (character === ' ') return 'a space';
  const code = character.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f)
    return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `"${character}"`;
}

/**
 * The site name rule: a host name as DNS allows it, at most 253 characters in all, of labels of 1 to
 * 63 letters, digits, hyphens (not first or last in a label) and underscores, separated by dots.
 * No port, scheme or path: those are taken off (or refused) before. Names keep their case, as Frappe
 * uses them (a site is a directory).
 */
export function checkSiteName(name: string): SiteNameCheck {
  if (name === '') return { ok: false, problem: 'is empty' };
  if (name.length > MAX_SITE_NAME_LENGTH)
    return {
      ok: false,
      problem: `is ${name.length} characters long (at most ${MAX_SITE_NAME_LENGTH})`,
    };
  if (name.startsWith('[')) return { ok: false, problem: 'is an IPv6 address, not a site name' };
  for (const character of NAME_CHARACTERS.test(name) ? '' : name) {
    if (!LABEL_CHARACTER.test(character))
      return {
        ok: false,
        problem: `contains ${describeCharacter(character)} (only letters, digits, hyphens, underscores and dots)`,
      };
  }
  for (const label of name.split('.')) {
    if (label === '')
      return {
        ok: false,
        problem: 'has an empty label (a dot at the start or the end, or two dots in a row)',
      };
    if (label.length > MAX_SITE_LABEL_LENGTH)
      return {
        ok: false,
        problem: `has a label of ${label.length} characters (at most ${MAX_SITE_LABEL_LENGTH} between dots)`,
      };
    if (!LABEL.test(label))
      return {
        ok: false,
        problem: `has a label that starts or ends with a hyphen (${quoteValue(label)})`,
      };
  }
  return { ok: true, site: name };
}

/**
 * A Host or X-Frappe-Site-Name value as a site name: the name, with an optional `:port` that is
 * dropped, as Frappe's own `get_site_name` drops it (a proxy that forwards `$http_host` sends one).
 * Anything else (a scheme, a path, userinfo, an IPv6 literal) is refused rather than cut off, so
 * `a/b` is not quietly the site `a`.
 */
export function siteNameOfAuthority(value: string): SiteNameCheck {
  const colon = value.lastIndexOf(':');
  if (colon >= 0 && !value.startsWith('[')) {
    const port = value.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      return {
        ok: false,
        problem: `has a port that is not a number from 1 to 65535 (${quoteValue(port)})`,
      };
    return checkSiteName(value.slice(0, colon));
  }
  return checkSiteName(value);
}
