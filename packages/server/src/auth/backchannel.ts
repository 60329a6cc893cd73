import { type Credentials, credentialHeader } from '@herald/protocol';
import type { HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import { BackendError } from './backend-error.js';
import { type HttpAnswer, sendHttp } from './http-client.js';
import type { SocketSecret } from './socket-secret.js';
import { TtlCache } from './ttl-cache.js';

/** Who a socket is, as the web server's get_user_info says. */
export interface Identity {
  user: string;
  userType: string;
  installedApps: string[];
}

/** Told of every backchannel request: endpoint, outcome (ok, http_<status> or an error code), start time. */
export type BackchannelObserver = (endpoint: string, outcome: string, started: bigint) => void;

/** How long answers of the web server are reused; 0 turns a cache off. */
export interface BackchannelCacheSettings {
  /** get_user_info answers, by site and credentials. */
  identityTtlMs: number;
  /** Allowed permission checks, by site, credentials, doctype and name. */
  allowTtlMs: number;
  /** Denied permission checks (kept shorter, so a granted permission bites soon). */
  denyTtlMs: number;
}

const credentialKey = (credentials: Credentials): string =>
  credentials.kind === 'authorization' ? `a:${credentials.authorization}` : `s:${credentials.sid}`;

const permissionKey = (target: BackchannelTarget, doctype: string, name?: string | number) =>
  `${target.site}\n${credentialKey(target.credentials)}\n${doctype}\n${name ?? ''}`;

/** One backchannel call's target: the web server base URL, the site and the socket's credentials. */
export interface BackchannelTarget {
  base: string;
  site: string;
  credentials: Credentials;
}

/** An answer of the web server: status and parsed JSON body. */
interface Answer {
  status: number;
  body: unknown;
  url: string;
}

const USER_INFO_PATH = '/api/method/frappe.realtime.get_user_info';
const PERMISSION_PATH = '/api/method/frappe.realtime.has_permission';

/**
 * The HTTP client Herald uses to ask the web server who a socket is and what it may read
 * (sections 3.3 to 3.5). Redirects are never followed: a redirect drops the cookie, and turned every
 * user into Guest in the field report this project starts from.
 */
export class Backchannel {
  readonly #timeoutMs: number;
  readonly #secret: SocketSecret;

  readonly #observe: BackchannelObserver | undefined;
  readonly #log: Logger | undefined;
  readonly #cache: BackchannelCacheSettings;
  readonly #identities = new TtlCache<string, Identity>(10_000);
  readonly #permissions = new TtlCache<string, boolean>(50_000);

  constructor(options: {
    timeoutMs: number;
    secret: SocketSecret;
    observe?: BackchannelObserver;
    cache?: Partial<BackchannelCacheSettings>;
    /** Where a failed request is told, with its URL and reason (clients get neither). */
    logger?: Logger;
  }) {
    this.#timeoutMs = options.timeoutMs;
    this.#log = options.logger?.child({ component: 'backchannel' });
    this.#secret = options.secret;
    this.#observe = options.observe;
    this.#cache = { identityTtlMs: 0, allowTtlMs: 0, denyTtlMs: 0, ...options.cache };
  }

  /** Forgets every cached identity and permission (e.g. after a deploy that changed roles). */
  clearCaches(): void {
    this.#identities.clear();
    this.#permissions.clear();
  }

  /** The headers of a backchannel request: credentials, socket secret, site. */
  async headers(
    target: BackchannelTarget,
    options: { freshSecret?: boolean } = {},
  ): Promise<Record<string, string>> {
    const secret = await this.#secret.get({ fresh: options.freshSecret });
    return {
      ...credentialHeader(target.credentials),
      'x-frappe-socket-secret': secret ?? '',
      'x-frappe-site-name': target.site,
      accept: 'application/json',
    };
  }

  /** GET `<base><path>?<query>`, with the socket's credentials; throws a catalogue error on failure. */
  get(
    target: BackchannelTarget,
    path: string,
    query: Record<string, string> = {},
  ): Promise<Answer> {
    return this.request(target, path, { query });
  }

  /** POST JSON to `<base><path>`, with the socket's credentials; throws a catalogue error on failure. */
  post(target: BackchannelTarget, path: string, body: unknown): Promise<Answer> {
    return this.request(target, path, { body });
  }

  /**
   * One backchannel request; a redirect, a timeout or a network failure throws a BackendError
   * (the catalogue's message for clients, the URL and reason in its detail and in the log).
   */
  async request(
    target: BackchannelTarget,
    path: string,
    options: { query?: Record<string, string>; body?: unknown; freshSecret?: boolean } = {},
  ): Promise<Answer> {
    if (!this.#observe && !this.#log) return this.#request(target, path, options);
    try {
      return await this.#observed(target, path, options);
    } catch (error) {
      this.#logFailure(target, error as HeraldError);
      throw error;
    }
  }

  /** Tells the log of a failed request: its URL and reason are the operator's. */
  #logFailure(target: BackchannelTarget, error: HeraldError): void {
    const detail = error instanceof BackendError ? error.detail : error.message;
    this.#log?.warn(
      { site: target.site, code: error.code, detail },
      `backchannel request failed: ${detail}`,
    );
  }

  /** A failure found in an answer (its status): logged, then returned to be thrown. */
  #answerFailure(target: BackchannelTarget, error: BackendError): BackendError {
    this.#logFailure(target, error);
    return error;
  }

  async #observed(
    target: BackchannelTarget,
    path: string,
    options: { query?: Record<string, string>; body?: unknown; freshSecret?: boolean },
  ): Promise<Answer> {
    if (!this.#observe) return this.#request(target, path, options);
    const started = process.hrtime.bigint();
    const endpoint = path.startsWith('/api/method/frappe.realtime.')
      ? path.slice('/api/method/frappe.realtime.'.length)
      : 'forward';
    try {
      const answer = await this.#request(target, path, options);
      this.#observe(
        endpoint,
        answer.status < 400 || answer.status === 403 ? 'ok' : `http_${answer.status}`,
        started,
      );
      return answer;
    } catch (error) {
      this.#observe(endpoint, (error as HeraldError).code ?? 'HERALD_INTERNAL', started);
      throw error;
    }
  }

  async #request(
    target: BackchannelTarget,
    path: string,
    {
      query = {},
      body,
      freshSecret,
    }: { query?: Record<string, string>; body?: unknown; freshSecret?: boolean } = {},
  ): Promise<Answer> {
    const search = new URLSearchParams(query).toString();
    const url = `${target.base}${path}${search ? `?${search}` : ''}`;
    const headers = await this.headers(target, { freshSecret });
    let response: HttpAnswer;
    try {
      response = await sendHttp(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.#timeoutMs,
      });
    } catch (error) {
      throw this.#transportError(error, url);
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.location;
      const to = location ? new URL(location, url).toString() : '(no Location header)';
      throw new BackendError(
        'HERALD_BACKEND_REDIRECT',
        `backend redirected ${url} to ${to} (HTTP ${response.status}); following it would drop the cookie and every user would become Guest. Set --backend to an address that answers directly`,
      );
    }
    const text = response.text;
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
      if (response.status >= 200 && response.status < 300) {
        throw new BackendError(
          'HERALD_BACKEND_BAD_ANSWER',
          `backend answered ${url} with HTTP ${response.status} but not JSON`,
        );
      }
    }
    return { status: response.status, body: parsed, url };
  }

  /**
   * get_user_info. An answer without `installed_apps` is asked once more with the secret read
   * afresh (the request itself may have created it); an answer without a user is "Unauthorized".
   */
  userInfo(target: BackchannelTarget, options: { fresh?: boolean } = {}): Promise<Identity> {
    if (options.fresh || this.#cache.identityTtlMs <= 0) return this.#userInfo(target);
    const key = `${target.site}\n${credentialKey(target.credentials)}`;
    return this.#identities.getOrLoad(
      key,
      () => this.#userInfo(target),
      () => this.#cache.identityTtlMs,
    );
  }

  async #userInfo(target: BackchannelTarget): Promise<Identity> {
    let message: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 2; attempt += 1) {
      // The retry reads the secret afresh: the first request may have created it.
      const answer = await this.request(target, USER_INFO_PATH, { freshSecret: attempt > 0 });
      if (answer.status < 200 || answer.status >= 300) {
        throw this.#answerFailure(
          target,
          new BackendError(
            'HERALD_BACKEND_BAD_ANSWER',
            `backend answered HTTP ${answer.status} for ${answer.url}`,
          ),
        );
      }
      const body = answer.body as { message?: unknown } | undefined;
      message =
        body && typeof body.message === 'object' && body.message !== null
          ? (body.message as Record<string, unknown>)
          : {};
      if (Array.isArray(message.installed_apps)) break;
    }
    if (typeof message.user !== 'string' || message.user === '') {
      throw new BackendError(
        'HERALD_UNAUTHORIZED',
        `backend answered ${USER_INFO_PATH} without a user (a wrong X-Frappe-Socket-Secret gives an empty answer)`,
      );
    }
    return {
      user: message.user,
      userType: typeof message.user_type === 'string' ? message.user_type : '',
      installedApps: Array.isArray(message.installed_apps)
        ? message.installed_apps.filter((app): app is string => typeof app === 'string')
        : [],
    };
  }

  /** has_permission(doctype, name, read): true when allowed, false when denied (403 or false). */
  hasPermission(
    target: BackchannelTarget,
    doctype: string,
    name?: string | number,
  ): Promise<boolean> {
    if (this.#cache.allowTtlMs <= 0 && this.#cache.denyTtlMs <= 0)
      return this.#hasPermission(target, doctype, name);
    return this.#permissions.getOrLoad(
      permissionKey(target, doctype, name),
      () => this.#hasPermission(target, doctype, name),
      (allowed) => (allowed ? this.#cache.allowTtlMs : this.#cache.denyTtlMs),
    );
  }

  /** The cached has_permission answer, without asking: undefined when none is cached. */
  cachedPermission(
    target: BackchannelTarget,
    doctype: string,
    name?: string | number,
  ): boolean | undefined {
    return this.#permissions.peek(permissionKey(target, doctype, name));
  }

  async #hasPermission(
    target: BackchannelTarget,
    doctype: string,
    name?: string | number,
  ): Promise<boolean> {
    const answer = await this.get(target, PERMISSION_PATH, {
      doctype,
      name: name === undefined ? '' : String(name),
      ptype: 'read',
    });
    if (answer.status === 403) return false;
    if (answer.status < 200 || answer.status >= 300) {
      throw this.#answerFailure(
        target,
        new BackendError(
          'HERALD_PERMISSION_CHECK_FAILED',
          `backend answered HTTP ${answer.status} for ${answer.url}`,
        ),
      );
    }
    return (answer.body as { message?: unknown } | undefined)?.message === true;
  }

  #transportError(error: unknown, url: string): BackendError {
    const err = error as Error & { code?: string; cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      return new BackendError(
        'HERALD_BACKEND_TIMEOUT',
        `backend did not answer within ${this.#timeoutMs} ms (${url})`,
      );
    }
    const reason = err.code ?? err.cause?.code ?? err.cause?.message ?? err.message;
    return new BackendError(
      'HERALD_BACKEND_UNREACHABLE',
      `backend unreachable at ${url} (${reason})`,
      { cause: error },
    );
  }
}
