import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis/client.js';
import { isRecoverable } from '../rooms/session-end.js';
import type { HeraldNamespace, HeraldSocket } from '../session.js';
import { privateSessionId } from '../socketio/session-id.js';
import type { TurnEnd } from '../socketio/turn-end.js';

/**
 * What Herald keeps of a socket in Redis so that, if its node is killed, another node can put the
 * client back in its rooms (rooms/rejoin.ts). Users and room names, never credentials.
 */
export interface SocketRecord {
  user: string;
  /** Its doctype, document and task rooms (the ones a core request joins), at most --max-rooms. */
  rooms: string[];
  /** Its open documents (doc_open), as [doctype, docname]. */
  openDocs: [string, string][];
  /** When it was written (ms since the epoch). */
  at: number;
}

/** What a claim found: the record (now deleted), or why there is none for this user. */
export type Claim =
  | { outcome: 'found'; record: SocketRecord; node: string }
  | { outcome: 'not_found' | 'other_user' | 'malformed' };

/** The hash of one node's records of one site's sockets: field = private session id. */
export const recordsKey = (prefix: string, site: string, node: string): string =>
  `${prefix}:{s:${site}}:socks:${node}`;
/** The set of the nodes that have records of a site's sockets. */
export const recordNodesKey = (prefix: string, site: string): string =>
  `${prefix}:{s:${site}}:sock-nodes`;

/**
 * The rooms a record keeps: those a core request joins (doctype_subscribe, doc_subscribe,
 * task_subscribe, doc_open), whoever joined them. A room of any other name was joined by an app's
 * handler, whose check Herald cannot make again: it is not kept, so it is never re-joined.
 */
export function isRecordedRoom(room: string): boolean {
  return (
    room.startsWith('doctype:') ||
    room.startsWith('doc:') ||
    room.startsWith('open_doc:') ||
    room.startsWith('task_progress:')
  );
}

/**
 * Finds the record of a private session id on any node of the site and deletes it, in one step:
 * two nodes claiming the same id never both get it. A record of another user is left where it is
 * and not returned. Nodes whose hash has expired are dropped from the set on the way. Every key is
 * of the site's hash tag (one slot of a Redis Cluster).
 * KEYS[1]: the site's set of nodes; ARGV: the prefix of its nodes' hashes, the id, the user.
 */
const CLAIM_SCRIPT = `
local nodes = redis.call('SMEMBERS', KEYS[1])
for _, node in ipairs(nodes) do
  local key = ARGV[1] .. node
  local record = redis.call('HGET', key, ARGV[2])
  if record then
    local ok, decoded = pcall(cjson.decode, record)
    if not ok or type(decoded) ~= 'table' then
      redis.call('HDEL', key, ARGV[2])
      return {'malformed'}
    end
    if decoded['user'] ~= ARGV[3] then return {'other_user'} end
    redis.call('HDEL', key, ARGV[2])
    return {'found', record, node}
  end
  if redis.call('EXISTS', key) == 0 then redis.call('SREM', KEYS[1], node) end
end
return {'not_found'}
`;

/** How long after its last refresh a node's records expire, beyond the recovery window. */
const GRACE_MS = 30_000;
/** Records of disconnected sockets kept for their return, in all; past it the oldest go. */
const MAX_KEPT = 100_000;

export interface SocketRecordsOptions {
  /** The command client (offline queue off: a write while Redis is away fails at once). */
  client: RedisClient;
  /** --cluster-prefix. */
  prefix: string;
  /** This node's id. */
  node: string;
  /** --recovery-window: a disconnected socket's record is kept this long. */
  recoveryWindowMs: number;
  /** --max-rooms: rooms kept per record. */
  maxRooms: number;
  /** The server's end of each event-loop turn: the writes of a turn go out there, together. */
  turnEnd: TurnEnd;
  logger: Logger;
  /** How often the node's keys are refreshed and expired records removed (default 10 s). */
  refreshMs?: number;
}

/** A record as read back: a plain object of the expected shape, or undefined. */
export function parseRecord(text: string): SocketRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { user, rooms, openDocs, at } = value as Record<string, unknown>;
  if (typeof user !== 'string' || !Array.isArray(rooms) || !Array.isArray(openDocs))
    return undefined;
  return {
    user,
    rooms: rooms.filter((room): room is string => typeof room === 'string'),
    openDocs: openDocs.filter(
      (doc): doc is [string, string] =>
        Array.isArray(doc) &&
        doc.length === 2 &&
        typeof doc[0] === 'string' &&
        typeof doc[1] === 'string',
    ),
    at: typeof at === 'number' ? at : 0,
  };
}

