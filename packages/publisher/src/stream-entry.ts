import { createHash } from 'node:crypto';
import {
  type EventMessage,
  MAX_EVENT_DEPTH,
  nestsDeeperThan,
  serializeEventMessage,
} from '@herald/protocol';
import { PublishError } from './errors.js';

/**
 * The uid of entries no node wrote: `@socket.io/redis-streams-adapter` (socket.io-adapter's
 * EMITTER_UID) delivers them on every node, the writer's included, and counts no node for them.
 */
export const EMITTER_UID = 'emitter';

/** socket.io-adapter's MessageType.BROADCAST, as the stream entry's `type` field. */
const BROADCAST = '3';
/** socket.io-parser's PacketType.EVENT. */
const EVENT_PACKET = 2;

/** Event names Socket.IO keeps for itself: a client would take one for its own connect or disconnect. */
const RESERVED_EVENTS = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

/** The cluster's one stream: `<prefix>:{ingest}:stream` (Herald's cluster/keys.ts). */
export function clusterStreamKey(prefix: string): string {
  return `${prefix}:{ingest}:stream`;
}

/**
 * The content id of an `events` message: the first 16 characters of the base64url SHA-1 of its
 * raw text. The same function as Herald's cluster/content-id.ts, so an entry written here carries
 * the id the ingest gives the same message published on `events`.
 */
export function contentId(raw: string): string {
  return createHash('sha1').update(raw).digest('base64url').slice(0, 16);
}

const bad = (message: string) => new PublishError('HERALD_PUBLISH_BAD_ARGUMENT', message);

/**
 * The fields of the stream entry that broadcasts `message` to its room in `/<namespace>`, in the
 * entry format of `@socket.io/redis-streams-adapter` 0.3.1 (its `encode`): `uid`, `nsp`, `type`
 * `3` (BROADCAST) and `data`, the JSON `{packet: {type: 2, data: [event, message]}, opts: {rooms:
 * [room], except: [], flags: {hid}}}` with the message's content id. Throws
 * HERALD_PUBLISH_BAD_ARGUMENT for what Herald's `events` router would skip: no event or a reserved
 * one, no namespace, a message that is not JSON, over `maxMessageBytes` or nested too deeply; and
 * for a room-less event, which goes to every namespace and has no entry of its own.
 */
export function clusterStreamEntry(
  message: EventMessage,
  limits: { maxMessageBytes: number },
): Record<string, string> {
  if (typeof message !== 'object' || message === null)
    throw bad('a message is an object: { event, message, room, namespace }');
  const { event, room, namespace } = message;
  if (typeof event !== 'string' || event === '') throw bad('event must be a non-empty string');
  if (RESERVED_EVENTS.has(event))
    throw bad(`event "${event}" is reserved by Socket.IO: a client would take it for its own`);
  if (room === null || room === undefined || room === '') {
    throw bad(
      'a room-less event (room null: every namespace) cannot be written to the cluster stream, whose entries each name one namespace and room: publish it on the events channel instead (createPublisher({ site, redis })), where every node delivers it to its own sockets',
    );
  }
  if (typeof room !== 'string') throw bad(`room must be a string (got ${typeof room})`);
  if (typeof namespace !== 'string' || namespace === '')
    throw bad('namespace must be the site name (the Socket.IO namespace)');
  const body = message.message ?? null;
  let raw: string;
  let data: string;
  try {
    raw = serializeEventMessage(message);
    data = JSON.stringify({
      packet: { type: EVENT_PACKET, data: [event, body] },
      opts: { rooms: [room], except: [], flags: { hid: contentId(raw) } },
    });
  } catch (error) {
    throw bad(`message cannot be sent as JSON: ${(error as Error).message}`);
  }
  if (nestsDeeperThan({ message: body }, MAX_EVENT_DEPTH))
    throw bad(`message is nested more than ${MAX_EVENT_DEPTH} levels deep: no client could get it`);
  const max = limits.maxMessageBytes;
  // A UTF-16 unit is at most three UTF-8 bytes: count only when it could be over.
  if (raw.length * 3 > max) {
    const bytes = Buffer.byteLength(raw);
    if (bytes > max)
      throw bad(
        `message is ${bytes} bytes, over maxMessageBytes (${max}, Herald's --max-message-bytes)`,
      );
  }
  return { uid: EMITTER_UID, nsp: `/${namespace}`, type: BROADCAST, data };
}
