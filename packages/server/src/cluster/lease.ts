import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';

/** The commands of the official client the lease uses (a RedisClient has them). */
export type LeaseRedis = Pick<RedisClient, 'eval' | 'evalSha'>;

/** A Lua script run by EVALSHA, loaded with EVAL when Redis does not have it (a restarted Redis). */
class Script {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: LeaseRedis, keys: string[], args: string[]): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await client.evalSha(this.#sha, options);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return await client.eval(this.#source, options);
    }
  }
}

/**
 * Takes the lease if nobody holds it: the epoch is incremented only then, so each holder's token
 * `<node>:<epoch>` is new while Redis keeps its data. The epoch key is a hash: `epoch` the
 * counter, `generation` a nonce set when the hash is missing, so a node sees a changed generation
 * when Redis lost its data (a restart without persistence, a flush) and the stream with it.
 * Returns [1 taken | 0 held by another, the holder's token, the generation, Redis's time in ms]
 * (TIME after the writes: Redis before 5 refuses writes after a non-deterministic command).
 * KEYS: lease, epoch. ARGV: node id, TTL in ms, a nonce.
 */
const ACQUIRE = new Script(`
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local generation = redis.call('HGET', KEYS[2], 'generation')
if not generation then
  generation = ARGV[3]
  redis.call('HSET', KEYS[2], 'generation', generation)
end
local holder = redis.call('GET', KEYS[1])
if holder then return {0, holder, generation, now()} end
local epoch = redis.call('HINCRBY', KEYS[2], 'epoch', 1)
local token = ARGV[1] .. ':' .. epoch
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return {1, token, generation, now()}
`);

/** Compare-and-PEXPIRE. KEYS: lease. ARGV: token, TTL in ms. 1: renewed, 0: not ours. */
const RENEW = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** Compare-and-DEL. KEYS: lease. ARGV: token. 1: deleted, 0: not ours. */
const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/**
 * XADD only while the lease holds the token: a holder paused past its lease (or cut off) that
 * writes late is refused by Redis itself. KEYS: stream, lease. ARGV: token, MAXLEN, fields...
 */
const FENCED_XADD = new Script(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return false end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
`);

/**
 * Several entries in one call, fenced once: the readers blocked on the stream wake once for all of
 * them (one XADD per call woke them per entry, and each node then wrote every socket once per
 * entry instead of once per burst). ARGV: token, maxlen, strings per entry, the entries' strings.
 */
const FENCED_XADD_MANY = new Script(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return false end
local n = tonumber(ARGV[3])
local ids = {}
for i = 4, #ARGV, n do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, i, i + n - 1))
end
return ids
`);

/** The outcome of one acquire attempt. */
export interface AcquireReply {
  acquired: boolean;
  /** The holder's token, ours when acquired. */
  token: string;
  /** The epoch key's generation: another than before means Redis lost its data. */
  generation: string;
  /** Redis's clock at the attempt, in ms. */
  redisTimeMs: number;
}

/** One attempt to take the lease (keys in one hash slot: they carry the same {tag}). */
export async function acquireLease(
  client: LeaseRedis,
  keys: { lease: string; epoch: string },
  nodeId: string,
  ttlMs: number,
): Promise<AcquireReply> {
  const nonce = randomBytes(9).toString('base64url');
  const reply = (await ACQUIRE.run(
    client,
    [keys.lease, keys.epoch],
    [nodeId, String(ttlMs), nonce],
  )) as [number, string, string, number];
  return {
    acquired: Number(reply[0]) === 1,
    token: String(reply[1]),
    generation: String(reply[2]),
    redisTimeMs: Number(reply[3]),
  };
}

/** Extends the lease by `ttlMs` if it still holds `token`; false when it does not. */
export async function renewLease(
  client: LeaseRedis,
  lease: string,
  token: string,
  ttlMs: number,
): Promise<boolean> {
  return Number(await RENEW.run(client, [lease], [token, String(ttlMs)])) === 1;
}

/** Deletes the lease if it still holds `token`; false when it did not. */
export async function releaseLease(
  client: LeaseRedis,
  lease: string,
  token: string,
): Promise<boolean> {
  return Number(await RELEASE.run(client, [lease], [token])) === 1;
}

/**
 * The fenced XADD: adds the entry (`MAXLEN ~ maxLen`, id `*`) only if the lease still holds
 * `token`. Resolves the entry id, or null when fenced out.
 */
export async function fencedXadd(
  client: LeaseRedis,
  keys: { stream: string; lease: string },
  token: string,
  fields: Record<string, string> | string[],
  maxLen: number,
): Promise<string | null> {
  const flat = Array.isArray(fields) ? fields : Object.entries(fields).flat();
  if (flat.length === 0 || flat.length % 2 !== 0) {
    throw new RangeError(`a stream entry needs field-value pairs, got ${flat.length} strings`);
  }
  const reply = await FENCED_XADD.run(
    client,
    [keys.stream, keys.lease],
    [token, String(maxLen), ...flat],
  );
  return reply === null || reply === undefined ? null : String(reply);
}

/**
 * Adds entries, in order, only if the lease still holds `token` (one script call): their ids, or
 * null when fenced out (then none was added). Every entry has the same fields, in the same order.
 */
export async function fencedXaddMany(
  client: LeaseRedis,
  keys: { stream: string; lease: string },
  token: string,
  entries: Record<string, string>[],
  maxLen: number,
): Promise<string[] | null> {
  const flat = entries.map((entry) => Object.entries(entry).flat());
  const width = flat[0]?.length ?? 0;
  if (width === 0 || flat.some((strings) => strings.length !== width)) {
    throw new RangeError('entries written together need the same fields');
  }
  const reply = await FENCED_XADD_MANY.run(
    client,
    [keys.stream, keys.lease],
    [token, String(maxLen), String(width), ...flat.flat()],
  );
  return Array.isArray(reply) ? reply.map(String) : null;
}

/** The node id and epoch of a token `<node>:<epoch>` (a node id may itself contain colons). */
export function parseToken(token: string): { nodeId: string; epoch: number } {
  const colon = token.lastIndexOf(':');
  const epoch = Number(token.slice(colon + 1));
  return { nodeId: token.slice(0, colon), epoch: Number.isSafeInteger(epoch) ? epoch : 0 };
}
