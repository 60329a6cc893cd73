// The bench's command line: which set of sizes, how many repeats and threads, which scenarios.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

/** The scenario names `--only` takes, in the order they run. */
export const SCENARIO_NAMES = ['connect', 'subscribe', 'churn', 'fanout', 'idle', 'slow'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** smoke: tiny sizes for CI (no figure means anything); quick: the default; full: the recorded run. */
export type Mode = 'smoke' | 'quick' | 'full';

/** How many sockets, events and operations each scenario uses in a set. */
export interface Sizes {
  /** Sockets of the connect and subscribe storms. */
  sockets: number;
  /** Sockets of the fan-out room. */
  fanout: number;
  /** Events of a fan-out burst. */
  burst: number;
  /** Events of the steady trickle. */
  trickle: number;
  /** open/close pairs of the presence churn. */
  churn: number;
  /** Connected sockets of the presence churn and the idle cost. */
  presence: number;
  /** Slow-reading sockets, and the events published to them back to back. */
  slowReaders: number;
  slowEvents: number;
}

const SIZES: Record<Mode, Sizes> = {
  smoke: {
    sockets: 20,
    fanout: 20,
    burst: 10,
    trickle: 5,
    churn: 40,
    presence: 20,
    slowReaders: 20,
    slowEvents: 10,
  },
  quick: {
    sockets: 1000,
    fanout: 1000,
    burst: 100,
    trickle: 200,
    churn: 2000,
    presence: 1000,
    slowReaders: 1000,
    slowEvents: 100,
  },
  full: {
    sockets: 2000,
    fanout: 1000,
    burst: 100,
    trickle: 200,
    churn: 2000,
    presence: 10000,
    slowReaders: 1000,
    slowEvents: 100,
  },
};
/** Timed runs of the short storms (connect, subscribe, churn), after a warm-up; the median counts. */
const ROUNDS: Record<Mode, number> = { smoke: 1, quick: 3, full: 5 };

export interface Options {
  mode: Mode;
  sizes: Sizes;
  rounds: number;
  /** Runs of every scenario against each server (alternating); the medians are reported. */
  repeat: number;
  /** The load generator's worker threads. */
  threads: number;
  only: ScenarioName[];
  /** Whether the targets are judged: on full runs only, the sizes they are defined on. */
  judged: boolean;
}

export const USAGE = `usage: npm run bench [-- options]
  (node --conditions=source --import tsx bench/run.ts [options])
  --smoke          tiny sizes, for CI (the figures mean nothing)
  --full           the sizes the targets are defined on (the recorded run; judged against them)
  --repeat N       run every scenario N times against each server, alternating (default 1)
  --threads N      load-generator worker threads (default: one fewer than the cores)
  --only A,B       run only these scenarios: ${SCENARIO_NAMES.join(', ')}
                   (connect covers the reconnect storm, fanout the steady trickle,
                   slow the slow readers)
  -h, --help       this text
environment: BENCH_CPU_PROF=<dir> runs the servers under --cpu-prof and writes their profiles there`;

/** A whole number of at least 1 from `--name`'s value, or a clear error. */
function count(name: string, value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} takes ${what}, at least 1 (got "${value}")`);
  return n;
}

/** The options of `argv` (without node and the script); throws an Error naming what is wrong. */
export function parseOptions(argv: string[]): Options & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      repeat: { type: 'string' },
      threads: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.smoke && values.full)
    throw new Error('--smoke and --full are two sets of sizes: give one of them, or neither');
  const mode: Mode = values.smoke ? 'smoke' : values.full ? 'full' : 'quick';
  const only = values.only === undefined ? [...SCENARIO_NAMES] : values.only.split(',');
  for (const name of only)
    if (!(SCENARIO_NAMES as readonly string[]).includes(name))
      throw new Error(
        `--only takes scenario names separated by commas, from: ${SCENARIO_NAMES.join(', ')} (got "${name}")`,
      );
  return {
    mode,
    sizes: SIZES[mode],
    rounds: ROUNDS[mode],
    repeat: count('repeat', values.repeat, 1, 'a whole number of runs of each scenario'),
    // One core is left to the server under test (and its backend stub).
    threads: count(
      'threads',
      values.threads,
      Math.max(1, cpus().length - 1),
      'a whole number of load-generator threads',
    ),
    only: only as ScenarioName[],
    judged: mode === 'full',
    help: values.help,
  };
}
