import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { HeraldError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ViewersChange } from '../presence/presence.js';
import type { RedisClient } from '../redis/client.js';
import { LuaScript } from '../redis/script.js';
import { VERSION } from '../version.js';

/** Every node's last heartbeat: zset, node id → Redis time in ms. */
export const nodesKey = (prefix: string): string => `${prefix}:nodes`;
/** A node's record: hash (host, pid, port, version, started, state, sites, beat, token). */
export const nodeKey = (prefix: string, id: string): string => `${prefix}:node:${id}`;
/** The channel a node listens on while its process lives: Redis drops a killed one's at once. */
export const aliveChannel = (prefix: string, id: string): string => `${prefix}:alive:${id}`;

/** The times of liveness (ms). */
export const NODE_TIMING = {
  /** How often a node beats (the zset, its record, its viewers hashes' TTL). */
  beatMs: 2000,
  /** A node whose last beat is older is dead. */
  deadAfterMs: 6000,
  /** How long a record lives unless renewed. */
  recordTtlMs: 30_000,
  /** How often the sweeper looks for dead nodes. */
  sweepMs: 1000,
  /** How long a stopped node's viewers stay listed (its clients recover elsewhere meanwhile). */
  graceMs: 10_000,
} as const;

/** What a node's record says it is doing. */
export type NodeState = 'up' | 'draining' | 'stopped';

/** What the liveness of a node does with its presence (presence/redis.ts). */
export interface NodePresence {
  /** The sites this node has written viewers for. */
  sites(): Iterable<string>;
  /** Set by Nodes: called (synchronously) before the first write to a site. */
  onNewSite: ((site: string) => void) | undefined;
  /** A heartbeat: renews the hashes, or writes them again when `rejoined`; answers what to tell. */
  beat(view: { stale: readonly string[]; rejoined: boolean }): Promise<ViewersChange[]>;
  /** A dead node's viewers hashes removed; answers what to tell. */
  reap(node: string, sites: readonly string[]): Promise<ViewersChange[]>;
  /** Stops writing, keeping the hashes (a stopping node's grace). */
  hold(): void;
}

export interface NodesOptions {
  /** A command connection (offline queue off: a command fails at once while Redis is down). */
  client: RedisClient;
  /** A connected connection for SUBSCRIBE (may carry the caller's subscriptions too). */
  subscriber: RedisClient;
  /** This node's id (`--node-id`). */
  id: string;
  /** Prefix of every key and channel (default `herald`). */
  prefix?: string;
  /** What the record tells about the process (host, pid and version default to this one's). */
  info?: { host?: string; pid?: number; port?: number | string; version?: string };
  /** More fields of the record, read at each heartbeat (e.g. the number of sockets). */
  extra?: () => Record<string, string | number>;
  presence?: NodePresence;
  logger: Logger;
  /**
   * A node is dead (its viewers hashes already removed): `affected`, the documents whose viewers
   * should be told who views them now. Also called with this node's own id at start when an
   * earlier process with the same id left viewers behind.
   */
  onDead?: (node: string, affected: ViewersChange[]) => void;
  /** This node was gone from the cluster (taken for dead, or Redis lost it) and is back: tell these. */
  onRejoin?: (affected: ViewersChange[]) => void;
  /** Shorter times, for tests of this module only. */
  timing?: Partial<typeof NODE_TIMING>;
}

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Takes the id unless a live node holds it: one whose record is not stopped, whose beat is recent
 * and that listens on its alive channel (the claimer listens there already: a holder is a second
 * listener). KEYS: record. ARGV: token, alive channel, dead after ms, ttl ms, field/value pairs.
 * Answers `{'taken', host, pid, ms since its beat}` or `{'ok', earlier token, earlier sites}`.
 */
const CLAIM = new LuaScript(`${NOW}
local prev = redis.call('HMGET', KEYS[1], 'token', 'state', 'beat', 'host', 'pid', 'sites')
if prev[1] and prev[1] ~= ARGV[1] and prev[2] ~= 'stopped'
  and tonumber(prev[3] or 0) >= now - tonumber(ARGV[3]) then
  local subs = redis.call('PUBSUB', 'NUMSUB', ARGV[2])
  if tonumber(subs[2]) > 1 then
    return { 'taken', prev[4] or '', prev[5] or '', now - tonumber(prev[3]) }
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'beat', now, unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return { 'ok', prev[1] or '', prev[6] or '' }
`);

