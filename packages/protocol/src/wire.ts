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
  | 'missing_namespace';

/** The outcome of parsing one `events` message. */
export type ParsedEvent =
  | { ok: true; message: EventMessage }
  | { ok: false; kind: MalformedKind; reason: string };

/**
 * Parses one message of the `events` channel. Key order and whitespace do not matter; a missing
 * or empty room means every namespace; a room needs a namespace.
 */
export function parseEventMessage(raw: string): ParsedEvent {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { ok: false, kind: 'malformed_json', reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, kind: 'not_an_object', reason: 'not a JSON object' };
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
