// The cluster scenarios' part of the report: a table in the single-server table's style (single,
// cluster, how they compare, the spread over the repeats, the target and its verdict), a line per
// target, what the scenarios noted, and how busy the generator and the nodes were.
import { fmt, fmtRatio } from '../format.js';
import { median } from '../stats.js';
import { type ClusterResults, type ClusterRow, clusterVerdict, judgedValue } from './results.js';

/** A figure: whole numbers (counts) as they are, the rest as the single-server table has them. */
const fmtFigure = (n: number) => (Number.isInteger(n) && Math.abs(n) < 1e6 ? String(n) : fmt(n));

/** A comparison: "1.04×" for a ratio, "+1.20" for a difference, nothing for none. */
function fmtCompared(row: ClusterRow, value: number): string {
  if (row.compare === 'none' || Number.isNaN(value)) return row.compare === 'none' ? '' : '—';
  if (row.compare === 'ratio') return `${fmtRatio(value)}×`;
  return `${value >= 0 ? '+' : '−'}${fmt(Math.abs(value))}`;
}

const spread = (row: ClusterRow) => {
  if (row.compare === 'none') return '';
  const s = row.compared.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return s.length < 2 ? '' : `${fmtCompared(row, s[0]!)}–${fmtCompared(row, s[s.length - 1]!)}`;
};

const targetText = (row: ClusterRow) => {
  const t = row.target;
  if (!t) return '';
  const sign = t.better === 'lower' ? '≤' : '≥';
  if (t.on === 'ratio') return `${sign} ${fmt(t.value)}×`;
  if (t.on === 'difference') return `${sign} +${fmt(t.value)}`;
  return `${sign} ${fmtFigure(t.value)}`;
};

/** The table of the cluster rows. */
export function renderClusterTable(results: ClusterResults, judged: boolean): string {
  const { rows } = results;
  const repeated = rows.some((row) => row.compared.length > 1);
  const header = [
    'scenario',
    'metric',
    'single',
    'cluster',
    'vs single',
    ...(repeated ? ['spread'] : []),
    'target',
    '',
  ];
  const lines = rows.map((row) => [
    row.scenario,
    row.metric,
    Number.isNaN(row.single) && row.compare === 'none' ? '' : fmtFigure(row.single),
    fmtFigure(row.cluster),
    fmtCompared(row, median(row.compared)),
    ...(repeated ? [spread(row)] : []),
    targetText(row),
    clusterVerdict(row, judged),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n');
}

/** One line per target: what it is, the value it is judged on, and the verdict. */
export function renderClusterTargets(results: ClusterResults, judged: boolean): string {
  const lines = results.rows
    .filter((row) => row.target)
    .map((row) => {
      const value = judgedValue(row);
      const shown =
        row.target!.on === 'value'
          ? fmtFigure(value)
          : row.target!.on === 'ratio'
            ? `cluster ÷ single = ${fmtCompared(row, value)}`
            : `cluster − single = ${fmtCompared(row, value)} ms`;
      const verdict = judged ? clusterVerdict(row, judged) : 'not judged (smoke sizes)';
      return `  ${row.scenario}, ${row.metric}: ${shown}; target ${row.target!.text}: ${verdict}`;
    });
  return lines.length === 0 ? '' : `cluster targets:\n${lines.join('\n')}`;
}

/** The cluster part of the report: table, targets, notes, and how busy things were. */
export function renderCluster(results: ClusterResults, judged: boolean): string {
  if (results.rows.length === 0) return '';
  const intro =
    'cluster scenarios: "single" is one Herald without --cluster, "cluster" Herald with --cluster on the bench\'s redis-server (the node count is in the metric; CPU is all nodes\' together); "vs single" is cluster ÷ single (×) or cluster − single (+ms).';
  const busy = Object.entries(results.busy).map(
    ([scenario, { generator, server }]) =>
      `  ${scenario.padEnd(24)} generator: single ${generator.single.toFixed(2)}, cluster ${generator.cluster.toFixed(2)}   servers: single ${server.single.toFixed(2)}, cluster ${server.cluster.toFixed(2)}`,
  );
  return [
    intro,
    renderClusterTable(results, judged),
    judged
      ? 'cluster targets are judged on quick and full runs (the cluster scenarios use the same sizes in both).'
      : 'cluster targets are judged on quick and full runs only: none is judged here.',
    renderClusterTargets(results, judged),
    results.notes.length > 0 ? `noted:\n${results.notes.map((n) => `  ${n}`).join('\n')}` : '',
    busy.length > 0
      ? `while timed (busiest generator thread; servers' CPU in cores, all nodes):\n${busy.join('\n')}`
      : '',
  ]
    .filter((part) => part !== '')
    .join('\n\n');
}
