import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/**
 * A Lua script run by its SHA-1 (EVALSHA), sent whole (EVAL, which also caches it) only when
 * Redis does not know it yet: after a restart, or the first time.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script with its keys and arguments; Redis's reply as it comes. */
  async run(client: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(this.sha, { keys, arguments: args });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, { keys, arguments: args });
    }
  }
}
