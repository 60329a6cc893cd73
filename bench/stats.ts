// Statistics the results of both kinds of scenario use (results.ts, cluster/results.ts).

/** The middle of the values that were measured (the mean of the two middle ones for an even count; NaN for none). */
export const median = (values: readonly number[]) => {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