/**
 * The beat: ZADD at Redis's time (plus an offset), and every node's beat with that time (one
 * clock for all: the machines' clocks may differ). KEYS: nodes. ARGV: id, offset ms.
 * Answers `{now, 1 if the id was not there, {id, score, ...}}`.
 */
const BEAT = new LuaScript(`${NOW}
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return { now, added, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
`);

/** Every node's beat and Redis's time. KEYS: nodes. Answers `{now, {id, score, ...}}`. */
const BEATS = new LuaScript(`${NOW}
return { now, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') }
`);

/**
 * The record written with its TTL, unless another process holds the id now (answers 0).
 * KEYS: record. ARGV: token, ttl ms, field set to Redis's time ('' for none), field/value pairs.
 */
const RECORD = new LuaScript(`${NOW}
local token = redis.call('HGET', KEYS[1], 'token')
if token and token ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], ARGV[3], now) end
redis.call('HSET', KEYS[1], 'token', ARGV[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/** A dead node out of the zset, unless it beat since it was seen. KEYS: nodes. ARGV: id, score seen. */
const REMOVE = new LuaScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`);

/** A dead node's record removed, unless another process took its id. KEYS: record. ARGV: token. */
const FORGET = new LuaScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Counts of what the timers did, for tests and logs. */
export interface NodesStats {
  beats: number;
  beatFailures: number;
  sweeps: number;
  sweepFailures: number;
  deaths: number;
}

/**
 * A node's liveness in the cluster. It beats every 2 s (`ZADD <prefix>:nodes <now> <id>`, its
 * record `<prefix>:node:<id>` with a 30 s TTL) and listens on `<prefix>:alive:<id>` while its
 * process lives. Whoever the caller makes the sweeper (the ingest lease holder) checks every 1 s:
 * a node whose beat is older than 6 s, or that nobody listens for on its alive channel (Redis
 * drops a killed process's connection at once), is dead: out of the zset, its viewers hashes
 * removed, `onDead` told. `stop()` (SIGTERM) marks the node stopped and keeps its viewers listed
 * for a 10 s grace. Every timer is unref'd; Redis errors are logged, never thrown out of a timer.
 */
export class Nodes {
  readonly id: string;
  readonly stats: NodesStats = {
    beats: 0,
    beatFailures: 0,
    sweeps: 0,
    sweepFailures: 0,
    deaths: 0,
  };
  readonly #client: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #prefix: string;
  readonly #info: { host: string; pid: number; port: string; version: string };
  readonly #extra: NodesOptions['extra'];
  readonly #presence: NodePresence | undefined;
  readonly #logger: Logger;
  readonly #onDead: NodesOptions['onDead'];
  readonly #onRejoin: NodesOptions['onRejoin'];
  readonly #timing: typeof NODE_TIMING;
  readonly #token = randomBytes(8).toString('hex');
  readonly #started = Date.now();
  #state: NodeState = 'up';
  #beatTimer: NodeJS.Timeout | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #beating = false;
  #sweepRunning = false;
  #running = false;
  /** Nodes beating within the bound, and the others (not yet removed), at the last read. */
  #live: string[] = [];
  #stale: string[] = [];
  /** Consecutive sweeps that found nobody on a node's alive channel. */
  readonly #silent = new Map<string, number>();
  /** Dead nodes out of the zset whose viewers could not be removed yet: their sites. */
  readonly #toReap = new Map<string, string[]>();
  /** Since when (performance.now()) this node's Redis calls succeed; undefined while failing. */
  #linkOkSince: number | undefined = Number.NEGATIVE_INFINITY;
  #failing = false;
  #lostId = false;
  /** Back in the cluster, and the presence's viewers not yet written again. */
  #rejoined = false;

  constructor(options: NodesOptions) {
    this.id = options.id;
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#prefix = options.prefix ?? 'herald';
    this.#info = {
      host: options.info?.host ?? hostname(),
      pid: options.info?.pid ?? process.pid,
      port: String(options.info?.port ?? ''),
      version: options.info?.version ?? VERSION,
    };
    this.#extra = options.extra;
    this.#presence = options.presence;
    this.#logger = options.logger.child({ module: 'cluster-nodes', node: options.id });
    this.#onDead = options.onDead;
    this.#onRejoin = options.onRejoin;
    this.#timing = { ...NODE_TIMING, ...options.timing };
    if (this.#presence) this.#presence.onNewSite = () => this.#writeSites();
  }

