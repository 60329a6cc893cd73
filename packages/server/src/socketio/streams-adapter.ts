// Herald's changes to instances of `@socket.io/redis-streams-adapter` 0.3.1 (pinned exactly): its
// class is not exported, so each instance the factory makes is changed here, the one place that
// relies on its layout (StreamsAdapterInternals). What changes, and why (docs/cluster-design.md 5.3):
// - a node's own broadcasts are delivered by its stream reader, like every other node's, so every
//   client receives entries in stream order and its offset only grows (the base delivers its own
//   broadcasts as their XADD answers, out of stream order);
// - sessions are stored as Herald's plain data (cluster/session-codec.ts), JSON, versioned;
// - a restore reads what the client missed in bounded batches and cuts it at the entry the node's
//   reader has handed on, so the seam between the two loses and repeats nothing;
// - each restore's outcome is told (an undersized stream must show, never fail silently).
import { Adapter, MessageType } from 'socket.io-adapter';
import type { Missing, StreamsAdapterInternals } from './internals.js';

/** Why a restore gave what it gave. */
export type RestoreOutcome = 'recovered' | 'no_session' | 'offset_trimmed' | 'bad_offset';

/** A stream entry as node-redis returns it. */
interface Entry {
  id: string;
  message: Record<string, string>;
}

/** What the patches need of the cluster: the Redis commands, names and the reader's position. */
export interface StreamsAdapterDeps {
  /** The command client given to the adapter (node-redis v5). */
  commands: {
    xRange(key: string, start: string, end: string, options?: { COUNT: number }): Promise<Entry[]>;
    set(key: string, value: string, options: { PX: number }): Promise<unknown>;
    getDel(key: string): Promise<string | null>;
  };
  stream: string;
  sessionKeyPrefix: string;
  /** The id the node's reader started after (resolved once its first read is sent). */
  readerStart: Promise<string>;
  /** How long a session is kept (the recovery window). */
  sessionTtlMs: number;
  /** Session data to plain data and back (cluster/session-codec.ts). */
  encodeData(data: unknown): unknown;
  decodeData(data: unknown): unknown;
  onRestore(outcome: RestoreOutcome, detail: { pid: string; offset: string }): void;
  /** A broadcast could not be added to the stream (delivered to this node's sockets only). */
  onPublishFailure(error: unknown): void;
  /** A session could not be stored. */
  onPersistFailure(error: unknown): void;
}

const ENTRY_ID = /^(\d+)-(\d+)$/;

/** Compares two stream entry ids (`<ms>-<seq>`). */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/** The adapter's options on the wire ({rooms, except} as arrays) back to a broadcast's options. */
function decodeOptions(opts: { rooms?: string[]; except?: string[]; flags?: object }) {
  return {
    rooms: new Set(opts.rooms ?? []),
    except: new Set(opts.except ?? []),
    flags: opts.flags ?? {},
  };
}

/** Whether a broadcast to `opts` reached a socket in `rooms` (the adapter's own rule). */
function reaches(rooms: string[], opts: { rooms?: string[]; except?: string[] }): boolean {
  const to = opts.rooms ?? [];
  const except = opts.except ?? [];
  return (
    (to.length === 0 || rooms.some((room) => to.includes(room))) &&
    rooms.every((room) => !except.includes(room))
  );
}

/** Entries read per XRANGE of a restore. */
const RESTORE_BATCH = 500;
/** How long a restore waits for this node's reader to reach the client's offset. */
const READER_WAIT_MS = 3000;
/** The most entries one restore reads: past it the client gets recovered: false. */
const RESTORE_MAX = 200_000;

/** What the checks found missing of the adapter's layout (empty: it is as Herald expects). */
export function checkStreamsAdapter(adapter: object): Missing {
  const a = adapter as Partial<StreamsAdapterInternals>;
  const missing: Missing = [];
  for (const name of [
    'onRawMessage',
    'publishAndReturnOffset',
    'addOffsetIfNecessary',
    'broadcast',
    'persistSession',
    'restoreSession',
  ] as const) {
    if (typeof a[name] !== 'function') missing.push(`RedisStreamsAdapter.${name}()`);
  }
  if (typeof a.uid !== 'string') missing.push('RedisStreamsAdapter.uid');
  if (typeof a.constructor?.decode !== 'function') missing.push('RedisStreamsAdapter.decode()');
  if (MessageType.BROADCAST !== 3) missing.push('socket.io-adapter MessageType.BROADCAST = 3');
  return missing;
}

/**
 * Applies Herald's changes to one adapter instance (see the top of this file). The caller checked
 * it first (checkStreamsAdapter).
 */
