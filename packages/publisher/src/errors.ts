/** The publisher's error codes: stable, each with what to do. */
export const PUBLISH_ERRORS = {
  HERALD_PUBLISH_BAD_ARGUMENT: 'check the arguments named in the message',
  HERALD_PUBLISH_REDIS_UNAVAILABLE:
    'check that Redis runs at the URL given (the one Herald subscribes to), or enable retry: { maxQueued, maxAgeMs }',
  HERALD_PUBLISH_BUFFER_FULL:
    'Redis was down too long for the retry buffer: raise retry.maxQueued / retry.maxAgeMs, or check Redis',
  HERALD_PUBLISH_HTTP_FAILED:
    'check that Herald runs at the URL given and that its HTTP publish API is on (--api-key)',
  HERALD_PUBLISH_REJECTED:
    'the server refused the message: see its error (an API key Herald knows, fields it accepts, size under --max-message-bytes)',
  HERALD_PUBLISH_TRANSACTION_CLOSED:
    'start a new transaction(): this one was committed or rolled back',
  HERALD_PUBLISH_CLOSED: 'the publisher was closed: create a new one',
  HERALD_PUBLISH_NO_SUBSCRIBER:
    'nothing was subscribed to events on this Redis: check that Herald runs with --redis set to this same Redis and is ready (GET /health/ready); with retry, raise retry.maxAgeMs to wait longer for it',
} as const;

/** A publisher error code. */
export type PublishErrorCode = keyof typeof PUBLISH_ERRORS;

/** A publish that did not happen, with a stable code, what went wrong and what to do. */
export class PublishError extends Error {
  readonly code: PublishErrorCode;
  readonly hint: string;
  /** The HTTP status the publish API answered, when it answered. */
  readonly status?: number;

  constructor(
    code: PublishErrorCode,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PublishError';
    this.code = code;
    this.hint = PUBLISH_ERRORS[code];
    if (options.status !== undefined) this.status = options.status;
  }
}
