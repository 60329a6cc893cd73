/**
 * The settings a bench's Herald process runs with, worked out from its command line and the
 * variables its file gives it, the way `herald serve` itself loads them (flags > environment >
 * --config file > bench files).
 */
import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config, ConfigKey } from '../config/schema.js';
import { SETTING_LIST } from '../config/settings.js';
import type { SocketioSlot } from './socketio-slots.js';

const PATH_FLAGS = new Set(['bench', 'config', 'apiKeyFile', 'uds', 'demoData']);

/** The validated settings of the Herald that a slot starts, or why Herald would not start. */
export function heraldConfigOf(
  slot: SocketioSlot,
): { ok: true; config: Config } | { ok: false; error: string } {
  if (slot.runner.kind !== 'herald') return { ok: false, error: 'it does not run Herald' };
  const flags: Partial<Record<ConfigKey | 'config', unknown>> = {};
  for (const [name, value] of Object.entries(slot.runner.flags)) {
    const setting = SETTING_LIST.find((candidate) => candidate.flag.split(' ')[0] === `--${name}`);
    const key: ConfigKey | 'config' | undefined = name === 'config' ? 'config' : setting?.key;
    if (!key) continue;
    flags[key] =
      typeof value === 'string' && PATH_FLAGS.has(key) ? resolve(slot.cwd, value) : value;
  }
  try {
    const { config: file, ...settings } = flags;
    const { config } = loadConfig({
      flags: { ...settings, config: typeof file === 'string' ? file : undefined },
      env: { ...slot.env, ...slot.runner.env },
    });
    return { ok: true, config };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** Two Redis URLs name the same server and database (localhost is 127.0.0.1, 6379 the port). */
export function sameRedis(a: string, b: string): boolean {
  return normalizeRedis(a) === normalizeRedis(b);
}

function normalizeRedis(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'unix:') return `unix:${parsed.pathname}`;
    const host = parsed.hostname === 'localhost' ? '127.0.0.1' : parsed.hostname;
    const db = parsed.pathname.replace(/^\/+|\/+$/g, '') || '0';
    return `${parsed.protocol}//${host}:${parsed.port || '6379'}/${db}`;
  } catch {
    return url;
  }
}
