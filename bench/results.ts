// What a bench run found: each scenario's figures for both servers (and the floor), and how busy
// the generator and the servers were. The scenarios fill it in; report.ts prints it.
import { ClusterResults } from './cluster/results.js';
import { median } from './stats.js';

export { median } from './stats.js';

export type Target = 'herald' | 'baseline';
/** The servers a scenario can run against: the two compared, and the floor (bench/floor). */
export type Subject = Target | 'floor';

/** A scenario's figures from one run against one server; NaN is a figure that was not measured. */
export type Figures = Record<string, number>;

/** A scenario's figures for both servers: the median of each over the repeats, and each repeat. */
export interface Paired<T extends Figures> extends Record<Target, T> {
  runs: Record<Target, T>[];
  /** The floor's figures of each repeat, when it ran too. */
  floors: T[];
}

/** What a row is judged against (on full runs): Herald ÷ the baseline, or Herald ÷ the floor. */
export interface Goal {
  /** Herald ÷ `of` must be at least (higher) or at most (lower) this. */
  ratio: number;
  better: 'higher' | 'lower';
  of: 'baseline' | 'floor';
}

/** One figure of one scenario, for Herald and the baseline (and the floor, when it ran). */
export interface Row {
  scenario: string;
  metric: string;
  herald: number;
  baseline: number;
  /** Herald ÷ baseline of each repeat of the scenario (`--repeat`). */
  ratios: number[];
  target?: Goal | undefined;
  /** The floor's figure (median), and in each repeat the floor ÷ the baseline and Herald ÷ the floor. */
  floor?: { value: number; ofBaseline: number[]; heraldShare: number[] } | undefined;
}

/** How busy the generator's busiest thread (1: saturated) and the server (share of one core) were. */
export interface Busy {
  generator: Record<Target, number>;
  server: Record<Target, number>;
}

/** A measured value: a finite number (NaN and the infinities are "not measured"). */
export const measured = (n: number) => Number.isFinite(n);

/** Herald ÷ baseline (1 when both are 0; NaN when either was not measured). */
export const ratio = (herald: number, baseline: number) =>
  Number.isNaN(herald) || Number.isNaN(baseline)
    ? Number.NaN
    : baseline === 0
      ? herald === 0
        ? 1
        : Number.POSITIVE_INFINITY
      : herald / baseline;

/** The median of each figure over several runs of a scenario. */
export function medianFigures<T extends Figures>(runs: readonly T[]): T {
  const keys = Object.keys(runs[0]!) as (keyof T & string)[];
  return Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]!))])) as T;
}

/** The results of one bench run, filled in scenario by scenario. */
export class Results {
  readonly rows: Row[] = [];
  /** Per timed window (scenario), how busy the generator and each server were. */
  readonly busy: Record<string, Busy> = {};
  /** The cluster scenarios' figures (Herald with --cluster against Herald without it). */
  readonly cluster = new ClusterResults();

  /**
   * Records one figure of a scenario: its medians and Herald ÷ baseline of each repeat; with
   * `floor`, the floor's figure too (the scenario ran against it).
   */
  record<T extends Figures>(
    scenario: string,
    metric: string,
    paired: Paired<T>,
    key: keyof T & string,
    options: { target?: Goal; floor?: boolean } = {},
  ): void {
    if (options.target?.of === 'floor' && !options.floor)
      throw new Error(`${scenario}: ${metric} is judged against the floor, which did not run`);
    const floors = options.floor ? paired.floors : [];
    this.rows.push({
      scenario,
      metric,
      herald: paired.herald[key]!,
      baseline: paired.baseline[key]!,
      ratios: paired.runs.map((run) => ratio(run.herald[key]!, run.baseline[key]!)),
      target: options.target,
      floor:
        floors.length > 0
          ? {
              value: median(floors.map((f) => f[key]!)),
              ofBaseline: floors.map((f, i) => ratio(f[key]!, paired.runs[i]!.baseline[key]!)),
              heraldShare: floors.map((f, i) => ratio(paired.runs[i]!.herald[key]!, f[key]!)),
            }
          : undefined,
    });
  }

  /** Records how busy the generator and one server were in a scenario's timed window. */
  noteBusy(scenario: string, target: Target, generator: number, server: number): void {
    this.busy[scenario] ??= {
      generator: { herald: 0, baseline: 0 },
      server: { herald: 0, baseline: 0 },
    };
    this.busy[scenario].generator[target] = generator;
    this.busy[scenario].server[target] = server;
  }
}
