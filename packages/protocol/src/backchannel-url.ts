import { hasExplicitPort } from './hostname.js';
import { normalizeOrigin } from './origin.js';

/** Settings that decide where the backchannel goes (section 3.4). */
export interface BackchannelSettings {
  /** Herald's explicit backend URL: beats everything else. */
  backendUrl?: string | undefined;
  webserverHost?: string | undefined;
  webserverPort?: number | string | undefined;
  developerMode?: boolean | number | undefined;
  /**
   * Herald's rule: hosts besides loopback ones that a backchannel derived from a client's Origin (or
   * Host) may go to. See `chooseBackchannel`.
   */
  originHosts?: readonly string[] | undefined;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * The base URL of backchannel requests: the explicit backend URL; else webserver_host with
 * webserver_port (unless the host names a port); else the client's Origin (under developer_mode
 * with webserver_port as its port); else, with no Origin, `http://<Host>`.
 * Undefined when none of these gives a usable URL.
 */
export function backchannelBase(
  settings: BackchannelSettings,
  origin: string | undefined,
  host?: string | undefined,
): string | undefined {
  const fixed = fixedBackchannelBase(settings);
  if (fixed !== null) return fixed;
  return derivedBase(settings, origin, host);
}

const hasPortSetting = (settings: BackchannelSettings): boolean => {
  const port = settings.webserverPort;
  return port !== undefined && port !== null && String(port) !== '';
};

/**
 * The base URL the operator set: the explicit backend URL, else webserver_host with
 * webserver_port. Null when neither is set (the base is then derived from each connection);
 * undefined when webserver_host does not make a URL.
 */
export function fixedBackchannelBase(settings: BackchannelSettings): string | undefined | null {
  if (settings.backendUrl) return withoutTrailingSlash(settings.backendUrl);
  const port = settings.webserverPort;
  if (settings.webserverHost && hasPortSetting(settings)) {
    const raw = SCHEME.test(settings.webserverHost)
      ? settings.webserverHost
      : `http://${settings.webserverHost}`;
    try {
      const url = new URL(raw);
      if (!hasExplicitPort(raw)) url.port = String(port);
      return url.origin;
    } catch {
      return undefined;
    }
  }
  return null;
}

function derivedBase(
  settings: BackchannelSettings,
  origin: string | undefined,
  host: string | undefined,
): string | undefined {
  const port = settings.webserverPort;
  const hasPort = hasPortSetting(settings);
  const base = origin ?? (host ? `http://${host}` : undefined);
  if (base === undefined) return undefined;
  const normalized = normalizeOrigin(base);
  if (normalized === undefined) return undefined;
  if (settings.developerMode && hasPort) {
    const url = new URL(normalized);
    url.port = String(port);
    return url.origin;
  }
  return normalized;
}

/**
 * Whether a URL's hostname (as `new URL` writes it: lower case, IPv4 in dotted decimal, IPv6 in
 * brackets and compressed) is this machine's loopback: `localhost` and the names under it (RFC 6761
 * reserves them for loopback, and a Frappe developer's sites are `site1.localhost` and the like),
 * 127.0.0.0/8, ::1 and the IPv4-mapped 127.0.0.0/8. `0.0.0.0` is not: it is no loopback address,
 * though Linux connects it to this machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return true;
  return name === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(name);
}

/**
 * A host the operator lists for `originHosts`, in the form `new URL` gives a hostname (lower case,
 * IPv6 in brackets), or undefined when it is not a bare host name or address.
 */
export function normalizeHostName(entry: string): string | undefined {
  const text = entry.trim();
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  const literal = bare.includes(':') ? `[${bare}]` : bare;
  if (literal === '' || /[/?#@\s\\]/.test(literal)) return undefined;
  try {
    const url = new URL(`http://${literal}/`);
    return url.port === '' ? url.hostname.replace(/\.$/, '') : undefined;
  } catch {
    return undefined;
  }
}

/** Where the backchannel of one connection goes, and why; or why it cannot go anywhere. */
export type BackchannelChoice =
  | { ok: true; base: string; derived: boolean }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'not-allowed'; base: string; hostname: string };

/**
 * Herald's choice of a connection's backchannel base URL. The URL the operator set
 * (`backendUrl`, or webserver_host with webserver_port) is used as it is. Otherwise the URL derived
 * from the client's Origin (or Host) as `backchannelBase` derives it is used only when its host is
 * a loopback one (`isLoopbackHost`: a developer's `bench start`) or one of `originHosts`: the
 * backchannel carries the client's cookie and the socket secret, and a client chooses its Origin
 * freely (only browsers are held to theirs), so an unrestricted Origin would let any client make
 * Herald send them to an address of its choosing.
 */
export function chooseBackchannel(
  settings: BackchannelSettings,
  origin: string | undefined,
  host?: string | undefined,
): BackchannelChoice {
  const fixed = fixedBackchannelBase(settings);
  if (fixed !== null)
    return fixed === undefined
      ? { ok: false, reason: 'unknown' }
      : { ok: true, base: fixed, derived: false };
  const base = derivedBase(settings, origin, host);
  if (base === undefined || !/^https?:\/\//.test(base)) return { ok: false, reason: 'unknown' };
  const hostname = new URL(base).hostname.replace(/\.$/, '');
  const allowed =
    isLoopbackHost(hostname) ||
    (settings.originHosts ?? []).some((entry) => normalizeHostName(entry) === hostname);
  return allowed
    ? { ok: true, base, derived: true }
    : { ok: false, reason: 'not-allowed', base, hostname };
}
