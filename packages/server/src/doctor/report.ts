/** The outcome of one step of the doctor's checklist. */
export interface StepResult {
  name: string;
  status: 'ok' | 'fail' | 'warn' | 'skip';
  /** What was found, in a few words. */
  detail: string;
  ms: number;
  cause?: string;
  fix?: string;
}

/** The whole checklist. */
export interface Report {
  url: string;
  site: string;
  /** The bench whose files were checked (--bench), if any. */
  bench?: string | undefined;
  steps: StepResult[];
  ok: boolean;
  /** The first failed step, if any. */
  brokenAt?: string;
}

const MARK = { ok: '✔', fail: '✖', warn: '!', skip: '-' } as const;

/** One step as text lines. */
export function formatStep(step: StepResult): string {
  const lines = [
    `  ${MARK[step.status]} ${step.name.padEnd(10)} ${step.detail}${step.status === 'skip' ? '' : `  (${step.ms} ms)`}`,
  ];
  if (step.cause) lines.push(`      cause: ${step.cause}`);
  if (step.fix) lines.push(`      fix:   ${step.fix}`);
  return lines.join('\n');
}

/** The closing summary. */
export function formatSummary(report: Report): string {
  if (report.ok) {
    const warned = report.steps.filter((s) => s.status === 'warn').map((s) => s.name);
    return warned.length
      ? `All steps passed, with warnings: ${warned.join(', ')}.`
      : 'All green: the realtime chain works end to end.';
  }
  const failed = report.steps.filter((s) => s.status === 'fail');
  const broken = failed[0]!;
  const first = `"${broken.name}": ${broken.detail}${broken.fix ? `\nFix: ${broken.fix}` : ''}`;
  return failed.length === 1
    ? `Broken at ${first}`
    : `${failed.length} faults (${failed.map((s) => s.name).join(', ')}); each has its fix above. The first, ${first}`;
}

/** A spinner on a terminal while a step waits; nothing elsewhere. */
export function spinner(stream: NodeJS.WriteStream, label: string): () => void {
  if (!stream.isTTY) return () => undefined;
  const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
  let i = 0;
  const timer = setInterval(() => {
    stream.write(`\r  ${frames[i++ % frames.length]} ${label}…`);
  }, 80);
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[2K');
  };
}
