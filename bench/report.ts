// The report of a bench run: the table, the floor, how busy the generator and the servers were
// (printed), and the same as JSON and an SVG chart (written to bench/results/).
import { renderCluster } from './cluster/report.js';
import { clusterVerdict } from './cluster/results.js';
import { fmt, fmtRatio } from './format.js';
import { type Busy, median, type Results, type Row, ratio, type Target } from './results.js';

/** What a report is made of: the run's results and where and how it ran. */
export interface Run {
  results: Results;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; mode: string };
  threads: number;
  /** Whether the targets are judged (full runs only: the sizes they are defined on). */
  judged: boolean;
  /** Whether the cluster scenarios' targets are judged (quick and full runs). */
  clusterJudged: boolean;
  generatorCpuSeconds: number;
}

/** A row's ratio: the median of its repeats' ratios, or of its figures when it has no repeats. */
export const ratioOf = (row: Row) =>
  row.ratios.length > 0 ? median(row.ratios) : ratio(row.herald, row.baseline);
/** Herald's share of the floor (the median over the repeats), NaN when the floor did not run. */
export const floorShareOf = (row: Row) => (row.floor ? median(row.floor.heraldShare) : Number.NaN);

/** "lowest–highest" of several repeats' values; nothing for fewer than two measured. */
const spread = (values: readonly number[], suffix = '') => {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return s.length < 2 ? '' : `${fmt(s[0]!)}–${fmt(s[s.length - 1]!)}${suffix}`;
};

/** Whether a row met its target: only on judged runs, and only for rows with a target. */
export function verdict(row: Row, judged: boolean): '' | 'met' | 'MISSED' | 'not measured' {
  if (!judged || !row.target) return '';
  const value = row.target.of === 'floor' ? floorShareOf(row) : ratioOf(row);
  if (Number.isNaN(value)) return 'not measured';
  const met =
    row.target.better === 'higher' ? value >= row.target.ratio : value <= row.target.ratio;
  return met ? 'met' : 'MISSED';
}

const targetText = (row: Row) =>
  !row.target
    ? ''
    : `${row.target.better === 'higher' ? '≥' : '≤'} ${fmt(row.target.ratio)}${row.target.of === 'floor' ? ' of floor' : '×'}`;

/**
 * The results as a text table: Herald, baseline, Herald ÷ baseline (and its spread over the
 * repeats), Herald's share of the floor where the floor ran, the target and, on judged runs,
 * whether it was met.
 */
export function renderTable(rows: readonly Row[], judged: boolean): string {
  const repeated = rows.some((row) => row.ratios.length > 1);
  const floored = rows.some((row) => row.floor);
  const header = [
    'scenario',
    'metric',
    'herald',
    'baseline',
    'ratio',
    ...(repeated ? ['spread'] : []),
    ...(floored ? ['of floor'] : []),
    'target',
    '',
  ];
  const lines = rows.map((row) => [
    row.scenario,
    row.metric,
    fmt(row.herald),
    fmt(row.baseline),
    `${fmtRatio(ratioOf(row))}${Number.isNaN(ratioOf(row)) ? '' : '×'}`,
    ...(repeated ? [spread(row.ratios, '×')] : []),
    ...(floored ? [row.floor ? fmtRatio(floorShareOf(row)) : ''] : []),
    targetText(row),
    verdict(row, judged),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const note = judged
    ? 'targets: Herald ÷ the baseline (×), or Herald ÷ the floor in the same run (of floor).'
    : 'targets are judged on --full runs only (the sizes they are defined on): none is judged here.';
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line), '', note].join(
    '\n',
  );
}

/** The floor's figures beside the two servers: its ratio to the baseline, and Herald's share of it. */
export function renderFloor(rows: readonly Row[]): string {
  const floored = rows.filter((row) => row.floor);
  if (floored.length === 0) return '';
  const bracket = (values: readonly number[]) => {
    const s = spread(values);
    return s ? ` (${s})` : '';
  };
  return `floor (bench/floor/server.ts: \`ws\` alone, no Engine.IO, no Socket.IO, no checks, no rooms), same generator, same run:\n${floored
    .map((row) => {
      const floor = row.floor!;
      return `  ${row.scenario.padEnd(16)} ${fmt(floor.value)} ${row.metric}, ${fmtRatio(median(floor.ofBaseline))}× the baseline${bracket(floor.ofBaseline)}; Herald at ${fmtRatio(median(floor.heraldShare))} of the floor${bracket(floor.heraldShare)}`;
    })
    .join('\n')}`;
}

/** The load generator's CPU, and how busy it and each server were in each timed window. */
export function renderBusy(run: Run): string {
  const lines = Object.entries(run.results.busy).map(
    ([scenario, { generator, server }]) =>
      `  ${scenario.padEnd(16)} generator: herald ${generator.herald.toFixed(2)}, baseline ${generator.baseline.toFixed(2)}   server: herald ${server.herald.toFixed(2)}, baseline ${server.baseline.toFixed(2)}`,
  );
  const { threads, machine } = run;
  return (
    `load generator: ${threads} worker thread${threads === 1 ? '' : 's'}, ${run.generatorCpuSeconds.toFixed(1)} s of CPU over the run (${machine.cores} cores: ${machine.cpu}).` +
    (lines.length === 0
      ? ''
      : `\nwhile timed: busiest generator thread (share of its time spent working; 1.00 = saturated), and server CPU (share of one core):\n${lines.join('\n')}`)
  );
}