  /**
   * Joins the cluster: takes the id (HERALD_CLUSTER_NODE_ID_TAKEN when a live node holds it),
   * removes what an earlier process with this id left, beats, and starts the heartbeat.
   */
  async start(): Promise<void> {
    const channel = aliveChannel(this.#prefix, this.id);
    // Listening first: the claim then sees a live holder as a second listener.
    await this.#subscriber.subscribe(channel, onAlive);
    let claim: [string, string, string, number?];
    try {
      claim = (await CLAIM.run(
        this.#client,
        [nodeKey(this.#prefix, this.id)],
        [
          this.#token,
          channel,
          String(this.#timing.deadAfterMs),
          String(this.#timing.recordTtlMs),
          ...this.#fields(),
        ],
      )) as typeof claim;
    } catch (error) {
      await this.#unsubscribe();
      throw error;
    }
    if (claim[0] === 'taken') {
      await this.#unsubscribe();
      const [, host, pid, sinceBeat] = claim;
      throw new HeraldError(
        'HERALD_CLUSTER_NODE_ID_TAKEN',
        `the node id "${this.id}" is held by a live node (host ${host}, pid ${pid}, its last beat ${sinceBeat} ms ago)`,
      );
    }
    this.#running = true;
    const [, earlier, earlierSites] = claim;
    if (earlier) {
      // The id's last process died or stopped: what it left is this node's to remove.
      await this.#reapViewers(this.id, parseSites(earlierSites), {
        reason: 'an earlier process with this node id',
      });
    }
    await this.#beat(true);
    this.#beatTimer = setInterval(() => void this.#beat(false), this.#timing.beatMs).unref();
  }

  /** Whether this node looks for dead nodes every second (the caller's choice: the lease holder). */
  get sweeping(): boolean {
    return this.#sweepTimer !== undefined;
  }

  set sweeping(on: boolean) {
    if (on === this.sweeping) return;
    if (!on) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
      return;
    }
    if (!this.#running) return;
    this.#sweepTimer = setInterval(() => void this.sweep(), this.#timing.sweepMs).unref();
  }

  /** The nodes beating within the bound at the last read (this one included), a stopped one in its grace too. */
  liveNodes(): string[] {
    return [...this.#live];
  }

  /** How many nodes are live (the `herald_cluster_nodes` gauge). */
  liveCount(): number {
    return this.#live.length;
  }

  /** What this node's record says: up, draining or stopped. */
  get state(): NodeState {
    return this.#state;
  }

  /** The record says `draining` (from the next write on). */
  drain(): void {
    if (this.#state !== 'up') return;
    this.#state = 'draining';
    this.#writeRecord('');
  }

  /**
   * Looks for dead nodes once and removes them (the sweeper's timer calls it every second);
   * answers their ids. Errors are logged.
   */
  async sweep(): Promise<string[]> {
    if (this.#sweepRunning || !this.#running) return [];
    this.#sweepRunning = true;
    const dead: string[] = [];
    try {
      const [now, flat] = (await BEATS.run(this.#client, [nodesKey(this.#prefix)], [])) as [
        number,
        string[],
      ];
      const beats = this.#view(now, flat).filter(([id]) => id !== this.id);
      const records = await Promise.all(
        beats.map(([id]) =>
          this.#client.hmGet(nodeKey(this.#prefix, id), ['state', 'stopped', 'sites', 'token']),
        ),
      );
      const listeners = beats.length
        ? await this.#client.pubSubNumSub(beats.map(([id]) => aliveChannel(this.#prefix, id)))
        : {};
      // After this node's own Redis trouble, every node's beats may be late and its listener
      // gone for a while: nobody is judged until this node has been connected for a full bound.
      const settled =
        this.#linkOkSince !== undefined &&
        performance.now() - this.#linkOkSince >= this.#timing.deadAfterMs;
      for (const [i, [id, score]] of beats.entries()) {
        const [state, stopped, sites, token] = records[i] as (string | null)[];
        const sinceBeat = now - Number(score);
        let reason: string | undefined;
        if (state === 'stopped' && Number.isFinite(Number(stopped))) {
          this.#silent.delete(id);
          if (now >= Number(stopped) + this.#timing.graceMs) reason = 'stopped, its grace over';
        } else {
          const quiet = Number(listeners[aliveChannel(this.#prefix, id)] ?? 0) === 0;
          const count = quiet ? (this.#silent.get(id) ?? 0) + 1 : 0;
          if (count) this.#silent.set(id, count);
          else this.#silent.delete(id);
          if (sinceBeat > this.#timing.deadAfterMs) reason = 'no heartbeat';
          // Twice in a row: a listener reconnecting is back within a sweep.
          else if (count >= 2) reason = 'its process is gone (nobody listens on its alive channel)';
        }
        if (!reason || !settled) continue;
        if (
          await this.#bury(id, score, token ?? '', parseSites(sites ?? ''), { reason, sinceBeat })
        )
          dead.push(id);
      }
      for (const [id, sites] of this.#toReap) {
        if (!dead.includes(id)) await this.#reapViewers(id, sites, { reason: 'removed earlier' });
      }
      this.stats.sweeps += 1;
      this.#linkUp();
    } catch (error) {
      this.stats.sweepFailures += 1;
      this.#linkDown(error, 'the sweep for dead nodes failed');
    } finally {
      this.#sweepRunning = false;
    }
    return dead;
  }

  /**
   * SIGTERM: no more heartbeats or sweeps, the presence held, the record `stopped`: the others
   * keep this node's viewers listed for the grace (10 s), then remove them as a dead node's.
   */
  async stop(): Promise<void> {
    if (!this.#running || this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#presence?.hold();
    this.sweeping = false;
    clearInterval(this.#beatTimer);
    this.#beatTimer = undefined;
    try {
      await Promise.all([
        // Its beat set to the end of the grace, so that every node counts it live until then.
        BEAT.run(
          this.#client,
          [nodesKey(this.#prefix)],
          [this.id, String(this.#timing.graceMs - this.#timing.deadAfterMs)],
        ),
        this.#recordScript('stopped'),
      ]);
    } catch (error) {
      this.#logger.warn(
        { err: errorText(error) },
        'this node could not be marked stopped: the others will take it for dead (its viewers leave at once)',
      );
    }
  }

  /** Stops the timers and the alive channel (the others take the node for dead); leaves keys as they are. */
  async close(): Promise<void> {
    const running = this.#running;
    this.#running = false;
    this.sweeping = false;
    clearInterval(this.#beatTimer);
    this.#beatTimer = undefined;
    if (running) await this.#unsubscribe();
  }

  async #beat(first: boolean): Promise<void> {
    if (this.#beating || !this.#running || this.#state === 'stopped') return;
    this.#beating = true;
    try {
      const [[now, added, flat]] = (await Promise.all([
        BEAT.run(this.#client, [nodesKey(this.#prefix)], [this.id, '0']),
        this.#recordScript('beat'),
      ])) as [[number, number, string[]], unknown];
      this.#view(now, flat);
      if (added === 1 && !first) {
        this.#logger.warn(
          'this node was gone from the cluster (taken for dead, or Redis lost its data): it is back',
        );
        this.#rejoined = true;
      }
      // Until the presence has written its viewers again: a failed rewrite is tried at the next beat.
      const rejoined = this.#rejoined;
      const changes = (await this.#presence?.beat({ stale: this.#stale, rejoined })) ?? [];
      this.#rejoined = false;
      if (changes.length) this.#call(() => this.#onRejoin?.(changes));
      this.stats.beats += 1;
      this.#linkUp();
    } catch (error) {
      this.stats.beatFailures += 1;
      this.#linkDown(error, 'the heartbeat failed');
    } finally {
      this.#beating = false;
    }
  }

  /** Who beats within the bound and who not, from a read of the zset; answers the entries. */
  #view(now: number, flat: string[]): [string, string][] {
    const beats: [string, string][] = [];
    const live: string[] = [];
    const stale: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i]!;
      beats.push([id, flat[i + 1]!]);
      if (now - Number(flat[i + 1]) <= this.#timing.deadAfterMs) live.push(id);
      else if (id !== this.id) stale.push(id);
    }
    this.#live = live;
    this.#stale = stale;
    return beats;
  }

  /** Removes a dead node; false if it beat again since it was seen (it is not dead). */
  async #bury(
    id: string,
    score: string,
    token: string,
    sites: string[],
    details: { reason: string; sinceBeat: number },
  ): Promise<boolean> {
    if (!(await REMOVE.run(this.#client, [nodesKey(this.#prefix)], [id, score]))) return false;
    this.#silent.delete(id);
    this.stats.deaths += 1;
    this.#live = this.#live.filter((node) => node !== id);
    this.#stale = this.#stale.filter((node) => node !== id);
    this.#toReap.set(id, sites);
    await FORGET.run(this.#client, [nodeKey(this.#prefix, id)], [token]).catch(() => undefined);
    await this.#reapViewers(id, sites, details);
    return true;
  }

  /** A dead node's viewers removed and `onDead` told; kept for the next sweep if Redis fails. */
  async #reapViewers(id: string, sites: string[], details: Record<string, unknown>): Promise<void> {
    let affected: ViewersChange[] = [];
    if (this.#presence && sites.length) {
      try {
        affected = await this.#presence.reap(id, sites);
      } catch (error) {
        this.#toReap.set(id, sites);
        this.#logger.warn(
          { dead: id, err: errorText(error) },
          "a dead node's viewers could not be removed yet; the next sweep tries again",
        );
        return;
      }
    }
    this.#toReap.delete(id);
    this.#logger.warn(
      { dead: id, ...details, documents: affected.length },
      'a cluster node is dead: its viewers are removed',
    );
    this.#call(() => this.#onDead?.(id, affected));
  }

  /** The record's fields as field/value pairs. */
  #fields(): string[] {
    const fields: Record<string, string | number> = {
      host: this.#info.host,
      pid: this.#info.pid,
      port: this.#info.port,
      version: this.#info.version,
      started: this.#started,
      state: this.#state,
      sites: JSON.stringify([...(this.#presence?.sites() ?? [])]),
      token: this.#token,
      ...this.#extra?.(),
    };
    return Object.entries(fields).flatMap(([field, value]) => [field, String(value)]);
  }

  async #recordScript(timeField: '' | 'beat' | 'stopped'): Promise<void> {
    const written = await RECORD.run(
      this.#client,
      [nodeKey(this.#prefix, this.id)],
      [this.#token, String(this.#timing.recordTtlMs), timeField, ...this.#fields()],
    );
    if (written === 0 && !this.#lostId) {
      this.#lostId = true;
      this.#logger.error(
        'another process took this node id (this one was taken for dead): its record is left to that one; give each node its own --node-id',
      );
    }
  }

  /** The record written now, without waiting (a new site, a new state). */
  #writeRecord(timeField: '' | 'beat'): void {
    if (!this.#running) return;
    this.#recordScript(timeField).catch((error) =>
      this.#linkDown(error, "this node's record could not be written"),
    );
  }

  /**
   * The record's sites written now, as plain commands: sent before the presence's first write to
   * a new site on the same connection, Redis has them first (a script's first run may be resent).
   */
  #writeSites(): void {
    if (!this.#running) return;
    const key = nodeKey(this.#prefix, this.id);
    const sites = JSON.stringify([...(this.#presence?.sites() ?? [])]);
    Promise.all([
      this.#client.hSet(key, 'sites', sites),
      this.#client.pExpire(key, this.#timing.recordTtlMs),
    ]).catch((error) => this.#linkDown(error, "this node's record could not be written"));
  }

  async #unsubscribe(): Promise<void> {
    try {
      await this.#subscriber.unsubscribe(aliveChannel(this.#prefix, this.id), onAlive);
    } catch {
      // A closed connection has no subscription left.
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#logger.error({ err: errorText(error) }, 'a cluster callback threw');
    }
  }

  #linkUp(): void {
    if (this.#linkOkSince === undefined) this.#linkOkSince = performance.now();
    if (!this.#failing) return;
    this.#failing = false;
    this.#logger.info('the heartbeat reaches Redis again');
  }

  /** One warning per outage, then debug lines. */
  #linkDown(error: unknown, what: string): void {
    this.#linkOkSince = undefined;
    const err = errorText(error);
    if (this.#failing) this.#logger.debug({ err }, what);
    else this.#logger.warn({ err }, `${what}; retrying`);
    this.#failing = true;
  }
}

/** The alive channel carries no messages: listening is the point. */
function onAlive(): void {}

function parseSites(json: string): string[] {
  try {
    const sites: unknown = JSON.parse(json);
    return Array.isArray(sites) ? sites.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
