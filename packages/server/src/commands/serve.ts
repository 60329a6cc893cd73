import { type Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import type { ConfigKey } from '../config/schema.js';
import { defaultText, SETTING_LIST } from '../config/settings.js';
import { HeraldError } from '../errors.js';
import { createLogger } from '../logger.js';
import { startHerald } from '../server.js';
import { removePidFile, writePidFile } from '../workers/pid-file.js';
import { runPrimary } from '../workers/primary.js';

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
    if (config.workers !== undefined) {
      await runPrimary(config, logger);
      return;
    }
    let herald: Awaited<ReturnType<typeof startHerald>>;
    try {
      herald = await startHerald(config, { logger });
      if (config.pidFile) writePidFile(config.pidFile);
    } catch (error) {
      const known = error instanceof HeraldError ? { code: error.code, hint: error.hint } : {};
      logger.fatal({ err: error, ...known }, (error as Error).message);
      process.exit(known.code === 'HERALD_CONFIG_INVALID' ? 2 : 1);
    }
    let stopping = false;
    const exit = () => {
      if (config.pidFile) removePidFile(config.pidFile);
      process.exit(0);
    };
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping: closing sockets and Redis');
      setTimeout(() => {
        logger.warn(
          `graceful stop took longer than ${config.shutdownTimeoutMs} ms; exiting anyway`,
        );
        exit();
      }, config.shutdownTimeoutMs).unref();
      herald.close().then(exit, (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        exit();
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // Node's default for SIGHUP is to exit: a `herald reload` meant for workers must not stop this.
    process.on('SIGHUP', () =>
      logger.warn(
        'SIGHUP: a reload replaces the worker processes of --workers; this server runs as one process and goes on unchanged (restart it to run a new version)',
      ),
    );
  });
}
