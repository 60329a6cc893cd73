import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createClient } from 'redis';
import { io, Manager, type Socket } from 'socket.io-client';
import { benchOutcome, runBenchSteps } from './bench-steps.js';
import { explainConnectError } from './explain.js';
import type { Report, StepResult } from './report.js';

/** What the doctor is asked to check. */
export interface DoctorOptions {
  /** The site's public URL, e.g. https://erp.example.com (or the realtime server's own URL). */
  url?: string | undefined;
  /** A Frappe bench whose files are checked first, offline (bench-steps.ts). */
  bench?: string | undefined;
  site?: string | undefined;
  sid?: string | undefined;
  /** `key:secret` (sent as `token key:secret`) or a whole Authorization value. */
  token?: string | undefined;
  login?: string | undefined;
  password?: string | undefined;
  redis?: string | undefined;
  /**
   * The realtime server's --admin-token: presented in the handshake, it makes Herald tell this
   * socket (and no other) the backchannel URL and the backend's errors.
   */
  adminToken?: string | undefined;
  /** How long each network step may take. */
  timeoutMs?: number | undefined;
  /** Called when a step starts (for a spinner) and when it ends. */
  onStep?: (name: string, result?: StepResult) => void;
}

class StepFailure extends Error {
  constructor(
    readonly detail: string,
    readonly cause2: string,
    readonly fix: string,
  ) {
    super(detail);
  }
}
const fail = (detail: string, cause: string, fix: string): never => {
  throw new StepFailure(detail, cause, fix);
};

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What the doctor says when Herald kept the backchannel's URL and errors to itself. */
function withheld(options: DoctorOptions, what = 'the details: the URL and the error'): string {
  return options.adminToken
    ? '; the server did not accept --admin-token, so it gives no details'
    : `; give --admin-token for ${what}`;
}

/** A refused connect: the message, and (for the operator) Herald's detail or how to get it. */
function connectFailure(
  message: string,
  code: string | undefined,
  detail: string | undefined,
  options: DoctorOptions,
): string {
  if (detail) return `${message}: ${detail}`;
  const backchannelCode =
    code !== undefined &&
    /^HERALD_(BACKEND|SECRET|UNAUTHORIZED|PERMISSION)/.test(code) &&
    code !== 'HERALD_BACKEND_NOT_ALLOWED';
  return backchannelCode ? `${message} (${code}${withheld(options)})` : message;
}

