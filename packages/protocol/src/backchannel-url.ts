import { hasExplicitPort } from './hostname.js';
import { normalizeOrigin } from './origin.js';

/** Settings that decide where the backchannel goes (section 3.4). */
export interface BackchannelSettings {
  /** Herald's explicit backend URL: beats everything else. */
  backendUrl?: string | undefined;
  webserverHost?: string | undefined;
  webserverPort?: number | string | undefined;
  developerMode?: boolean | number | undefined;
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
  if (settings.backendUrl) return withoutTrailingSlash(settings.backendUrl);
  const port = settings.webserverPort;
  const hasPort = port !== undefined && port !== null && String(port) !== '';
  if (settings.webserverHost && hasPort) {
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
