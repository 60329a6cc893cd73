/** One figure of one scenario, for Herald and the baseline, with the target if any. */
export interface Row {
  scenario: string;
  metric: string;
  herald: number;
  baseline: number;
  /** Herald ÷ baseline of each repeat of the scenario (`--repeat`). */
  ratios?: number[] | undefined;
  /** Herald ÷ baseline must be at least (higher) or at most (lower) this. */
  target?: { ratio: number; better: 'higher' | 'lower' } | undefined;
}

const fmt = (n: number) =>
  Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(2);
/** Herald ÷ baseline (1 when both are 0). */
export const ratio = (herald: number, baseline: number) =>
  baseline === 0 ? (herald === 0 ? 1 : Number.POSITIVE_INFINITY) : herald / baseline;
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
/** The middle value (the mean of the two middle ones for an even count). */
export const median = (values: number[]) => {
  const s = sorted(values);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
/** A row's ratio: the median of its repeats' ratios, or of its figures when it has no repeats. */
const ratioOf = (row: Row) =>
  row.ratios && row.ratios.length > 0 ? median(row.ratios) : ratio(row.herald, row.baseline);
/** The lowest and highest ratio over the repeats, when there were several. */
const spreadOf = (row: Row) => {
  if (!row.ratios || row.ratios.length < 2) return '';
  const s = sorted(row.ratios);
  return `${fmt(s[0]!)}–${fmt(s[s.length - 1]!)}×`;
};
const met = (row: Row) =>
  !row.target
    ? ''
    : (
          row.target.better === 'higher'
            ? ratioOf(row) >= row.target.ratio
            : ratioOf(row) <= row.target.ratio
        )
      ? 'met'
      : 'MISSED';

/** The results as a text table: Herald, baseline, ratio, target. */
export function renderTable(rows: readonly Row[]): string {
  const repeated = rows.some((row) => (row.ratios?.length ?? 0) > 1);
  const header = [
    'scenario',
    'metric',
    'herald',
    'baseline',
    'ratio',
    ...(repeated ? ['spread'] : []),
    'target',
    '',
  ];
  const lines = rows.map((row) => [
    row.scenario,
    row.metric,
    fmt(row.herald),
    fmt(row.baseline),
    `${fmt(ratioOf(row))}×`,
    ...(repeated ? [spreadOf(row)] : []),
    row.target ? `${row.target.better === 'higher' ? '≥' : '≤'} ${fmt(row.target.ratio)}×` : '',
    met(row),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n');
}

/** A bar chart of the ratios (log scale), as SVG. */
export function renderSvg(rows: readonly Row[]): string {
  const width = 760;
  const barHeight = 22;
  const left = 330;
  const scale = (r: number) =>
    Math.max(2, Math.min(width - left - 60, 60 + Math.log10(Math.max(r, 1e-3)) * 120));
  const bars = rows.map((row, i) => {
    const r = ratioOf(row);
    const y = 30 + i * (barHeight + 8);
    const colour = met(row) === 'MISSED' ? '#dc2626' : met(row) === 'met' ? '#16a34a' : '#64748b';
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${row.scenario}: ${row.metric}</text>
<rect x="${left}" y="${y}" width="${scale(r)}" height="${barHeight}" fill="${colour}"/>
<text x="${left + scale(r) + 6}" y="${y + 15}" font-size="12">${fmt(r)}×</text>`;
  });
  const height = 40 + rows.length * (barHeight + 8);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="10" y="18" font-size="14" font-weight="bold">Herald ÷ baseline (green: target met, red: missed, grey: no target)</text>
<line x1="${left + 60}" y1="24" x2="${left + 60}" y2="${height}" stroke="#94a3b8" stroke-dasharray="3"/>
${bars.join('\n')}
</svg>
`;
}
