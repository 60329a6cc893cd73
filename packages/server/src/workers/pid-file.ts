import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

/** What a pid file holds: a running process, a process that is gone, or no process id at all. */
export type PidFileState =
  | { kind: 'running'; pid: number }
  | { kind: 'stale'; pid: number }
  | { kind: 'missing' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'garbled'; text: string };

/** Whether a process with this id runs (EPERM: it does, as another user). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a pid file and says what it names. */
export function readPidFile(path: string): PidFileState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    return err.code === 'ENOENT'
      ? { kind: 'missing' }
      : { kind: 'unreadable', reason: err.message };
  }
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed) || Number(trimmed) < 1) {
    return { kind: 'garbled', text: trimmed.slice(0, 40) };
  }
  const pid = Number(trimmed);
  return processRuns(pid) ? { kind: 'running', pid } : { kind: 'stale', pid };
}

/**
 * Writes this process's id to `path`. Refuses (throws, saying what to do) when the file names
 * another process that still runs: two servers on one pid file would reload each other's.
 */
export function writePidFile(path: string): void {
  const state = readPidFile(path);
  if (state.kind === 'running' && state.pid !== process.pid) {
    throw new Error(
      `the pid file ${path} names process ${state.pid}, which is running: is another Herald using it? Stop that server, or give this one another --pid-file`,
    );
  }
  try {
    writeFileSync(path, `${process.pid}\n`);
  } catch (error) {
    throw new Error(`cannot write the pid file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Removes the pid file if it still names this process (a later server may have taken it). */
export function removePidFile(path: string): void {
  const state = readPidFile(path);
  if ((state.kind === 'running' || state.kind === 'stale') && state.pid === process.pid) {
    try {
      unlinkSync(path);
    } catch {
      // Gone already, or its folder is not writable any more: nothing more to do at exit.
    }
  }
}