export function patchStreamsAdapter(adapter: object, deps: StreamsAdapterDeps): void {
  const a = adapter as StreamsAdapterInternals;
  const decode = a.constructor.decode!;
  const baseOnRawMessage = a.onRawMessage;
  /** The last entry of this namespace the reader handed on (undefined: none since it started). */
  let delivered: string | undefined;
  /** Restores waiting for the reader to reach their client's offset (see restoreSession). */
  const waiting = new Set<{ offset: string; resolve: () => void }>();
  const localBroadcast = (packet: unknown, opts: unknown) =>
    (Adapter.prototype.broadcast as (p: unknown, o: unknown) => void).call(a, packet, opts);

  a.broadcast = async function broadcast(packet, opts) {
    const options = opts as {
      rooms: Set<string>;
      except?: Set<string>;
      flags?: { local?: boolean };
    };
    if (options.flags?.local) {
      localBroadcast(packet, opts);
      return;
    }
    try {
      // Delivered by the reader, here as on every node (onRawMessage below).
      await a.publishAndReturnOffset({
        type: MessageType.BROADCAST,
        data: {
          packet,
          opts: {
            rooms: [...options.rooms],
            except: [...(options.except ?? [])],
            flags: options.flags ?? {},
          },
        },
      });
    } catch (error) {
      deps.onPublishFailure(error);
      localBroadcast(packet, opts);
    }
  };

  a.onRawMessage = function onRawMessage(raw, offset) {
    delivered = offset;
    for (const waiter of waiting) {
      if (compareIds(offset, waiter.offset) >= 0) {
        waiting.delete(waiter);
        waiter.resolve();
      }
    }
    if (raw.uid !== a.uid || raw.type !== String(MessageType.BROADCAST)) {
      baseOnRawMessage.call(a, raw, offset);
      return;
    }
    // This node's own broadcast, read back from the stream: delivered in stream order.
    let message: { data?: unknown };
    try {
      message = decode(raw);
    } catch {
      return;
    }
    const data = message.data as
      | { packet?: unknown; opts?: { rooms?: string[]; except?: string[] }; requestId?: unknown }
      | undefined;
    if (!data?.packet || !data.opts || data.requestId !== undefined) return;
    const opts = decodeOptions(data.opts);
    a.addOffsetIfNecessary(data.packet, opts, offset);
    localBroadcast(data.packet, opts);
  };

  const pending = new Set<Promise<unknown>>();
  a.persistSession = function persistSession(session) {
    const s = session as { sid: string; pid: string; rooms: string[]; data: unknown };
    const stored = JSON.stringify({
      sid: s.sid,
      pid: s.pid,
      rooms: s.rooms,
      data: deps.encodeData(s.data),
    });
    const write = deps.commands
      .set(deps.sessionKeyPrefix + s.pid, stored, { PX: deps.sessionTtlMs })
      .catch(deps.onPersistFailure)
      .finally(() => pending.delete(write));
    pending.add(write);
  };
  (a as unknown as { herald: { persisting: () => Promise<unknown> } }).herald = {
    persisting: () => Promise.all([...pending]),
  };

  a.restoreSession = async function restoreSession(pid, offset) {
    const detail = { pid, offset };
    if (typeof pid !== 'string' || !ENTRY_ID.test(offset)) {
      deps.onRestore('bad_offset', detail);
      throw new Error('invalid offset');
    }
    const [raw, offsetEntry] = await Promise.all([
      deps.commands.getDel(deps.sessionKeyPrefix + pid),
      deps.commands.xRange(deps.stream, offset, offset),
    ]);
    let session: { sid: string; pid: string; rooms: string[]; data: unknown } | undefined;
    try {
      const parsed = raw ? JSON.parse(raw) : undefined;
      const data = parsed ? deps.decodeData(parsed.data) : undefined;
      if (data && typeof parsed.sid === 'string' && Array.isArray(parsed.rooms))
        session = { sid: parsed.sid, pid, rooms: parsed.rooms.map(String), data };
    } catch {
      session = undefined;
    }
    if (!session) {
      deps.onRestore('no_session', detail);
      throw new Error('session not found');
    }
    if (offsetEntry.length === 0) {
      deps.onRestore('offset_trimmed', detail);
      throw new Error('offset not found');
    }
    const start = await deps.readerStart;
    // A client from a node whose reader was ahead of this one's: wait until this reader has handed
    // on the client's last entry, or its reader would give the socket entries it already has.
    if (compareIds(offset, delivered ?? start) > 0) {
      let waiter: { offset: string; resolve: () => void } | undefined;
      const caughtUp = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), READER_WAIT_MS);
        waiter = {
          offset,
          resolve: () => {
            clearTimeout(timer);
            resolve(true);
          },
        };
        waiting.add(waiter);
      });
      if (waiter) waiting.delete(waiter);
      if (!caughtUp) {
        deps.onRestore('no_session', detail);
        throw new Error("this node's reader is behind the client's offset");
      }
    }
    const missed: { id: string; data: unknown[] }[] = [];
    let cursor = offset;
    let read = 0;
    for (;;) {
      // The reader's position now; what it has not handed on yet, it will, once the socket has
      // joined its rooms (in the same run of promise callbacks as this function's return).
      const cut = delivered ?? start;
      if (compareIds(cursor, cut) >= 0) break;
      const entries = await deps.commands.xRange(deps.stream, `(${cursor}`, '+', {
        COUNT: RESTORE_BATCH,
      });
      if (entries.length === 0) break;
      for (const entry of entries) {
        cursor = entry.id;
        const m = entry.message;
        if (m.nsp !== a.nsp.name || m.type !== String(MessageType.BROADCAST)) continue;
        let data: { packet?: { type?: number; id?: unknown; data?: unknown[] }; opts?: object };
        try {
          data = (decode(m).data ?? {}) as typeof data;
        } catch {
          continue;
        }
        const packet = data.packet;
        if (!packet || !Array.isArray(packet.data) || packet.type !== 2 || packet.id !== undefined)
          continue;
        if (!reaches(session.rooms, (data.opts ?? {}) as { rooms?: string[] })) continue;
        missed.push({ id: entry.id, data: [...packet.data, entry.id] });
      }
      read += entries.length;
      if (read > RESTORE_MAX) {
        deps.onRestore('offset_trimmed', detail);
        throw new Error('too far behind');
      }
    }
    const cut = delivered ?? start;
    const missedPackets = missed.filter((p) => compareIds(p.id, cut) <= 0).map((p) => p.data);
    deps.onRestore('recovered', detail);
    return { ...session, missedPackets };
  };
}

/** Sessions the adapter is still writing (awaited before its Redis client closes). */
export function sessionsBeingStored(adapter: object): Promise<unknown> {
  return (
    (adapter as { herald?: { persisting: () => Promise<unknown> } }).herald?.persisting() ??
    Promise.resolve()
  );
}
