import type { NodePresence } from '../cluster/nodes.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis/client.js';
import { LuaScript } from '../redis/script.js';
import type { Presence, ViewersChange } from './presence.js';

/** A node's viewers hash of a site: field open_doc room → JSON `[[user, since ms], ...]`. */
export const viewersKey = (prefix: string, site: string, node: string): string =>
  `${viewersKeyBase(prefix, site)}${node}`;
/** The start of every viewers hash's key of a site (the node id follows). */
const viewersKeyBase = (prefix: string, site: string): string => `${prefix}:{s:${site}}:viewers:`;
/** The set of the nodes with a viewers hash for the site. */
export const viewerNodesKey = (prefix: string, site: string): string =>
  `${prefix}:{s:${site}}:viewer-nodes`;

/** How long a viewers hash lives unless its node's heartbeat renews it: a safety net only. */
export const VIEWERS_TTL_MS = 60_000;

/**
 * The merge, shared by the scripts: a room's viewers over the site's nodes listed in the set but
 * the skipped ones, ordered by since, then node id, then their place in the node's list; each
 * user once, at their earliest. Every key is of the site's hash tag (one slot on a Redis Cluster).
 */
const MERGE = `
local function merged(set, base, room, skip)
  local entries = {}
  for _, node in ipairs(redis.call('SMEMBERS', set)) do
    if not skip[node] then
      local raw = redis.call('HGET', base .. node, room)
      if raw then
        local ok, list = pcall(cjson.decode, raw)
        if ok and type(list) == 'table' then
          for i, v in ipairs(list) do
            if type(v) == 'table' and type(v[1]) == 'string' and type(v[2]) == 'number' then
              entries[#entries + 1] = { v[2], node, i, v[1] }
            end
          end
        end
      elseif redis.call('EXISTS', base .. node) == 0 then
        -- Its hash expired (the safety TTL) or was removed: the set forgets the node too.
        redis.call('SREM', set, node)
      end
    end
  end
  table.sort(entries, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[3] < b[3]
  end)
  local seen, users = {}, {}
  for _, e in ipairs(entries) do
    if not seen[e[4]] then
      seen[e[4]] = true
      users[#users + 1] = e[4]
    end
  end
  return users
end
`;

/**
 * Writes (op `set`, `del`) or not (`read`) this node's field, then answers the merged list.
 * KEYS: viewer-nodes, own hash. ARGV: node, key base, room, op, json, ttl ms, skipped nodes...
 */
const VIEWERS = new LuaScript(`${MERGE}
local op = ARGV[4]
if op == 'set' then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  redis.call('SADD', KEYS[1], ARGV[1])
elseif op == 'del' then
  redis.call('HDEL', KEYS[2], ARGV[3])
  if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SREM', KEYS[1], ARGV[1]) end
end
local skip = {}
for i = 7, #ARGV do skip[ARGV[i]] = true end
return merged(KEYS[1], ARGV[2], ARGV[3], skip)
`);

/**
 * A dead node's hash removed; answers `{room, users}` for each of its rooms whose list changed and
 * still has viewers. KEYS: viewer-nodes, the dead node's hash. ARGV: dead node, key base, skipped...
 */
const REAP = new LuaScript(`${MERGE}
local skip = {}
for i = 3, #ARGV do skip[ARGV[i]] = true end
skip[ARGV[1]] = nil
local rooms = redis.call('HKEYS', KEYS[2])
local before = {}
for i, room in ipairs(rooms) do before[i] = table.concat(merged(KEYS[1], ARGV[2], room, skip), '\\0') end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], ARGV[1])
local out = {}
for i, room in ipairs(rooms) do
  local after = merged(KEYS[1], ARGV[2], room, skip)
  if #after > 0 and table.concat(after, '\\0') ~= before[i] then out[#out + 1] = { room, after } end
end
return out
`);

/**
 * This node's hash written again whole (after it was taken for dead, or Redis lost it); answers
 * `{room, users}` for each room written. KEYS: viewer-nodes, own hash. ARGV: node, key base,
 * ttl ms, number of skipped nodes, the skipped nodes..., then room, json pairs.
 */
