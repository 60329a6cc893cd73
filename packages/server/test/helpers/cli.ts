import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@herald/testkit';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** A `herald` process started from the sources, with its output collected. */
export interface HeraldProcess {
  child: ChildProcess;
  output(): string;
  /** Waits until the output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Runs `herald <args>` as a separate process. */
export function runHerald(args: string[], env: Record<string, string> = {}): HeraldProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    env: { ...process.env, HERALD_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => {
    text += d;
  });
  child.stderr!.on('data', (d) => {
    text += d;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => text,
    waitForOutput: (pattern, timeoutMs = 20_000) =>
      waitFor(() => pattern.test(text), { timeoutMs, what: `output matching ${pattern}` }).then(
        () => undefined,
      ),
    exited,
  };
}