/** Everything printed at the end of a run. */
export function renderReport(run: Run): string {
  const { rows } = run.results;
  return [
    rows.length > 0 ? renderTable(rows, run.judged) : '',
    renderFloor(rows),
    renderCluster(run.results.cluster, run.clusterJudged),
    renderBusy(run),
  ]
    .filter((part) => part !== '')
    .join('\n\n');
}

/** The run as JSON (bench/results/latest.json); a figure not measured is null. */
export function renderJson(run: Run): string {
  const { rows, busy } = run.results;
  const each = (pick: (b: Busy) => Record<Target, number>) =>
    Object.fromEntries(Object.entries(busy).map(([scenario, b]) => [scenario, pick(b)]));
  return `${JSON.stringify(
    {
      machine: run.machine,
      threads: run.threads,
      judged: run.judged,
      results: rows.map((row) => ({ ...row, verdict: verdict(row, run.judged) || undefined })),
      references: rows
        .filter((row) => row.floor)
        .map((row) => ({
          scenario: row.scenario,
          metric: row.metric,
          floor: row.floor!.value,
          herald: row.herald,
          baseline: row.baseline,
          floorRatios: row.floor!.ofBaseline,
          heraldOfFloor: row.floor!.heraldShare,
        })),
      cluster: {
        judged: run.clusterJudged,
        results: run.results.cluster.rows.map((row) => ({
          ...row,
          verdict: clusterVerdict(row, run.clusterJudged) || undefined,
        })),
        notes: run.results.cluster.notes,
        busy: run.results.cluster.busy,
      },
      generatorCpuSeconds: run.generatorCpuSeconds,
      generatorBusy: each((b) => b.generator),
      serverBusy: each((b) => b.server),
    },
    null,
    2,
  )}\n`;
}

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A bar chart of the ratios to the baseline (log scale, bars from the baseline's 1×: right is
 * more, left is less), with the floor's bar beside Herald's where it ran. Coloured by verdict on
 * judged runs.
 */
export function renderSvg(rows: readonly Row[], judged: boolean): string {
  const left = 330;
  const decade = 100; // px per factor of 10
  const one = left + 2 * decade; // x of 1×; bars reach 0.01× on the left and 1000× on the right
  const width = one + 3 * decade + 190;
  const barHeight = 18;
  const colour = (row: Row) => {
    const v = verdict(row, judged);
    return v === 'MISSED' ? '#dc2626' : v === 'met' ? '#16a34a' : '#64748b';
  };
  let y = 52;
  const parts: string[] = [];
  const bar = (r: number, fill: string, label: string, text: string) => {
    parts.push(
      `<text x="${left - 8}" y="${y + 13}" text-anchor="end" font-size="12">${xml(label)}</text>`,
    );
    const log = Number.isNaN(r) ? 0 : Math.max(-2, Math.min(3, Math.log10(Math.max(r, 1e-9))));
    const w = Math.max(2, Math.abs(log) * decade);
    if (!Number.isNaN(r))
      parts.push(
        `<rect x="${log < 0 ? one - w : one}" y="${y}" width="${w}" height="${barHeight}" fill="${fill}"/>`,
      );
    parts.push(
      `<text x="${(log > 0 ? one + w : one) + 6}" y="${y + 13}" font-size="12">${xml(Number.isNaN(r) ? 'not measured' : text)}</text>`,
    );
    y += barHeight + 4;
  };
  for (const row of rows) {
    const r = ratioOf(row);
    bar(r, colour(row), `${row.scenario}: ${row.metric}`, `Herald ${fmtRatio(r)}×`);
    if (row.floor) {
      const f = median(row.floor.ofBaseline);
      bar(
        f,
        '#0284c7',
        'floor (ws alone), same run',
        `floor ${fmtRatio(f)}×; Herald at ${fmtRatio(floorShareOf(row))} of it`,
      );
    }
    y += 6;
  }
  const height = y + 10;
  const subtitle = judged
    ? 'green: target met, red: missed, grey: no target; blue: the floor'
    : 'targets are judged on --full runs only: none judged here (grey); blue: the floor';
  const ticks = [0.01, 0.1, 1, 10, 100, 1000]
    .map((t, i) => {
      const x = one + (i - 2) * decade;
      return `<line x1="${x}" y1="44" x2="${x}" y2="${height}" stroke="#cbd5e1" stroke-dasharray="${t === 1 ? '4' : '1 3'}"/>
<text x="${x}" y="${height}" font-size="10" text-anchor="middle" fill="#64748b">${t}×</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 6}" font-family="sans-serif">
<text x="10" y="18" font-size="14" font-weight="bold">Herald ÷ baseline, and the floor ÷ baseline (log scale, from the baseline at 1×)</text>
<text x="10" y="36" font-size="12">${xml(subtitle)}</text>
${ticks}
${parts.join('\n')}
</svg>
`;
}
