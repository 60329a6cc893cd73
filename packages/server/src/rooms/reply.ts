import { asHeraldError, type ErrorBody, HeraldError } from '../errors.js';
import type { HeraldSocket } from '../session.js';

/** A Socket.IO acknowledgement callback. */
export type Ack = (result: unknown) => void;

/** What a client request is answered with. */
export type Reply = { ok: true; [key: string]: unknown } | { ok: false; error: ErrorBody };

/** The answer to a request that succeeded and returned no fields: one object for all, never changed. */
export const OK: Reply = Object.freeze({ ok: true as const });

/**
 * Takes the trailing acknowledgement callback off an event's arguments, in place (the caller's own
 * array: a listener's rest parameter), and returns it.
 */
export function takeAck(args: unknown[]): Ack | undefined {
  return typeof args[args.length - 1] === 'function' ? (args.pop() as Ack) : undefined;
}

/**
 * Answers a client request: through its acknowledgement when it sent one, else a failure is
 * emitted as `herald_error` (upstream clients send no callback and ignore that event).
 */
export function answer(
  socket: HeraldSocket,
  event: string,
  ack: Ack | undefined,
  reply: Reply,
): void {
  if (ack) ack(reply);
  else if (!reply.ok) socket.emit('herald_error', { ...reply, event });
}

/** The failure reply for any thrown value. */
export function failure(error: unknown): Reply {
  return { ok: false, error: asHeraldError(error).toBody() };
}

/** A doctype, room or task id argument: a non-empty string of at most `max` characters. */
export function nameArg(event: string, what: string, value: unknown, max: number): string {
  if (typeof value === 'string' && value !== '' && value.length <= max) return value;
  throw new HeraldError(
    'HERALD_BAD_ARGUMENT',
    `${event}: ${what} must be a non-empty string of at most ${max} characters (got ${describe(value)})`,
    typeof value === 'string' && value.length > max
      ? { hint: `send the name as it is in Frappe (at most ${max} characters: --max-name-length)` }
      : undefined,
  );
}

/** A document name argument: a non-empty string or a number (Frappe names can be integers). */
export function docnameArg(event: string, value: unknown, max: number): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return nameArg(event, 'docname', value, max);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return value === '' ? 'an empty string' : 'a string that is too long';
  return `a ${Array.isArray(value) ? 'list' : typeof value}`;
}
