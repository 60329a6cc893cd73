// How figures are printed, in the single-server table and the cluster one.

/** A figure: "not measured" for NaN, whole above 100, two decimals above 1, else two significant digits. */
export const fmt = (n: number) =>
  Number.isNaN(n)
    ? 'not measured'
    : !Number.isFinite(n)
      ? n > 0
        ? '∞'
        : '−∞'
      : Math.abs(n) >= 100
        ? n.toFixed(0)
        : Math.abs(n) >= 1
          ? n.toFixed(2)
          : n.toPrecision(2);
/** A ratio: `fmt`, or a dash when either side was not measured. */
export const fmtRatio = (n: number) => (Number.isNaN(n) ? '—' : fmt(n));