/** Runs the chain step by step; stops at the first broken link. Never throws. */
export async function runDoctor(options: DoctorOptions): Promise<Report> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const benchSteps = options.bench
    ? await runBenchSteps(options.bench, { timeoutMs, onStep: options.onStep })
    : [];
  if (options.url === undefined) {
    return { url: '', site: '', bench: options.bench, ...benchOutcome(benchSteps) };
  }
  let url: URL;
  try {
    url = new URL(options.url);
    if (!['http:', 'https:'].includes(url.protocol)) throw new Error('not http(s)');
  } catch {
    const step: StepResult = {
      name: 'url',
      status: 'fail',
      detail: `"${options.url}" is not an http:// or https:// URL`,
      ms: 0,
      fix: 'pass --url https://your-site.example.com',
    };
    const outcome = benchOutcome([...benchSteps, step]);
    return { url: options.url, site: options.site ?? '', bench: options.bench, ...outcome };
  }
  const base = url.origin;
  const site = options.site ?? url.hostname;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const report: Report = { url: base, site, bench: options.bench, ...benchOutcome(benchSteps) };
  const state: {
    address?: string;
    transports: ('websocket' | 'polling')[];
    socket?: Socket;
    headers: Record<string, string>;
    user?: string;
  } = {
    transports: ['websocket'],
    headers: { origin: base },
  };

  const step = async (
    name: string,
    run: () => Promise<Omit<StepResult, 'name' | 'ms'>>,
  ): Promise<boolean> => {
    options.onStep?.(name);
    const started = Date.now();
    let result: StepResult;
    try {
      result = { name, ms: 0, ...(await run()) };
    } catch (error) {
      result =
        error instanceof StepFailure
          ? {
              name,
              ms: 0,
              status: 'fail',
              detail: error.detail,
              cause: error.cause2,
              fix: error.fix,
            }
          : {
              name,
              ms: 0,
              status: 'fail',
              detail: (error as Error).message,
              fix: 'see the detail',
            };
    }
    result.ms = Date.now() - started;
    report.steps.push(result);
    options.onStep?.(name, result);
    if (result.status === 'fail') {
      report.ok = false;
      report.brokenAt ??= name;
      return false;
    }
    return true;
  };

  try {
    const steps: [string, () => Promise<Omit<StepResult, 'name' | 'ms'>>][] = [
      [
        'dns',
        async () => {
          if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
            state.address = url.hostname.replace(/^\[|\]$/g, '');
            return { status: 'ok', detail: `${url.hostname} is an address` };
          }
          try {
            const found = await withTimeout(lookup(url.hostname, { all: true }), timeoutMs, 'DNS');
            state.address = found[0]!.address;
            return {
              status: 'ok',
              detail: `${url.hostname} → ${found.map((a) => a.address).join(', ')}`,
            };
          } catch (error) {
            return fail(
              `cannot resolve ${url.hostname}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
              'the name does not resolve from this machine',
              'check the URL, or DNS / /etc/hosts',
            );
          }
        },
      ],
      [
        'tcp',
        async () => {
          await withTimeout(
            new Promise<void>((resolve, reject) => {
              const socket = tcpConnect(port, state.address!, () => {
                socket.destroy();
                resolve();
              });
              socket.on('error', reject);
            }),
            timeoutMs,
            'TCP connect',
          ).catch((error: NodeJS.ErrnoException) =>
            fail(
              `cannot connect to ${url.hostname}:${port} (${error.code ?? error.message})`,
              'nothing listens there, or a firewall drops the connection',
              'check that the proxy (or the realtime server) runs and listens on that port',
            ),
          );
          return { status: 'ok', detail: `${state.address}:${port} accepts connections` };
        },
      ],
      [
        'tls',
        async () => {
          if (url.protocol !== 'https:') return { status: 'skip', detail: 'plain http' };
          const detail = await withTimeout(
            new Promise<string>((resolve, reject) => {
              const socket = tlsConnect(
                { host: state.address, port, servername: url.hostname },
                () => {
                  const cert = socket.getPeerCertificate();
                  socket.destroy();
                  resolve(
                    `certificate for ${cert.subject?.CN ?? url.hostname}, valid until ${cert.valid_to}`,
                  );
                },
              );
              socket.on('error', reject);
            }),
            timeoutMs,
            'TLS handshake',
          ).catch((error: NodeJS.ErrnoException) =>
            fail(
              `TLS failed: ${error.code ?? error.message}`,
              'the certificate is not valid for this name, expired or self-signed',
              'renew or fix the certificate of the proxy',
            ),
          );
          return { status: 'ok', detail };
        },
      ],
      [
        'handshake',
        async () => {
          const target = `${base}/socket.io/?EIO=4&transport=polling`;
          let response: Response;
          try {
            response = await fetch(target, {
              headers: { origin: base },
              redirect: 'manual',
              signal: AbortSignal.timeout(timeoutMs),
            });
          } catch (error) {
            return fail(
              `no Engine.IO answer from ${target}: ${(error as Error).message}`,
              'the realtime endpoint does not answer',
              'check the proxy location /socket.io and the realtime server',
            );
          }
          const text = await response.text();
          if (response.status >= 300 && response.status < 400) {
            return fail(
              `${target} redirects to ${response.headers.get('location')}`,
              'the URL is not the canonical one',
              'run the doctor with the URL it redirects to',
            );
          }
          if (response.status === 404)
            return fail(
              `nothing answers /socket.io at ${base} (HTTP 404)`,
              'the proxy does not forward /socket.io to the realtime server',
              'add the location /socket.io block of the README to the proxy',
            );
          if (response.status >= 500)
            return fail(
              `HTTP ${response.status} from ${target}`,
              'the proxy could not reach the realtime server',
              'start the realtime server, and check the port the proxy forwards to',
            );
          const match = /^0(\{.*\})/.exec(text);
          if (response.status !== 200 || !match)
            return fail(
              `unexpected answer from ${target}: HTTP ${response.status} ${text.slice(0, 80)}`,
              'this is not a Socket.IO v4 server',
              'check that the URL reaches the realtime server',
            );
          const open = JSON.parse(match[1]!) as { sid: string; upgrades: string[] };
          return {
            status: 'ok',
            detail: `Engine.IO over polling (session ${open.sid.slice(0, 6)}…, upgrades: ${open.upgrades.join(', ') || 'none'})`,
          };
        },
      ],
      [
        'websocket',
        async () => {
          const manager = new Manager(base, {
            transports: ['websocket'],
            reconnection: false,
            autoConnect: false,
            timeout: timeoutMs,
            extraHeaders: { origin: base },
          });
          try {
            await new Promise<void>((resolve, reject) =>
              manager.open((error) => (error ? reject(error) : resolve())),
            );
          } catch (error) {
            return fail(
              `the websocket upgrade failed (${(error as Error).message}); clients fall back to polling`,
              'a proxy without upgrade headers: it does not pass Upgrade/Connection to the realtime server',
              'in nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";',
            );
          } finally {
            manager.engine?.close();
          }
          return { status: 'ok', detail: 'websocket transport works' };
        },
      ],
      [
        'connect',
        async () => {
          if (options.login) {
            const body = new URLSearchParams({ usr: options.login, pwd: options.password ?? '' });
            const response = await fetch(`${base}/api/method/login`, {
              method: 'POST',
              body,
              redirect: 'manual',
              signal: AbortSignal.timeout(timeoutMs),
            }).catch((error: Error) =>
              fail(
                `login request failed: ${error.message}`,
                'the web server does not answer /api/method/login',
                'check the URL',
              ),
            );
            const sid = /(?:^|,\s*)sid=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
            if (!response.ok || !sid || sid === 'Guest')
              return fail(
                `login as ${options.login} failed (HTTP ${response.status})`,
                'wrong user or password',
                'check --login and --password',
              );
            state.headers.cookie = `sid=${sid}`;
          }
          if (options.sid) state.headers.cookie = `sid=${options.sid}`;
          if (options.token)
            state.headers.authorization = /\s/.test(options.token)
              ? options.token
              : `token ${options.token}`;
          if (!state.headers.cookie && !state.headers.authorization)
            state.headers.cookie = 'sid=Guest';
          const socket = io(`${base}/${site}`, {
            transports: state.transports,
            extraHeaders: state.headers,
            reconnection: false,
            forceNew: true,
            timeout: timeoutMs,
            ...(options.adminToken && { auth: { heraldAdminToken: options.adminToken } }),
          });
          state.socket = socket;
          await withTimeout(
            new Promise<void>((resolve, reject) => {
              socket.once('connect', () => resolve());
              socket.once('connect_error', reject);
            }),
            timeoutMs * 2,
            'namespace connect',
          ).catch((error: Error & { data?: { code?: string; detail?: string } }) => {
            const { code, detail } = error.data ?? {};
            const { cause, fix } = explainConnectError(error.message, site, code);
            return fail(connectFailure(error.message, code, detail, options), cause, fix);
          });
          return { status: 'ok', detail: `connected to namespace /${site}` };
        },
      ],
      [
        'ping',
        async () => {
          const socket = state.socket!;
          const started = process.hrtime.bigint();
          await withTimeout(
            new Promise<void>((resolve) => {
              socket.once('pong', () => resolve());
              socket.emit('ping');
            }),
            timeoutMs,
            'pong',
          ).catch(() =>
            fail(
              'no pong to ping',
              'the server does not run the core handlers',
              'check that this is a Frappe realtime server',
            ),
          );
          return {
            status: 'ok',
            detail: `pong in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`,
          };
        },
      ],
      [
        'identity',
        async () => {
          const socket = state.socket!;
          let who:
            | {
                user?: string;
                rooms?: string[];
                userType?: string;
                backchannel?: Record<string, unknown>;
              }
            | undefined;
          try {
            who = (await socket
              .timeout(Math.min(timeoutMs, 3000))
              .emitWithAck('herald_whoami')) as typeof who;
          } catch {
            who = undefined;
          }
          if (!who?.user) {
            return {
              status: 'skip',
              detail: 'not a Herald server: the user and rooms cannot be asked (Herald-only step)',
            };
          }
          state.user = who.user;
          (state as { who?: typeof who }).who = who;
          const credentialsGiven = Boolean(options.sid || options.token || options.login);
          if (credentialsGiven && who.user === 'Guest') {
            return fail(
              'credentials were given, but the server sees this socket as Guest',
              'the session was not recognised by the web server: it expired, or the web server received no cookie (a redirect on the way drops it)',
              'log in again; then check get_user_info on the web server with the same cookie, from the realtime server',
            );
          }
          return {
            status: 'ok',
            detail: `${who.user} (${who.userType}), rooms: ${(who.rooms ?? []).join(', ')}`,
          };
        },
      ],
      [
        'backend',
        async () => {
          const who = (
            state as {
              who?: {
                backchannel?: {
                  ok?: boolean;
                  url?: string;
                  code?: string;
                  message?: string;
                  detail?: string;
                  hint?: string;
                  ms?: number;
                };
              };
            }
          ).who;
          if (!who?.backchannel) return { status: 'skip', detail: 'Herald-only step' };
          const check = who.backchannel;
          // The URL and the backend's words come only to a socket that presented --admin-token.
          const where = check.url ? ` at ${check.url}` : '';
          const more = check.url ? '' : withheld(options, check.ok ? 'its URL' : undefined);
          if (!check.ok) {
            const { cause, fix } = explainConnectError(
              `Unauthorized: ${check.detail ?? check.message ?? ''}`,
              site,
              check.code,
            );
            return fail(
              `the realtime server cannot use its backchannel${check.url ? ` to ${check.url}` : ''}: ${check.detail ?? `${check.message} (${check.code})`}${more}`,
              cause,
              fix,
            );
          }
          return {
            status: 'ok',
            detail: `the realtime server reaches the web server${where} (${check.ms} ms)${more}`,
          };
        },
      ],
      [
        'redis',
        async () => {
          if (!options.redis)
            return { status: 'skip', detail: 'give --redis to check publishing through Redis' };
          const client = createClient({
            url: options.redis,
            socket: { reconnectStrategy: false, connectTimeout: timeoutMs },
          });
          client.on('error', () => undefined);
          try {
            await client
              .connect()
              .catch((error: Error) =>
                fail(
                  `Redis unreachable at ${options.redis} (${error.message})`,
                  'Redis is down or the URL is wrong',
                  "check --redis: it must be the bench's redis_queue, the Redis the web server publishes to",
                ),
              );
            const numsub = (await client.pubSubNumSub('events')) as Record<string, number>;
            const listeners = numsub.events ?? 0;
            if (listeners === 0) {
              return fail(
                `no realtime server is subscribed to "events" on ${options.redis}`,
                'events published by the web server reach nobody',
                'start the realtime server with --redis pointing at this Redis (upstream: redis_queue in common_site_config.json)',
              );
            }
            const socket = state.socket!;
            const user = state.user ?? 'Guest';
            const marker = `herald doctor check ${Date.now()}`;
            const started = process.hrtime.bigint();
            const arrived = new Promise<void>((resolve) => {
              const onMessage = (data: { message?: string } | string) => {
                if ((typeof data === 'string' ? data : data?.message) === marker) {
                  socket.off('msgprint', onMessage);
                  resolve();
                }
              };
              socket.on('msgprint', onMessage);
            });
            await client.publish(
              'events',
              JSON.stringify({
                event: 'msgprint',
                message: { message: marker, title: 'herald doctor' },
                room: `user:${user}`,
                namespace: site,
              }),
            );
            await withTimeout(arrived, timeoutMs, 'the published msgprint').catch(() =>
              fail(
                `a msgprint published to user:${user} on ${options.redis} did not arrive`,
                'the realtime server subscribed to this Redis is not the one serving this URL, or the socket is not in its user room',
                'point the realtime server behind this URL at the same Redis as the web server',
              ),
            );
            return {
              status: 'ok',
              detail: `${listeners} realtime server(s) listening; a msgprint to user:${user} arrived in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`,
            };
          } finally {
            client.destroy();
          }
        },
      ],
    ];
    for (const [name, run] of steps) {
      if (!(await step(name, run))) break;
    }
  } finally {
    state.socket?.disconnect();
  }
  return report;
}