const REWRITE = new LuaScript(`${MERGE}
redis.call('DEL', KEYS[2])
local n = tonumber(ARGV[4])
local skip = {}
for i = 5, 4 + n do skip[ARGV[i]] = true end
local first = 5 + n
local out = {}
if first > #ARGV then
  redis.call('SREM', KEYS[1], ARGV[1])
  return out
end
for i = first, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
for i = first, #ARGV, 2 do out[#out + 1] = { ARGV[i], merged(KEYS[1], ARGV[2], ARGV[i], skip) } end
return out
`);

/** A user viewing a document on this node, and since when (ms, this node's clock). */
type Entry = [user: string, since: number];

/** This node's viewers of one document, as last given; `stored` once Redis has them. */
interface LocalDoc {
  readonly viewers: readonly Entry[];
  stored: boolean;
}

export interface RedisPresenceOptions {
  /** A command connection (offline queue off: a command fails at once while Redis is down). */
  client: RedisClient;
  /** This node's id. */
  node: string;
  /** Prefix of every key (default `herald`). */
  prefix?: string;
  logger: Logger;
}

/**
 * Presence across a cluster: each node keeps its local viewers in a hash of its own per site
 * (`<prefix>:{s:<site>}:viewers:<node>`, listed in `<prefix>:{s:<site>}:viewer-nodes`), and a
 * change writes the node's field and reads the merged list in one script. A user's `since` is
 * when this node first saw them viewing the document (kept while they stay), so the merged order
 * is by who came first across the cluster. Liveness is cluster/nodes.ts's: it renews the hashes
 * on each heartbeat, says which nodes to leave out (their beat is late), and reaps dead nodes'.
 */
export class RedisPresence implements Presence, NodePresence {
  readonly shared = true;
  /** Set by the node's liveness (Nodes): called before the first write to a site. */
  onNewSite: ((site: string) => void) | undefined = undefined;
  readonly #client: RedisClient;
  readonly #node: string;
  readonly #prefix: string;
  readonly #logger: Logger;
  /** This node's viewers, by site and room: what its hashes hold, or are about to. */
  readonly #local = new Map<string, Map<string, LocalDoc>>();
  readonly #sites = new Set<string>();
  /** Nodes whose lists are left out of merges: their beat is late and they are not yet reaped. */
  #skip: readonly string[] = [];
  #held = false;
  #failing = false;

  constructor(options: RedisPresenceOptions) {
    this.#client = options.client;
    this.#node = options.node;
    this.#prefix = options.prefix ?? 'herald';
    this.#logger = options.logger.child({ module: 'presence' });
  }

