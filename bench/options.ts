// The bench's command line: which set of sizes, how many repeats and threads, which scenarios.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

/** The scenario names `--only` takes, in the order they run. */
export const SCENARIO_NAMES = ['connect', 'subscribe', 'churn', 'fanout', 'idle', 'slow'] as const;
/** The cluster scenarios (`--cluster`; in `--smoke` too), in the order they run after the others. */
export const CLUSTER_SCENARIO_NAMES = [
  'cluster-fanout',
  'cluster-viewers',
  'cluster-memory',
  'cluster-kill',
] as const;
export type ScenarioName =
  | (typeof SCENARIO_NAMES)[number]
  | (typeof CLUSTER_SCENARIO_NAMES)[number];
const ALL_NAMES: readonly string[] = [...SCENARIO_NAMES, ...CLUSTER_SCENARIO_NAMES];

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
  /** The cluster scenarios' sizes: the same in the quick and the full set (their targets are judged in both). */
  cluster: ClusterSizes;
}

/** How many sockets, events and entries the cluster scenarios use. */
export interface ClusterSizes {
  /** Sockets of the fan-out room (spread over the nodes), events of a burst, of the trickle. */
  fanout: number;
  burst: number;
  trickle: number;
  /** Events of the burst to the small room (of `smallRoom` sockets). */
  smallBurst: number;
  smallRoom: number;
  /** Viewer pairs (a watcher on one node, an opener on another), opened at 100 a second. */
  viewers: number;
  /** socket.io-client sockets of the node that is SIGKILLed, and their documents. */
  killClients: number;
  killDocs: number;
  /** Stream entries written, and sessions stored, for Redis memory. */
  entries: number;
  sessions: number;
}

const CLUSTER_SIZES: ClusterSizes = {
  fanout: 1000,
  burst: 100,
  trickle: 200,
  smallBurst: 1000,
  smallRoom: 10,
  viewers: 200,
  killClients: 1000,
  killDocs: 100,
  entries: 10_000,
  sessions: 1000,
};

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
    cluster: {
      fanout: 30,
      burst: 10,
      trickle: 10,
      smallBurst: 20,
      smallRoom: 6,
      viewers: 10,
      killClients: 30,
      killDocs: 6,
      entries: 200,
      sessions: 30,
    },
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
    cluster: CLUSTER_SIZES,
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
    cluster: CLUSTER_SIZES,
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
  /**
   * Whether the cluster scenarios' targets are judged: on quick and full runs (their sizes are the
   * same in both), not on smoke runs.
   */
  clusterJudged: boolean;
}

export const USAGE = `usage: npm run bench [-- options]
  (node --conditions=source --import tsx bench/run.ts [options])
  --smoke          tiny sizes, for CI (the figures mean nothing)
  --full           the sizes the targets are defined on (the recorded run; judged against them)
  --repeat N       run every scenario N times against each server, alternating (default 1)
  --threads N      load-generator worker threads (default: one fewer than the cores)
  --only A,B       run only these scenarios: ${SCENARIO_NAMES.join(', ')}
                   (connect covers the reconnect storm, fanout the steady trickle,
                   slow the slow readers), or cluster ones
  --cluster        run the cluster scenarios instead: Herald with --cluster (1 and 3 nodes
                   on the bench's redis-server) against Herald without it:
                   ${CLUSTER_SCENARIO_NAMES.join(', ')}
                   (cluster-fanout covers the cross-node trickle; --smoke runs them too, at
                   tiny sizes; their targets are judged on quick and full runs)
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
      cluster: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.smoke && values.full)
    throw new Error('--smoke and --full are two sets of sizes: give one of them, or neither');
  const mode: Mode = values.smoke ? 'smoke' : values.full ? 'full' : 'quick';
  // The default set: the cluster scenarios with --cluster, every scenario in a smoke run (CI keeps
  // them all from rotting), else the single-server ones.
  const allowed: readonly string[] = values.cluster ? CLUSTER_SCENARIO_NAMES : ALL_NAMES;
  const only =
    values.only !== undefined
      ? values.only.split(',')
      : values.cluster
        ? [...CLUSTER_SCENARIO_NAMES]
        : mode === 'smoke'
          ? [...ALL_NAMES]
          : [...SCENARIO_NAMES];
  for (const name of only)
    if (!allowed.includes(name))
      throw new Error(
        `--only takes scenario names separated by commas, from: ${allowed.join(', ')}${values.cluster ? ' (with --cluster)' : ''} (got "${name}")`,
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
    clusterJudged: mode !== 'smoke',
    help: values.help,
  };
}
