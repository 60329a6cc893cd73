import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from './config/schema.js';

/** The root logger: JSON lines, or pretty when asked for or when stdout is a terminal. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  const format = config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const options = { level: config.logLevel, base: { name: 'herald' } };
  if (format === 'pretty') {
    return pino(
      options,
      pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), ignore: 'pid,hostname,name' }),
    );
  }
  return pino(options);
}

/** A logger that writes nothing (embedding and tests). */
export const silentLogger = (): Logger => pino({ level: 'silent' });

export type { Logger };

/**
 * A child logger created only when something is logged through it: per-socket loggers are built
 * at every connect, yet most sockets never log a line.
 */
export function lazyChild(parent: Logger, bindings: () => Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy(parent, {
    get(target, property) {
      // Level checks need no child: answer them from the parent, which has the same level.
      if (property === 'isLevelEnabled' || property === 'level')
        return Reflect.get(target, property);
      child ??= target.child(bindings());
      const value = Reflect.get(child, property);
      return typeof value === 'function' ? value.bind(child) : value;
    },
  });
}
