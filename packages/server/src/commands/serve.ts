import { type Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { defaultText, SETTING_LIST } from '../config/settings.js';
import { HeraldError } from '../errors.js';
import { createLogger } from '../logger.js';
import { startHerald } from '../server.js';

/** Adds `herald serve`: every setting as a flag, with its environment variables and default. */
export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('start the realtime server')
    .option(
      '--config <file>',
      'a JSON file of settings (keys as below, e.g. {"port": 9000, "backend": "..."})',
    )
    .addHelpText(
      'after',
      '\nPrecedence: flags > environment > --config file > Frappe bench files (--bench).\nWithout --redis, events come from the in-memory broker of this process.',
    );
  const keyOf = new Map<string, ConfigKey>();
  for (const setting of SETTING_LIST) {
    const option = new Option(
      setting.flag,
      `${setting.description} (default: ${defaultText(setting.key)}; env ${setting.env.join(', ')}${setting.bench ? `; bench ${setting.bench}` : ''})`,
    );
    keyOf.set(option.attributeName(), setting.key);
    serve.addOption(option);
  }
  serve.action(async (opts: Record<string, unknown>) => {
    const flags: Partial<Record<ConfigKey, unknown>> & { config?: string } = {
      config: opts.config as string | undefined,
    };
    for (const [name, value] of Object.entries(opts)) {
      const key = keyOf.get(name);
      if (key && value !== undefined) flags[key] = value;
    }
    let loaded: ReturnType<typeof loadConfig>;
    try {
      loaded = loadConfig({ flags, env: process.env });
    } catch (error) {
      if (error instanceof HeraldError) {
        process.stderr.write(`herald: ${error.message}\n`);
        process.exit(2);
      }
      throw error;
    }
    const { config } = loaded;
    const logger = createLogger(config);
    let herald: Awaited<ReturnType<typeof startHerald>>;
    try {
      herald = await startHerald(config, { logger });
    } catch (error) {
      const known = error instanceof HeraldError ? { code: error.code, hint: error.hint } : {};
      logger.fatal({ err: error, ...known }, (error as Error).message);
      process.exit(known.code === 'HERALD_CONFIG_INVALID' ? 2 : 1);
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping: closing sockets and Redis');
      setTimeout(() => {
        logger.warn(
          `graceful stop took longer than ${config.shutdownTimeoutMs} ms; exiting anyway`,
        );
        process.exit(0);
      }, config.shutdownTimeoutMs).unref();
      herald.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error while stopping');
          process.exit(0);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