  viewers(site: string, room: string, local: readonly string[]): ViewersAnswer {
    if (this.#held) return undefined;
    let docs = this.#local.get(site);
    const doc = docs?.get(room);
    // Nothing to store: unchanged since stored, or none here before and none now.
    if (doc ? doc.stored && sameUsers(doc.viewers, local) : local.length === 0)
      return this.#run(site, room, 'read');
    if (!this.#sites.has(site)) {
      this.#sites.add(site);
      // Sent before the write on the same connection, so Redis has the node's record name the
      // site before the site has the node's hash: a sweeper always finds what to remove.
      this.onNewSite?.(site);
    }
    const next: LocalDoc = { viewers: sinceOrder(local, doc?.viewers), stored: false };
    if (!docs) {
      docs = new Map();
      this.#local.set(site, docs);
    }
    docs.set(room, next);
    const answer = this.#run(site, room, local.length > 0 ? 'set' : 'del', next);
    return answer.then((users) => {
      if (docs.get(room) === next) {
        next.stored = true;
        if (next.viewers.length === 0) docs.delete(room);
      }
      return users;
    });
  }

  /** The document's viewers across the cluster, as Redis has them now (this node's as stored). */
  list(site: string, room: string): Promise<readonly string[] | undefined> {
    if (this.#held) return Promise.resolve(undefined);
    return this.#run(site, room, 'read');
  }

  async #run(
    site: string,
    room: string,
    op: 'read' | 'set' | 'del',
    doc?: LocalDoc,
  ): Promise<readonly string[]> {
    try {
      const users = (await VIEWERS.run(
        this.#client,
        [viewerNodesKey(this.#prefix, site), viewersKey(this.#prefix, site, this.#node)],
        [
          this.#node,
          viewersKeyBase(this.#prefix, site),
          room,
          op,
          op === 'set' ? JSON.stringify(doc?.viewers) : '',
          String(VIEWERS_TTL_MS),
          ...this.#skip,
        ],
      )) as string[];
      this.#recovered();
      return users;
    } catch (error) {
      this.#failed(error, 'the viewers of a document could not be stored or read');
      throw error;
    }
  }

  sites(): Iterable<string> {
    return this.#sites;
  }

  /**
   * The heartbeat: `stale` nodes are left out of merges from now on; the hashes are renewed, or
   * written again whole when the node was gone from the cluster (`rejoined`: taken for dead, or
   * Redis lost its data), answering then each document's list to tell its viewers.
   */
  async beat(view: { stale: readonly string[]; rejoined: boolean }): Promise<ViewersChange[]> {
    this.#skip = view.stale;
    if (this.#held) return [];
    if (view.rejoined) return this.#rewrite();
    await Promise.all(
      [...this.#sites].map((site) =>
        this.#client.pExpire(viewersKey(this.#prefix, site, this.#node), VIEWERS_TTL_MS),
      ),
    );
    return [];
  }

  async #rewrite(): Promise<ViewersChange[]> {
    const changes: ViewersChange[] = [];
    await Promise.all(
      [...this.#sites].map(async (site) => {
        const docs = [...(this.#local.get(site) ?? [])].filter(([, doc]) => doc.viewers.length);
        const written = docs.map(([room, doc]) => [room, JSON.stringify(doc.viewers)]);
        const lists = (await REWRITE.run(
          this.#client,
          [viewerNodesKey(this.#prefix, site), viewersKey(this.#prefix, site, this.#node)],
          [
            this.#node,
            viewersKeyBase(this.#prefix, site),
            String(VIEWERS_TTL_MS),
            String(this.#skip.length),
            ...this.#skip,
            ...written.flat(),
          ],
        )) as [string, string[]][];
        for (const [, doc] of docs) doc.stored = true;
        for (const [room, users] of lists) changes.push({ site, room, users });
      }),
    );
    if (changes.length)
      this.#logger.info(
        { documents: changes.length },
        'this node was gone from the cluster: its viewers written again',
      );
    return changes;
  }

  /**
   * A dead node's viewers hashes removed, for each site in `sites`; answers the documents whose
   * lists changed and still have viewers, with who views them now.
   */
  async reap(node: string, sites: readonly string[]): Promise<ViewersChange[]> {
    const changes: ViewersChange[] = [];
    await Promise.all(
      sites.map(async (site) => {
        const lists = (await REAP.run(
          this.#client,
          [viewerNodesKey(this.#prefix, site), viewersKey(this.#prefix, site, node)],
          [node, viewersKeyBase(this.#prefix, site), ...this.#skip],
        )) as [string, string[]][];
        for (const [room, users] of lists) changes.push({ site, room, users });
      }),
    );
    return changes;
  }

  /**
   * Writes and answers nothing from now on, the hashes kept as they are: a stopping node's
   * viewers stay listed through the grace, while its clients recover on other nodes.
   */
  hold(): void {
    this.#held = true;
  }

  async close(): Promise<void> {
    this.#held = true;
    this.#local.clear();
  }

  /** One warning per outage, then debug lines. */
  #failed(error: unknown, what: string): void {
    const err = error instanceof Error ? error.message : String(error);
    if (this.#failing) this.#logger.debug({ err }, what);
    else this.#logger.warn({ err }, `${what}; the notices wait for Redis`);
    this.#failing = true;
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#logger.info('the viewers of documents are stored and read again');
  }
}

type ViewersAnswer = ReturnType<Presence['viewers']>;

/**
 * This node's viewers with their since, in since order: who stays keeps their since (and place),
 * who is new is since now, after those already here.
 */
function sinceOrder(users: readonly string[], before: readonly Entry[] | undefined): Entry[] {
  const now = Date.now();
  const since = new Map(before);
  const entries = users.map((user, i) => {
    const kept = since.get(user);
    return { user, since: kept ?? now, isNew: kept === undefined ? 1 : 0, i };
  });
  entries.sort((a, b) => a.since - b.since || a.isNew - b.isNew || a.i - b.i);
  return entries.map(({ user, since }) => [user, since]);
}

/** Whether the stored entries are the same users (their order follows from their since). */
function sameUsers(entries: readonly Entry[], users: readonly string[]): boolean {
  if (entries.length !== users.length) return false;
  const stored = new Set(entries.map(([user]) => user));
  return users.every((user) => stored.has(user));
}
