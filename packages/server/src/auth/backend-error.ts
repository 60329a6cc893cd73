import { type ErrorCode, HeraldError } from '../errors.js';

/**
 * An error of the web server, the backchannel or Redis whose specifics are the operator's: the
 * message, which clients receive, is the catalogue's; `detail` names the URL and what the backend
 * (or the network, or Redis) said, and goes only to the log, `herald doctor` run with the admin
 * token, and a socket that presented it. A client chooses nothing of where the backchannel goes,
 * but must not learn the internal address or the backend's error text either.
 */
export class BackendError extends HeraldError {
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options?: { cause?: unknown; hint?: string }) {
    super(code, undefined, options);
    this.detail = detail;
  }
}

/** The operator's account of an error: the detail of a BackendError, else its message. */
export function detailOf(error: HeraldError): string {
  return error instanceof BackendError ? error.detail : error.message;
}
