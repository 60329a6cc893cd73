// What the cluster scenarios found: each figure for Herald without --cluster ("single") and with it
// ("cluster"), how the two compare (cluster ÷ single, or cluster − single for latencies), and the
// issue's targets, which are not all ratios (a p99 within 10 ms of single's, all clients of a
// killed node back within 10 s). Printed by cluster/report.ts beside the single-server table.
import { median } from '../stats.js';

/** How a row's two figures are compared. */
export type Comparison = 'ratio' | 'difference' | 'none';

/** What a row is judged against (on quick and full runs). */
export interface ClusterGoal {
  /** Judged on cluster ÷ single, on cluster − single, or on the cluster figure itself. */
  on: 'ratio' | 'difference' | 'value';
  better: 'lower' | 'higher';
  value: number;
  /** The target in words, for the target lines under the table. */
  text: string;
}

/** One figure of one cluster scenario. */
export interface ClusterRow {
  scenario: string;
  metric: string;
  /** Medians over the repeats; NaN where a side does not run (a killed node has no single). */
  single: number;
  cluster: number;
  compare: Comparison;
  /** Each repeat's comparison (cluster ÷ or − single; the cluster figure for `none`). */
  compared: number[];
  /** Each repeat's cluster figure. */
  clusterRuns: number[];
  target?: ClusterGoal | undefined;
}

/** One repeat of a figure: its value without and with --cluster. */
export interface Pair {
  single: number;
  cluster: number;
}

const compareOne = (compare: Comparison, { single, cluster }: Pair) =>
  compare === 'ratio'
    ? single === 0
      ? cluster === 0
        ? 1
        : Number.POSITIVE_INFINITY
      : cluster / single
    : compare === 'difference'
      ? cluster - single
      : cluster;

/** The value a row's target is judged on: the median over the repeats. */
export function judgedValue(row: ClusterRow): number {
  if (!row.target) return Number.NaN;
  return row.target.on === 'value' ? median(row.clusterRuns) : median(row.compared);
}

/** Whether a row met its target: only when judged, and only for rows with one. */
export function clusterVerdict(
  row: ClusterRow,
  judged: boolean,
): '' | 'met' | 'MISSED' | 'not measured' {
  if (!judged || !row.target) return '';
  const value = judgedValue(row);
  if (Number.isNaN(value)) return 'not measured';
  const met =
    row.target.better === 'higher' ? value >= row.target.value : value <= row.target.value;
  return met ? 'met' : 'MISSED';
}

/** The cluster scenarios' rows and notes, in the order recorded. */
export class ClusterResults {
  readonly rows: ClusterRow[] = [];
  /** Lines printed under the table: what each scenario saw besides its figures. */
  readonly notes: string[] = [];
  /** Per timed window: the generator's busiest thread, and the nodes' CPU (cores) without and with --cluster. */
  readonly busy: Record<string, { generator: Pair; server: Pair }> = {};

  /** Records one figure from the repeats' pairs (NaN on a side that did not run). */
  record(
    scenario: string,
    metric: string,
    runs: readonly Pair[],
    options: { compare?: Comparison; target?: ClusterGoal } = {},
  ): void {
    const compare = options.compare ?? 'none';
    this.rows.push({
      scenario,
      metric,
      single: median(runs.map((r) => r.single)),
      cluster: median(runs.map((r) => r.cluster)),
      compare,
      compared: runs.map((r) => compareOne(compare, r)),
      clusterRuns: runs.map((r) => r.cluster),
      target: options.target,
    });
  }

  note(line: string): void {
    if (!this.notes.includes(line)) this.notes.push(line);
  }

  noteBusy(scenario: string, side: keyof Pair, generator: number, server: number): void {
    this.busy[scenario] ??= {
      generator: { single: Number.NaN, cluster: Number.NaN },
      server: { single: Number.NaN, cluster: Number.NaN },
    };
    this.busy[scenario].generator[side] = generator;
    this.busy[scenario].server[side] = server;
  }
}