/**
 * This node's records of its sockets, in Redis: per site a hash `<prefix>:{s:<site>}:socks:<node>`
 * (private session id → JSON SocketRecord), and the set `<prefix>:{s:<site>}:sock-nodes` of the
 * nodes that have one. A socket's record is written at the end of the turn its rooms changed in
 * (every record of the turn in one pipeline per site), removed when it leaves for good (a client or
 * server namespace disconnect), and kept for the recovery window when it may come back. The keys
 * expire the recovery window + 30 s after the node's last refresh: a killed node's records outlive
 * it long enough for its clients to come back elsewhere.
 */
export class SocketRecords {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #node: string;
  readonly #ttlMs: number;
  readonly #keepMs: number;
  readonly #maxRooms: number;
  readonly #turnEnd: TurnEnd;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  /** Adapters whose join-room and leave-room events are watched. */
  readonly #watched = new WeakSet<object>();
  /** Sites with records of this node, and their namespace (refreshed, rewritten after an outage). */
  readonly #sites = new Map<string, HeraldNamespace>();
  /** Sockets whose rooms changed this turn, by namespace. */
  readonly #dirty = new Map<HeraldNamespace, Set<string>>();
  /** Records to delete this turn, by site. */
  readonly #deletes = new Map<string, string[]>();
  /** Sockets that have a record in Redis (and the disconnect listener). */
  readonly #written = new WeakSet<HeraldSocket>();
  /** Records of disconnected sockets (or found in Redis, not ours), by id: until when they are kept. */
  readonly #kept = new Map<string, { site: string; until: number }>();
  /** How many of #kept are of each site. */
  readonly #keptPerSite = new Map<string, number>();
  readonly #onDisconnect: (this: HeraldSocket, reason: string) => void;
  #scheduled = false;
  #wasReady = false;
  #failing = false;
  #closed = false;

