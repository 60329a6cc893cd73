import {
  CONNECT_ERROR,
  checkConnect,
  chooseBackchannel,
  fixedBackchannelBase,
  headerValue,
  quoteValue,
} from '@herald/protocol';
import type { Config } from '../config/schema.js';
import { asHeraldError, ERRORS, type ErrorCode } from '../errors.js';
import { sameSecret } from '../http/respond.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { type HeraldSocket, OperatorSession, Session } from '../session.js';
import type { Backchannel } from './backchannel.js';
import { detailOf } from './backend-error.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** What an operator's socket (one that presented the admin token) also gets with a refusal. */
interface OperatorDetail {
  /** The URL and what went wrong with it, as the log has it. */
  detail: string;
  /** Where the backchannel went (or would have gone). */
  backchannel?: string | undefined;
}

/**
 * The error a client gets as `connect_error`: the protocol's message, with Herald's code and hint.
 * Neither ever names a backchannel URL or what the backend said: those are in `data.detail` for
 * the operator's socket only.
 */
export class ConnectRejection extends Error {
  readonly data: { code: string; hint: string; detail?: string; backchannel?: string };

  constructor(message: string, code: string, hint: string, operator?: OperatorDetail) {
    super(message);
    this.data = operator
      ? { code, hint, detail: operator.detail, backchannel: operator.backchannel }
      : { code, hint };
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

type BackchannelConfig = Pick<
  Config,
  'backend' | 'webserverHost' | 'webserverPort' | 'developerMode' | 'backendOriginHosts'
>;

const settingsOf = (config: BackchannelConfig) => ({
  backendUrl: config.backend,
  webserverHost: config.webserverHost,
  webserverPort: config.webserverPort,
  developerMode: config.developerMode,
  originHosts: config.backendOriginHosts,
});

/** How the backchannel is chosen, in a sentence for the start log. */
export function describeBackchannel(config: BackchannelConfig): string {
  const fixed = fixedBackchannelBase(settingsOf(config));
  if (config.backend) return `backchannel: ${fixed} (--backend)`;
  if (fixed)
    return `backchannel: ${fixed} (webserver_host ${config.webserverHost}, webserver_port ${config.webserverPort})`;
  if (fixed === undefined)
    return `backchannel: webserver_host ${JSON.stringify(config.webserverHost)} does not make a URL, so every connect is refused; set --backend to the web server's base URL`;
  const port =
    config.developerMode && config.webserverPort !== undefined
      ? ` with port ${config.webserverPort} (developer_mode)`
      : '';
  const listed = config.backendOriginHosts.length
    ? ` and ${config.backendOriginHosts.join(', ')} (--backend-origin-host)`
    : '';
  return `backchannel: derived from each connection's Origin (or Host)${port}, for loopback origins only (localhost, *.localhost, 127.0.0.0/8, ::1)${listed}; a connect from any other is refused: set --backend to the web server's base URL`;
}

/** A namespace or header value as the log writes it: long ones cut. */
const forLog = (value: string) => (value.length > 256 ? `${value.slice(0, 256)}…` : value);

/**
 * The connect middleware of section 3, for every site namespace: the protocol checks, then
 * get_user_info over the backchannel. The result is the socket's session in `socket.data`.
 */
export function authenticate(deps: {
  config: Pick<Config, 'defaultSite' | 'allowedOrigins' | 'adminToken'> & BackchannelConfig;
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
    detail?: OperatorDetail,
  ) => {
    deps.metrics?.connects.inc({ outcome: 'rejected', reason: rejection.data.code });
    log.info(
      {
        site,
        namespace: forLog(socket.nsp.name),
        peer: socket.handshake.address,
        reason: rejection.message,
        code: rejection.data.code,
        detail: detail?.detail,
        backchannel: detail?.backchannel,
      },
      `connection rejected: ${rejection.message}${detail ? ` (${detail.detail})` : ''}. Check: ${rejection.data.hint}`,
    );
    next(rejection);
  };

  /** Whether the socket presented the admin token: then it may see the operator's details. */
  const isOperator = (socket: HeraldSocket): boolean => {
    const presented = (socket.handshake.auth as { heraldAdminToken?: unknown } | undefined)
      ?.heraldAdminToken;
    if (typeof presented !== 'string') return false;
    if (config.adminToken && sameSecret(presented, config.adminToken)) return true;
    log.warn(
      { peer: socket.handshake.address },
      config.adminToken
        ? 'a socket presented a wrong admin token: it is treated as any client'
        : 'a socket presented an admin token, but none is set (--admin-token): it is treated as any client',
    );
    return false;
  };

  /** A refusal of the backchannel step: the catalogue's message for the client, details apart. */
  const backchannelRejection = (
    code: ErrorCode,
    detail: OperatorDetail,
    operator: boolean,
    hint: string = ERRORS[code].hint,
  ) =>
    new ConnectRejection(
      code === 'HERALD_UNAUTHORIZED'
        ? CONNECT_ERROR.unauthorized
        : `Unauthorized: ${ERRORS[code].message}`,
      code,
      hint,
      operator ? detail : undefined,
    );

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
      const code =
        check.rule === 'site-name' ? 'HERALD_SITE_NAME_INVALID' : 'HERALD_CONNECT_REJECTED';
      const hint = check.rule === 'site-name' ? ERRORS[code].hint : (HINTS[check.error] ?? '');
      reject(socket, next, new ConnectRejection(check.error, code, hint), check.site);
      return;
    }
    const operator = isOperator(socket);
    const origin = headerValue(headers, 'origin');
    const choice = chooseBackchannel(settingsOf(config), origin, headerValue(headers, 'host'));
    if (!choice.ok) {
      const from = origin === undefined ? 'Host' : 'Origin';
      const detail: OperatorDetail =
        choice.reason === 'unknown'
          ? {
              detail: `no backchannel URL: --backend is not set, webserver_host/webserver_port give none, and the ${from} header gives no http(s) URL`,
            }
          : {
              detail: `the backchannel would go to ${choice.base}, derived from the ${from} ${quoteValue(origin ?? headerValue(headers, 'host') ?? '')}, but ${choice.hostname} is not a loopback host and not listed with --backend-origin-host; set --backend to the web server's base URL`,
              backchannel: choice.base,
            };
      const code =
        choice.reason === 'unknown' ? 'HERALD_BACKEND_UNKNOWN' : 'HERALD_BACKEND_NOT_ALLOWED';
      reject(socket, next, backchannelRejection(code, detail, operator), check.site, detail);
      return;
    }
    const { base } = choice;
    const target = { base, site: check.site, credentials: check.credentials };
    backchannel.userInfo(target).then(
      (identity) => {
        socket.data = operator
          ? new OperatorSession(base, check.site, check.credentials, identity)
          : new Session(base, check.site, check.credentials, identity);
        deps.metrics?.connects.inc({ outcome: 'accepted', reason: '' });
        next();
      },
      (failure: unknown) => {
        const error = asHeraldError(failure);
        if (error.code === 'HERALD_INTERNAL')
          log.error({ err: failure }, 'connect failed unexpectedly');
        const detail = { detail: detailOf(error), backchannel: base };
        reject(
          socket,
          next,
          backchannelRejection(error.code, detail, operator, error.hint),
          check.site,
          detail,
        );
      },
    );
  };
}
