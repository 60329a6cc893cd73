/** A line-by-line unified diff of two texts, as `diff -u` prints it; empty when they are equal. */
export function unifiedDiff(
  before: string,
  after: string,
  names: { before: string; after: string },
  context = 3,
): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is at most 2 * context unchanged lines away.
    let end = i;
    let last = i;
    while (end < ops.length) {
      if (ops[end]!.kind !== ' ') last = end;
      else if (end - last > 2 * context) break;
      end++;
    }
    const from = Math.max(0, i - context);
    const to = Math.min(ops.length, last + context + 1);
    const slice = ops.slice(from, to);
    const first = slice[0]!;
    const oldCount = slice.filter((op) => op.kind !== '+').length;
    const newCount = slice.filter((op) => op.kind !== '-').length;
    const oldStart = oldCount === 0 ? first.oldLine : first.oldLine + 1;
    const newStart = newCount === 0 ? first.newLine : first.newLine + 1;
    hunks.push(
      `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`,
      ...slice.map((op) => `${op.kind}${op.text}`),
    );
    i = to;
  }
  return [`--- ${names.before}`, `+++ ${names.after}`, ...hunks].join('\n');
}

interface Op {
  kind: ' ' | '-' | '+';
  text: string;
  /** Lines of the old and new text before this one. */
  oldLine: number;
  newLine: number;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** The edit script of a longest common subsequence (bench files are small: quadratic is fine). */
function diffLines(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const lcs: number[][] = Array.from({ length: midA.length + 1 }, () =>
    new Array<number>(midB.length + 1).fill(0),
  );
  for (let x = midA.length - 1; x >= 0; x--) {
    for (let y = midB.length - 1; y >= 0; y--) {
      lcs[x]![y] =
        midA[x] === midB[y] ? lcs[x + 1]![y + 1]! + 1 : Math.max(lcs[x + 1]![y]!, lcs[x]![y + 1]!);
    }
  }
  const ops: Op[] = [];
  let oldLine = 0;
  let newLine = 0;
  const push = (kind: Op['kind'], text: string) => {
    ops.push({ kind, text, oldLine, newLine });
    if (kind !== '+') oldLine++;
    if (kind !== '-') newLine++;
  };
  for (let k = 0; k < start; k++) push(' ', a[k]!);
  let x = 0;
  let y = 0;
  while (x < midA.length || y < midB.length) {
    if (x < midA.length && y < midB.length && midA[x] === midB[y]) {
      push(' ', midA[x]!);
      x++;
      y++;
    } else if (y === midB.length || (x < midA.length && lcs[x + 1]![y]! >= lcs[x]![y + 1]!)) {
      // On a tie the removal comes first, as diff -u shows a changed line.
      push('-', midA[x]!);
      x++;
    } else {
      push('+', midB[y]!);
      y++;
    }
  }
  for (let k = endA; k < a.length; k++) push(' ', a[k]!);
  return ops;
}
