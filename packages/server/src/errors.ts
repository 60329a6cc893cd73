/**
 * The error catalogue: every error Herald reports has a stable code, the HTTP status it is
 * answered with over HTTP, a message saying what was wrong and a hint saying what to do. Codes
 * never change meaning; new ones are added at the end. The README's table ("Errors") lists each.
 */
export const ERRORS = {
  HERALD_CONFIG_INVALID: {
    status: 500,
    message: 'the configuration is invalid',
    hint: 'fix the named setting (run `herald serve --help` for what each one accepts)',
  },
  HERALD_BAD_ARGUMENT: {
    status: 400,
    message: 'an argument of the event is missing or of the wrong type',
    hint: 'send the arguments the event expects, in order (see the README, "Client events")',
  },
  HERALD_PERMISSION_DENIED: {
    status: 403,
    message: 'the web server denied read permission',
    hint: 'the user needs read permission on the doctype or document',
  },
  HERALD_PERMISSION_CHECK_FAILED: {
    status: 502,
    message: 'the permission check could not be completed',
    hint: 'check that the web server is reachable from Herald (`herald doctor`)',
  },
  HERALD_BACKEND_TIMEOUT: {
    status: 504,
    message: 'the web server did not answer in time',
    hint: 'check that --backend points at a running web server, or raise --backend-timeout',
  },
  HERALD_BACKEND_UNREACHABLE: {
    status: 502,
    message: 'the web server could not be reached',
    hint: 'check --backend (or webserver_host/webserver_port) and that the web server is running',
  },
  HERALD_BACKEND_REDIRECT: {
    status: 502,
    message: 'the web server answered the backchannel with a redirect',
    hint: 'point --backend at an address that answers directly (e.g. http://127.0.0.1:8000); a redirect drops the cookie and every user becomes Guest',
  },
  HERALD_BACKEND_BAD_ANSWER: {
    status: 502,
    message:
      'the web server answered with an error or with something that is not the expected JSON',
    hint: 'check the web server logs for the request named in the message',
  },
  HERALD_BACKEND_UNKNOWN: {
    status: 500,
    message: 'no backchannel URL could be derived for this connection',
    hint: 'set --backend to the web server base URL',
  },
  HERALD_SECRET_UNAVAILABLE: {
    status: 503,
    message: 'the socket secret could not be read from Redis',
    hint: 'check that Redis (--redis) is reachable',
  },
  HERALD_UNAUTHORIZED: {
    status: 401,
    message: 'the web server did not recognise the session',
    hint: 'the web server answered get_user_info without a user: check that Herald and the web server share the Redis holding socketio_auth_secret',
  },
  HERALD_CONNECT_REJECTED: {
    status: 400,
    message: 'the connection was refused by the connect checks',
    hint: 'see the message: it is one of the protocol errors of the Frappe realtime server',
  },
  HERALD_GUEST_NOT_ALLOWED: {
    status: 401,
    message: 'this event is not available to Guest',
    hint: 'sign in first; an app allows Guest with { allowGuest: true }',
  },
  HERALD_HANDLER_FAILED: {
    status: 500,
    message: "an app's handler failed",
    hint: 'the server log names the app and the event, with the error',
  },
  HERALD_FORWARD_FAILED: {
    status: 502,
    message: 'the web server did not handle the forwarded event',
    hint: 'check the web server endpoint named in the message (see README, "Custom handlers")',
  },
  HERALD_HANDLER_LOAD_FAILED: {
    status: 500,
    message: "an app's handler module could not be loaded",
    hint: 'the server log names the file and the error; fix it and restart (or save it again under --dev)',
  },
  HERALD_UNKNOWN_EVENT: {
    status: 404,
    message: 'no handler for this event on this site',
    hint: 'check the event name, and that the app handling it is installed on the site',
  },
  HERALD_INTERNAL: {
    status: 500,
    message: 'Herald failed while handling the request',
    hint: 'this is a bug: the server log has the details',
  },
  HERALD_RATE_LIMITED: {
    status: 429,
    message: 'this socket sends events faster than the server allows',
    hint: 'slow down: a socket that keeps sending past its limit is disconnected (--rate-limit, --rate-burst)',
  },
  HERALD_LIMIT_REACHED: {
    status: 429,
    message: 'this socket holds as many rooms or open documents as the server allows',
    hint: 'leave or close some first (or raise --max-rooms / --max-open-docs on the server)',
  },
  HERALD_SITE_NAME_INVALID: {
    status: 400,
    message: 'the site name is not a host name',
    hint: 'name the site with a host name (letters, digits, hyphens, underscores and dots; labels of 1 to 63 characters, at most 253 in all), e.g. erp.example.com: check the Host and Origin the client sends, the X-Frappe-Site-Name of the proxy, and default_site',
  },
  HERALD_BACKEND_NOT_ALLOWED: {
    status: 403,
    message: "the backchannel may not be derived from this connection's Origin",
    hint: "the server's operator sets --backend to the web server's base URL (or lists the Origin's host with --backend-origin-host); only loopback and localhost origins need neither",
  },
  HERALD_NOT_FOUND: {
    status: 404,
    message: 'Herald has no HTTP route here',
    hint: 'Herald answers /socket.io/, /health/live, /health/ready, /metrics, /api/v1/publish and /admin/ (see the README, "Health, metrics, admin")',
  },
  HERALD_METHOD_NOT_ALLOWED: {
    status: 405,
    message: 'this HTTP route does not take this method',
    hint: 'use the method named in the message',
  },
  HERALD_ADMIN_OFF: {
    status: 404,
    message: 'the admin API is off',
    hint: 'start Herald with --admin-token <token>',
  },
  HERALD_ADMIN_UNAUTHORIZED: {
    status: 401,
    message: 'missing or wrong admin token',
    hint: 'send Authorization: Bearer <the --admin-token value>',
  },
  HERALD_PUBLISH_API_OFF: {
    status: 404,
    message: 'the HTTP publish API is off',
    hint: 'start Herald with --api-key <key> (or --api-key-file)',
  },
  HERALD_PUBLISH_UNAUTHORIZED: {
    status: 401,
    message: 'missing or wrong API key',
    hint: 'send Authorization: Bearer <one of the --api-key values>',
  },
  HERALD_PUBLISH_TOO_LARGE: {
    status: 413,
    message: 'the body is larger than --max-message-bytes',
    hint: 'send smaller messages, or raise --max-message-bytes',
  },
  HERALD_PUBLISH_BAD_JSON: {
    status: 400,
    message: 'the body is not JSON',
    hint: 'send one JSON object (Content-Type: application/json)',
  },
  HERALD_PUBLISH_INVALID: {
    status: 400,
    message: 'the message is not one Herald can publish',
    hint: 'fix the fields named in `fields` (see the README, "Publishing")',
  },
  HERALD_PUBLISH_UNAVAILABLE: {
    status: 503,
    message: 'the message could not be published',
    hint: 'check Redis (--redis)',
  },
  HERALD_DEVELOPER_MODE_ONLY: {
    status: 403,
    message: 'this event is only available in developer mode',
    hint: 'start Herald with --developer-mode true (developer_mode in the bench config), never in production',
  },
  HERALD_BENCH_INVALID: {
    status: 400,
    message: 'the folder is not a Frappe bench, or one of its files cannot be used',
    hint: 'pass --bench the folder `bench init` made (it holds Procfile, sites/ and config/)',
  },
  HERALD_CLUSTER_INCOMPATIBLE: {
    status: 500,
    message:
      'the installed @socket.io/redis-streams-adapter is not laid out as this Herald expects',
    hint: 'install the version Herald pins (npm ci); cluster mode depends on the adapter it was tested with',
  },
  HERALD_CLUSTER_TIMEOUT: {
    status: 504,
    message: 'a node of the cluster did not answer in time; the answer lists what the others said',
    hint: 'the nodes named in `missing` are slow, stopped or cut off from Redis: see their /health/ready and logs',
  },
  HERALD_CLUSTER_NODE_ID_TAKEN: {
    status: 409,
    message: 'another live node of the cluster holds this node id',
    hint: 'give each node its own --node-id (or leave it unset: host, pid and a random part), or stop the node that holds it',
  },
} as const satisfies Record<string, { status: number; message: string; hint: string }>;

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

  /** The HTTP status of the code. */
  get status(): number {
    return ERRORS[this.code].status;
  }

  /** The form sent to clients. */
  toBody(): ErrorBody {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

/** The fields of a log line reporting an error no client is answered with (e.g. a load failure). */
export function logFields(code: ErrorCode): { code: ErrorCode; hint: string } {
  return { code, hint: ERRORS[code].hint };
}

/** Any thrown value as a catalogue error (unknown errors become HERALD_INTERNAL). */
export function asHeraldError(error: unknown): HeraldError {
  if (error instanceof HeraldError) return error;
  return new HeraldError('HERALD_INTERNAL', undefined, { cause: error });
}
