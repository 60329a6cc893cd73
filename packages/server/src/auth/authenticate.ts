import { backchannelBase, CONNECT_ERROR, checkConnect, headerValue } from '@herald/protocol';
import type { Config } from '../config/schema.js';
import { asHeraldError, HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { type HeraldSocket, Session } from '../session.js';
import type { Backchannel } from './backchannel.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** The error a client gets as `connect_error`: the protocol's message, with Herald's code and hint. */
export class ConnectRejection extends Error {
  readonly data: { code: string; hint: string };

  constructor(message: string, code: string, hint: string) {
    super(message);
    this.data = { code, hint };
  }
}

const HINTS: Record<string, string> = {
  [CONNECT_ERROR.invalidNamespace]:
    'connect to the namespace /<site>, where <site> is the site named by the Origin or Host (or X-Frappe-Site-Name from a trusted proxy)',
  [CONNECT_ERROR.invalidOrigin]:
    'the Origin must be on the Host it connects to: a proxy must forward both Origin and Host (or add the origin with --allowed-origin)',
  [CONNECT_ERROR.missingCredentials]:
    'send the sid cookie (withCredentials: true) or an Authorization header',
  [CONNECT_ERROR.noAuthMethod]:
    'the Cookie header has no sid: log in first, or send an Authorization header',
};

/**
 * The connect middleware of section 3, for every site namespace: the protocol checks, then
 * get_user_info over the backchannel. The result is the socket's session in `socket.data`.
 */
export function authenticate(deps: {
  config: Pick<
    Config,
    | 'defaultSite'
    | 'allowedOrigins'
    | 'backend'
    | 'webserverHost'
    | 'webserverPort'
    | 'developerMode'
  >;
  proxies: TrustedProxies;
  backchannel: Backchannel;
  logger: Logger;
  metrics?: Metrics;
}): (socket: HeraldSocket, next: (error?: Error) => void) => void {
  const { config, proxies, backchannel } = deps;
  const log = deps.logger.child({ component: 'auth' });

  const reject = (
    socket: HeraldSocket,
    next: (error?: Error) => void,
    rejection: ConnectRejection,
    site?: string,
  ) => {
    deps.metrics?.connects.inc({ outcome: 'rejected', reason: rejection.data.code });
    log.info(
      {
        site,
        namespace: socket.nsp.name,
        peer: socket.handshake.address,
        reason: rejection.message,
        code: rejection.data.code,
      },
      `connection rejected: ${rejection.message}. Check: ${rejection.data.hint}`,
    );
    next(rejection);
  };

  return (socket, next) => {
    const headers = socket.handshake.headers;
    const check = checkConnect({
      namespace: socket.nsp.name,
      headers,
      trustedProxy: proxies.contains(socket.handshake.address),
      defaultSite: config.defaultSite,
      allowedOrigins: config.allowedOrigins,
    });
    if (!check.ok) {
      reject(
        socket,
        next,
        new ConnectRejection(check.error, 'HERALD_CONNECT_REJECTED', HINTS[check.error] ?? ''),
        check.site,
      );
      return;
    }
    const base = backchannelBase(
      {
        backendUrl: config.backend,
        webserverHost: config.webserverHost,
        webserverPort: config.webserverPort,
        developerMode: config.developerMode,
      },
      headerValue(headers, 'origin'),
      headerValue(headers, 'host'),
    );
    if (base === undefined) {
      const error = new HeraldError('HERALD_BACKEND_UNKNOWN');
      reject(
        socket,
        next,
        new ConnectRejection(`Unauthorized: ${error.message}`, error.code, error.hint),
        check.site,
      );
      return;
    }
    const target = { base, site: check.site, credentials: check.credentials };
    backchannel.userInfo(target).then(
      (identity) => {
        socket.data = new Session(base, check.site, check.credentials, identity);
        deps.metrics?.connects.inc({ outcome: 'accepted', reason: '' });
        next();
      },
      (failure: unknown) => {
        const error = asHeraldError(failure);
        const message =
          error.code === 'HERALD_UNAUTHORIZED'
            ? CONNECT_ERROR.unauthorized
            : `Unauthorized: ${error.message}`;
        if (error.code === 'HERALD_INTERNAL')
          log.error({ err: failure }, 'connect failed unexpectedly');
        reject(socket, next, new ConnectRejection(message, error.code, error.hint), check.site);
      },
    );
  };
}
