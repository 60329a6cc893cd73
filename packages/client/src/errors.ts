/** A request the server refused, with its stable code (e.g. HERALD_PERMISSION_DENIED). */
export class RealtimeError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'RealtimeError';
    this.code = code;
    this.hint = hint;
  }
}

/** Connect errors that retrying cannot fix: the page or the proxy is misconfigured. */
export const PERMANENT_CONNECT_ERRORS = [
  'Invalid origin',
  'Invalid namespace',
  'Missing cookie and authorization header. Either one needed for authentication.',
  'No authentication method used. Use cookie or authorization header.',
];