  constructor(options: SocketRecordsOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix;
    this.#node = options.node;
    this.#keepMs = options.recoveryWindowMs;
    this.#ttlMs = options.recoveryWindowMs + GRACE_MS;
    this.#maxRooms = options.maxRooms;
    this.#turnEnd = options.turnEnd;
    this.#log = options.logger.child({ cluster: 'socket-records', node: options.node });
    const records = this;
    // One listener shared by every recorded socket (an idle socket has no closure of its own).
    this.#onDisconnect = function (reason) {
      records.#left(this, reason);
    };
    this.#client.on('ready', this.#onReady);
    const refreshMs = options.refreshMs ?? Math.min(10_000, Math.floor(this.#ttlMs / 3));
    this.#timer = setInterval(() => this.#refresh(), refreshMs);
    this.#timer.unref();
  }

  /** The node these records are of. */
  get node(): string {
    return this.#node;
  }

  /**
   * A socket connected: its namespace's room changes are watched from now on. A socket recovered
   * by Socket.IO is written again here, and its record on another node (where it was before) is
   * deleted first.
   */
  watch(socket: HeraldSocket): void {
    const nsp = socket.nsp;
    const site = nsp.name.slice(1);
    if (!this.#watched.has(nsp.adapter)) {
      this.#watched.add(nsp.adapter);
      const mark = (room: string, id: string) => {
        if (isRecordedRoom(room)) this.#mark(nsp, id);
      };
      nsp.adapter.on('join-room', mark);
      nsp.adapter.on('leave-room', mark);
      const known = this.#sites.get(site);
      this.#sites.set(site, nsp);
      // The node's hash may hold records it did not write (a process with this node id, killed):
      // they are kept for their clients' return, then removed.
      if (known === undefined && this.#client.isReady) this.#adopt(site, nsp);
    }
    if (!socket.recovered) return;
    const pid = privateSessionId(socket);
    if (pid === undefined) return;
    if (!this.#unkeep(pid))
      this.claim(site, pid, socket.data.user).catch((error: unknown) => this.#failed(error));
    this.#mark(nsp, socket.id);
  }

  /**
   * Takes the record of `pid` from any node of `site` if it is `user`'s: it is deleted in the same
   * step, so no other claim gets it. Rejects when Redis does not answer (within `timeoutMs`).
   */
  async claim(site: string, pid: string, user: string, timeoutMs = 5000): Promise<Claim> {
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      this.#client.eval(CLAIM_SCRIPT, {
        keys: [recordNodesKey(this.#prefix, site)],
        arguments: [recordsKey(this.#prefix, site, ''), pid, user],
      }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis did not answer the claim within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const [outcome, text, node] = Array.isArray(reply) ? reply.map(String) : [];
    if (outcome === 'found' && text !== undefined && node !== undefined) {
      if (node === this.#node) this.#unkeep(pid);
      const record = parseRecord(text);
      return record ? { outcome: 'found', record, node } : { outcome: 'malformed' };
    }
    if (outcome === 'other_user' || outcome === 'malformed') return { outcome };
    return { outcome: 'not_found' };
  }

  /** Stops refreshing; the records stay in Redis until they expire (a restart's clients need them). */
  close(): void {
    // What this turn changed still goes out, ahead of the client's QUIT.
    if (this.#scheduled) this.#flush();
    this.#closed = true;
    clearInterval(this.#timer);
    this.#client.off('ready', this.#onReady);
  }

  #mark(nsp: HeraldNamespace, id: string): void {
    if (this.#closed) return;
    let ids = this.#dirty.get(nsp);
    if (!ids) {
      ids = new Set();
      this.#dirty.set(nsp, ids);
    }
    ids.add(id);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#turnEnd.at('flush', this.#flush);
  }

  /** A recorded socket left: for good (its record goes), or maybe to come back (kept a while). */
  #left(socket: HeraldSocket, reason: string): void {
    const pid = privateSessionId(socket);
    if (pid === undefined || this.#closed) return;
    const site = socket.nsp.name.slice(1);
    if (!isRecoverable(reason)) {
      this.#delete(site, pid);
      return;
    }
    this.#unkeep(pid);
    this.#keep(pid, site, Date.now() + this.#keepMs);
  }

  /** Keeps a record of a socket that is not here until `until` (in order: the window is fixed). */
  #keep(pid: string, site: string, until: number): void {
    this.#kept.set(pid, { site, until });
    this.#keptPerSite.set(site, (this.#keptPerSite.get(site) ?? 0) + 1);
    if (this.#kept.size <= MAX_KEPT) return;
    const [oldest, { site: itsSite }] = this.#kept.entries().next().value as [
      string,
      { site: string },
    ];
    this.#unkeep(oldest);
    this.#delete(itsSite, oldest);
  }

  /** No longer kept (back, claimed or expired); false when it was not. */
  #unkeep(pid: string): boolean {
    const kept = this.#kept.get(pid);
    if (!kept) return false;
    this.#kept.delete(pid);
    const left = (this.#keptPerSite.get(kept.site) ?? 1) - 1;
    if (left > 0) this.#keptPerSite.set(kept.site, left);
    else this.#keptPerSite.delete(kept.site);
    return true;
  }

  #delete(site: string, pid: string): void {
    const pids = this.#deletes.get(site);
    if (pids) pids.push(pid);
    else this.#deletes.set(site, [pid]);
    this.#schedule();
  }

  /** The records of what changed this turn: one pipeline per site. */
  readonly #flush = (): void => {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    const writes = new Map<string, { sets: Record<string, string>; dels: string[] }>();
    const of = (site: string) => {
      let write = writes.get(site);
      if (!write) {
        write = { sets: {}, dels: [] };
        writes.set(site, write);
      }
      return write;
    };
    const at = Date.now();
    for (const [nsp, ids] of this.#dirty) {
      const site = nsp.name.slice(1);
      for (const id of ids) {
        const socket = nsp.sockets.get(id);
        // Gone: its disconnect decided what becomes of its record.
        if (!socket?.connected) continue;
        const pid = privateSessionId(socket);
        if (pid === undefined) continue;
        const record = this.#recordOf(socket, at);
        if (record) {
          of(site).sets[pid] = JSON.stringify(record);
          if (!this.#written.has(socket)) {
            this.#written.add(socket);
            socket.on('disconnect', this.#onDisconnect);
          }
          this.#sites.set(site, nsp);
        } else if (this.#written.has(socket)) {
          of(site).dels.push(pid);
        }
      }
    }
    this.#dirty.clear();
    for (const [site, pids] of this.#deletes) of(site).dels.push(...pids);
    this.#deletes.clear();
    for (const [site, { sets, dels }] of writes) {
      const key = recordsKey(this.#prefix, site, this.#node);
      const nodes = recordNodesKey(this.#prefix, site);
      const batch = this.#client.multi();
      if (Object.keys(sets).length > 0) batch.hSet(key, sets);
      if (dels.length > 0) batch.hDel(key, dels);
      batch.pExpire(key, this.#ttlMs).sAdd(nodes, this.#node).pExpire(nodes, this.#ttlMs);
      batch.execAsPipeline().then(this.#succeeded, this.#failed);
    }
  };

  /** A socket's record, or undefined when it has nothing to re-join. */
  #recordOf(socket: HeraldSocket, at: number): SocketRecord | undefined {
    const rooms: string[] = [];
    for (const room of socket.rooms) {
      if (rooms.length >= this.#maxRooms) break;
      // Open documents are kept as such (re-opened through doc_open, viewers told).
      if (isRecordedRoom(room) && !room.startsWith('open_doc:')) rooms.push(room);
    }
    const openDocs: [string, string][] = [];
    for (const { doctype, docname } of socket.data.openDocs?.values() ?? [])
      openDocs.push([doctype, docname]);
    if (rooms.length === 0 && openDocs.length === 0) return undefined;
    return { user: socket.data.user, rooms, openDocs, at };
  }

  /** Refreshes the node's keys and removes the records kept past the recovery window. */
  #refresh(): void {
    if (this.#closed) return;
    const now = Date.now();
    const expired = new Map<string, string[]>();
    for (const [pid, { site, until }] of this.#kept) {
      if (until > now) break;
      this.#unkeep(pid);
      const pids = expired.get(site);
      if (pids) pids.push(pid);
      else expired.set(site, [pid]);
    }
    if (!this.#client.isReady) {
      // Removed once Redis is back (adopted again as found, then expired).
      return;
    }
    for (const [site, nsp] of this.#sites) {
      const key = recordsKey(this.#prefix, site, this.#node);
      const nodes = recordNodesKey(this.#prefix, site);
      const batch = this.#client.multi();
      const pids = expired.get(site);
      if (pids) batch.hDel(key, pids);
      batch.pExpire(key, this.#ttlMs).sAdd(nodes, this.#node).pExpire(nodes, this.#ttlMs);
      batch.execAsPipeline().then(this.#succeeded, this.#failed);
      // A site with no socket here and nothing kept is no longer refreshed (its keys expire).
      if (nsp.sockets.size === 0 && !pids && !this.#keptPerSite.has(site)) this.#sites.delete(site);
    }
  }

  /**
   * Records in this node's hash that no socket here has (written by a killed process of this node
   * id, or whose deletion failed while Redis was away): kept for the recovery window, then removed.
   */
  #adopt(site: string, nsp: HeraldNamespace): void {
    const key = recordsKey(this.#prefix, site, this.#node);
    this.#client.hKeys(key).then((pids) => {
      const live = new Set<string>();
      for (const socket of nsp.sockets.values()) {
        const pid = privateSessionId(socket);
        if (pid !== undefined) live.add(pid);
      }
      const until = Date.now() + this.#keepMs;
      for (const pid of pids)
        if (!live.has(pid) && !this.#kept.has(pid)) this.#keep(pid, site, until);
    }, this.#failed);
  }

  /** Redis is (back) up: what this node's hashes hold is adopted, and every record written again. */
  readonly #onReady = (): void => {
    const again = this.#wasReady;
    this.#wasReady = true;
    for (const [site, nsp] of this.#sites) {
      this.#adopt(site, nsp);
      if (!again) continue;
      for (const socket of nsp.sockets.values()) this.#mark(nsp, socket.id);
    }
  };

  readonly #succeeded = (): void => {
    if (this.#failing) this.#log.info('socket records are written to Redis again');
    this.#failing = false;
  };

  readonly #failed = (error: unknown): void => {
    if (this.#failing) return;
    this.#failing = true;
    this.#log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'could not write socket records to Redis (clients of this node, if it is killed, come back without their rooms); written again once Redis answers',
    );
  };
}
