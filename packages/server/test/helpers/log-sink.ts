import { Writable } from 'node:stream';
import type { Logger } from '@herald/server';
import { pino } from 'pino';

/** One parsed log line (pino JSON). */
export type LogLine = { level: number; msg: string } & Record<string, unknown>;

/** A pino logger at info level whose lines, parsed, a test reads from `lines`. */
export function logSink(): { lines: LogLine[]; logger: Logger } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}
