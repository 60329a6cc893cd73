// Herald for tests (`@herald/server/testing`): the settings tests start it with, in this process,
// and where its command is, for tests that run it as a process. Nothing here is used by Herald.
import { fileURLToPath } from 'node:url';
import { type Config, type ConfigInput, configSchema } from './config/schema.js';
import { type Logger, silentLogger } from './logger.js';
import { type Herald, startHerald } from './server.js';

/**
 * The `herald` command of this build: src/cli.ts when run from the sources (the `source` export
 * condition), dist/cli.js when built.
 */
export const HERALD_CLI = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './cli.ts' : './cli.js', import.meta.url),
);

/**
 * What tests start Herald with unless they say otherwise: a free port on the loopback, and no
 * identity or permission caching (most tests change the backend's answers as they go; the caches
 * are tested on their own).
 */
export const TEST_SETTINGS = {
  port: 0,
  host: '127.0.0.1',
  identityCacheTtlMs: 0,
  permissionCacheTtlMs: 0,
  denyCacheTtlMs: 0,
} as const satisfies ConfigInput;

/** The test settings with `input` over them, validated (throws on a bad setting, as Herald does). */
export function testConfig(input: ConfigInput = {}): Config {
  return configSchema.parse({ ...TEST_SETTINGS, ...input });
}

/** Starts Herald in this process with the test settings and `input` over them; silent by default. */
export function startTestHerald(
  input: ConfigInput = {},
  options: { logger?: Logger } = {},
): Promise<Herald> {
  return startHerald(testConfig(input), { logger: options.logger ?? silentLogger() });
}
