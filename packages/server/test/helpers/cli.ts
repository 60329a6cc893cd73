import { HERALD_CLI } from '@herald/server/testing';
import { type NodeProcess, runNode } from '@herald/testkit';

/** A `herald` process started from the sources, with its output collected. */
export type HeraldProcess = NodeProcess;

/** Runs `herald <args>` as a separate process (JSON logs unless `env` says otherwise). */
export function runHerald(args: string[], env: Record<string, string> = {}): HeraldProcess {
  return runNode(HERALD_CLI, args, { HERALD_LOG_FORMAT: 'json', ...env });
}
