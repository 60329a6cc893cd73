/**
 * The error catalogue: every error Herald reports has a stable code, a message saying what was
 * wrong and a hint saying what to do. Codes never change meaning; new ones are added at the end.
 */
export const ERRORS = {
  HERALD_CONFIG_INVALID: {
    message: 'the configuration is invalid',
    hint: 'fix the named setting (run `herald serve --help` for what each one accepts)',
  },
  HERALD_BAD_ARGUMENT: {
    message: 'an argument of the event is missing or of the wrong type',
    hint: 'send the arguments the event expects, in order (see the README, "Client events")',
  },
  HERALD_PERMISSION_DENIED: {
    message: 'the web server denied read permission',
    hint: 'the user needs read permission on the doctype or document',
  },
  HERALD_PERMISSION_CHECK_FAILED: {
    message: 'the permission check could not be completed',
    hint: 'check that the web server is reachable from Herald (`herald doctor`)',
  },
  HERALD_BACKEND_TIMEOUT: {
    message: 'the web server did not answer in time',
    hint: 'check that --backend points at a running web server, or raise --backend-timeout',
  },
  HERALD_BACKEND_UNREACHABLE: {
    message: 'the web server could not be reached',
    hint: 'check --backend (or webserver_host/webserver_port) and that the web server is running',
  },
  HERALD_BACKEND_REDIRECT: {
    message: 'the web server answered the backchannel with a redirect',
    hint: 'point --backend at an address that answers directly (e.g. http://127.0.0.1:8000); a redirect drops the cookie and every user becomes Guest',
  },
  HERALD_BACKEND_BAD_ANSWER: {
    message:
      'the web server answered with an error or with something that is not the expected JSON',
    hint: 'check the web server logs for the request named in the message',
  },
  HERALD_BACKEND_UNKNOWN: {
    message: 'no backchannel URL could be derived for this connection',
    hint: 'set --backend to the web server base URL',
  },
  HERALD_SECRET_UNAVAILABLE: {
    message: 'the socket secret could not be read from Redis',
    hint: 'check that Redis (--redis) is reachable',
  },
  HERALD_UNAUTHORIZED: {
    message: 'the web server did not recognise the session',
    hint: 'the web server answered get_user_info without a user: check that Herald and the web server share the Redis holding socketio_auth_secret',
  },
  HERALD_CONNECT_REJECTED: {
    message: 'the connection was refused by the connect checks',
    hint: 'see the message: it is one of the protocol errors of the Frappe realtime server',
  },
  HERALD_GUEST_NOT_ALLOWED: {
    message: 'this event is not available to Guest',
    hint: 'sign in first; an app allows Guest with { allowGuest: true }',
  },
  HERALD_HANDLER_FAILED: {
    message: "an app's handler failed",
    hint: 'the server log names the app and the event, with the error',
  },
  HERALD_FORWARD_FAILED: {
    message: 'the web server did not handle the forwarded event',
    hint: 'check the web server endpoint named in the message (see README, "Custom handlers")',
  },
  HERALD_HANDLER_LOAD_FAILED: {
    message: "an app's handler module could not be loaded",
    hint: 'the server log names the file and the error; fix it and restart (or save it again under --dev)',
  },
  HERALD_UNKNOWN_EVENT: {
    message: 'no handler for this event on this site',
    hint: 'check the event name, and that the app handling it is installed on the site',
  },
  HERALD_INTERNAL: {
    message: 'Herald failed while handling the request',
    hint: 'this is a bug: the server log has the details',
  },
  HERALD_BENCH_INVALID: {
    message: 'the folder is not a Frappe bench, or one of its files cannot be used',
    hint: 'pass --bench the folder `bench init` made (it holds Procfile, sites/ and config/)',
  },
} as const satisfies Record<string, { message: string; hint: string }>;

/** A stable error code of the catalogue. */
export type ErrorCode = keyof typeof ERRORS;

/** What a client receives when a request of its own fails. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  hint?: string;
}

/** An error of the catalogue, with a message specific to this occurrence. */
export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; hint?: string }) {
    super(message ?? ERRORS[code].message, options?.cause ? { cause: options.cause } : undefined);
    this.name = 'HeraldError';
    this.code = code;
    this.hint = options?.hint ?? ERRORS[code].hint;
  }

  /** The form sent to clients. */
  toBody(): ErrorBody {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

/** Any thrown value as a catalogue error (unknown errors become HERALD_INTERNAL). */
export function asHeraldError(error: unknown): HeraldError {
  if (error instanceof HeraldError) return error;
  return new HeraldError('HERALD_INTERNAL', undefined, { cause: error });
}
