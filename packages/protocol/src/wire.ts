/** One message on the Redis channel `events` (section 6). */
export interface EventMessage {
  event: string;
  message: unknown;
  /** null: every namespace (build events). */
  room: string | null;
  namespace?: string | undefined;
}

/** The Redis channel Frappe publishes realtime events on. */
export const EVENTS_CHANNEL = 'events';

/** Why a message from the `events` channel was skipped. */
export type MalformedKind =
  | 'malformed_json'
  | 'not_an_object'
  | 'missing_event'
  | 'bad_room'
  | 'missing_namespace'
  | 'too_deep'
  | 'too_large';

/**
 * How deeply an event message may nest (objects and arrays). Frappe's messages nest a few levels; a
 * message nested thousands of levels deep parses, but encoding it again for a client overflows
 * the stack (JSON.stringify and Socket.IO's binary scan recurse).
 */
export const MAX_EVENT_DEPTH = 64;

/** Limits a parsed message must keep. */
export interface EventLimits {
  /** Nesting depth of objects and arrays (default MAX_EVENT_DEPTH). */
  maxDepth?: number;
  /** Size of the raw message in UTF-8 bytes (default: no limit). */
  maxBytes?: number;
}

/** The UTF-8 length of a string (no Buffer: this package also runs in browsers). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair: one four-byte character.
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether objects and arrays in `value` nest deeper than `max` (walked without recursion). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item as object)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The outcome of parsing one `events` message. */
export type ParsedEvent =
  | { ok: true; message: EventMessage }
  | { ok: false; kind: MalformedKind; reason: string };

/**
 * Parses one message of the `events` channel. Key order and whitespace do not matter; a missing
 * or empty room means every namespace; a room needs a namespace. A message over `limits` (too
 * large, or nested too deeply to be encoded again) is refused with its own kind.
 */
export function parseEventMessage(raw: string, limits: EventLimits = {}): ParsedEvent {
  const { maxDepth = MAX_EVENT_DEPTH, maxBytes } = limits;
  // A UTF-8 byte is at least one UTF-16 unit and at most three: count only when it could be over.
  if (maxBytes !== undefined && raw.length * 3 > maxBytes) {
    const bytes = utf8Length(raw);
    if (bytes > maxBytes)
      return {
        ok: false,
        kind: 'too_large',
        reason: `${bytes} bytes, over the limit of ${maxBytes} (--max-message-bytes)`,
      };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { ok: false, kind: 'malformed_json', reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, kind: 'not_an_object', reason: 'not a JSON object' };
  }
  if (nestsDeeperThan(value, maxDepth)) {
    return {
      ok: false,
      kind: 'too_deep',
      reason: `nested more than ${maxDepth} levels deep: it could not be sent to a client`,
    };
  }
  const record = value as Record<string, unknown>;
  if (typeof record.event !== 'string' || record.event === '') {
    return { ok: false, kind: 'missing_event', reason: 'no "event" string' };
  }
  if (record.room !== undefined && record.room !== null && typeof record.room !== 'string') {
    return { ok: false, kind: 'bad_room', reason: '"room" is neither a string nor null' };
  }
  const room = typeof record.room === 'string' && record.room !== '' ? record.room : null;
  const namespace =
    typeof record.namespace === 'string' && record.namespace !== '' ? record.namespace : undefined;
  if (room !== null && namespace === undefined) {
    return { ok: false, kind: 'missing_namespace', reason: `room "${room}" has no "namespace"` };
  }
  return {
    ok: true,
    message: { event: record.event, message: record.message ?? null, room, namespace },
  };
}

/** The text Herald publishes on `events`: compact JSON, which every parser accepts. */
export function serializeEventMessage(message: EventMessage): string {
  return JSON.stringify({
    event: message.event,
    message: message.message,
    room: message.room,
    namespace: message.namespace,
  });
}
