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
