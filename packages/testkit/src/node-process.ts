import { type ChildProcess, spawn } from 'node:child_process';
import { waitFor } from './wait.js';

/** A Node process started from TypeScript sources, with its output collected. */
export interface NodeProcess {
  child: ChildProcess;
  output(): string;
  /** Waits until the output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/**
 * Runs `node <entry> <args>` as a separate process, TypeScript through tsx and the `source` export
 * condition (the workspace packages from their sources, as the tests run them), with `env` added to
 * this process's environment.
 */
export function runNode(
  entry: string,
  args: string[],
  env: Record<string, string> = {},
): NodeProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', entry, ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
