import { io } from 'socket.io-client';
import { explainConnectError } from '../explain.js';
import type { DoctorOptions } from '../options.js';
import type { StepContext } from './context.js';
import { type DoctorStep, fail, withTimeout } from './step.js';
import { withheld } from './withheld.js';

/**
 * connect: a socket joins the site's namespace with the credentials given (--login first, then
 * --sid, --token; Guest without any), as a browser of that site would.
 */
export const connectStep: DoctorStep = {
  name: 'connect',
  async run(context) {
    const { options, base, site, timeoutMs } = context;
    const headers: Record<string, string> = { origin: base };
    if (options.login) headers.cookie = `sid=${await logIn(context, options.login)}`;
    if (options.sid) headers.cookie = `sid=${options.sid}`;
    if (options.token)
      headers.authorization = /\s/.test(options.token) ? options.token : `token ${options.token}`;
    if (!headers.cookie && !headers.authorization) headers.cookie = 'sid=Guest';
    const socket = io(`${base}/${site}`, {
      transports: ['websocket'],
      extraHeaders: headers,
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
      ...(options.adminToken && { auth: { heraldAdminToken: options.adminToken } }),
    });
    context.socket = socket;
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
};

/** --login: the session id /api/method/login sets, or the step fails. */
async function logIn({ options, base, timeoutMs }: StepContext, user: string): Promise<string> {
  const body = new URLSearchParams({ usr: user, pwd: options.password ?? '' });
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
      `login as ${user} failed (HTTP ${response.status})`,
      'wrong user or password',
      'check --login and --password',
    );
  return sid;
}

/** A refused connect: the message, and (for the operator) Herald's detail or how to get it. */
function connectFailure(
  message: string,
  code: string | undefined,
  detail: string | undefined,
  options: DoctorOptions,
): string {
  if (detail) return `${message}: ${detail}`;
  // The backchannel's refusals, whose detail Herald tells the operator's socket only: the doctor
  // says how to get it (not for NOT_ALLOWED, whose hint already names the fix).
  const backchannelCode =
    code !== undefined &&
    /^HERALD_(BACKEND|SECRET|UNAUTHORIZED|PERMISSION)/.test(code) &&
    code !== 'HERALD_BACKEND_NOT_ALLOWED';
  return backchannelCode ? `${message} (${code}${withheld(options)})` : message;
}
