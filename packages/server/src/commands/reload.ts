import type { Command } from 'commander';
import { readPidFile } from '../workers/pid-file.js';

/** Runs `herald reload`: SIGHUP to the server named by the pid file; returns the exit code. */
export function runReload(
  options: { pidFile?: string | undefined },
  io: { out(text: string): void; err(text: string): void },
  env: Readonly<Record<string, string | undefined>> = process.env,
): number {
  const path = options.pidFile ?? (env.HERALD_PID_FILE || undefined);
  if (!path) {
    io.err(
      'herald reload: --pid-file is required: the file `herald serve --pid-file <path>` wrote (or set HERALD_PID_FILE)\n',
    );
    return 2;
  }
  const state = readPidFile(path);
  const start = `start Herald with herald serve --workers auto --cluster --redis <url> --pid-file ${path}`;
  switch (state.kind) {
    case 'missing':
      io.err(
        `herald reload: there is no pid file ${path}: is Herald running with --pid-file ${path}? (${start})\n`,
      );
      return 1;
    case 'unreadable':
      io.err(`herald reload: cannot read the pid file ${path}: ${state.reason}\n`);
      return 1;
    case 'garbled':
      io.err(
        `herald reload: the pid file ${path} does not hold a process id (it holds ${JSON.stringify(state.text)}): is it the file of --pid-file? (${start})\n`,
      );
      return 1;
    case 'stale':
      io.err(
        `herald reload: the pid file ${path} names process ${state.pid}, which is not running: the server stopped without removing it (a crash or SIGKILL); start it again (${start})\n`,
      );
      return 1;
  }
  try {
    process.kill(state.pid, 'SIGHUP');
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    io.err(
      err.code === 'EPERM'
        ? `herald reload: not allowed to signal process ${state.pid} (from ${path}): run herald reload as the user Herald runs as\n`
        : `herald reload: cannot signal process ${state.pid} (from ${path}): ${err.message}\n`,
    );
    return 1;
  }
  io.out(
    `sent SIGHUP to Herald (process ${state.pid}, from ${path}): with --workers it replaces its workers one at a time (its log says when the reload is done)\n`,
  );
  return 0;
}

/** Adds `herald reload`. */
export function registerReloadCommand(program: Command): void {
  program
    .command('reload')
    .description(
      'replace the workers of a running `herald serve --workers` one at a time (sends it SIGHUP)',
    )
    .option(
      '--pid-file <path>',
      'the pid file the server was started with (default: env HERALD_PID_FILE)',
    )
    .action((options: { pidFile?: string }) => {
      process.exit(
        runReload(options, {
          out: (text) => process.stdout.write(text),
          err: (text) => process.stderr.write(text),
        }),
      );
    });
}
