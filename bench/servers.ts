// Starting the servers under test as child processes, and reading their CPU and memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEAP_PROBE = './bench/heap-probe.ts';
const TICK_SECONDS = 0.01; // Linux clock ticks (USER_HZ = 100)
/** BENCH_CPU_PROF=<dir>: the servers under test run with --cpu-prof and write their profiles there. */
const PROFILE_DIR = process.env.BENCH_CPU_PROF;

/** A running child process that printed a line matching `ready`. */
export interface Child {
  proc: ChildProcess;
  port: number;
  stop(): Promise<void>;
  /** Sends `signal` (a SIGKILL or SIGTERM the scenario means, not a stop) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Spawns `node <args>` (TypeScript through tsx) and waits for `ready` in its output. */
export function start(args: string[], ready: RegExp, port: number): Promise<Child> {
  const proc = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--expose-gc',
      ...(PROFILE_DIR && args[0] !== STUB ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      '--import',
      'tsx',
      '--import',
      HEAP_PROBE,
      ...args,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, HERALD_LOG_LEVEL: 'info', HERALD_LOG_FORMAT: 'json' },
    },
  );
  let output = '';
  let stopping = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready after 30 s: ${args.join(' ')}\n${output}`)),
      30_000,
    );
    let started = false;
    const onData = (chunk: Buffer) => {
      // The last lines are kept, to show if it dies.
      output = (output + chunk).slice(-8000);
      if (started) return;
      const match = ready.exec(output);
      if (match) {
        started = true;
        clearTimeout(timer);
        resolve({
          proc,
          port: match[1] ? Number(match[1]) : port,
          stop: () =>
            new Promise((done) => {
              stopping = true;
              if (proc.exitCode !== null || proc.signalCode !== null) return done();
              proc.once('exit', () => done());
              if (!PROFILE_DIR) return proc.kill('SIGKILL');
              // A profiled server exits on its own (heap-probe.ts), so its profile is written.
              proc.kill('SIGUSR2');
              setTimeout(() => proc.kill('SIGKILL'), 15_000).unref();
            }),
          kill: (signal) =>
            new Promise((done) => {
              stopping = true;
              if (proc.exitCode !== null || proc.signalCode !== null) return done();
              proc.once('exit', () => done());
              proc.kill(signal);
            }),
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code, signal) => {
      if (!started) {
        reject(new Error(`exited with ${code ?? signal}: ${args.join(' ')}\n${output}`));
        return;
      }
      if (stopping) return;
      // A server that dies under load would leave the generator waiting for answers: stop here.
      process.stderr.write(
        `bench: ${args.join(' ')} exited during the run (${code ?? signal}); its last output:\n${output}\n`,
      );
      process.exit(1);
    });
  });
}

/** Heap in use by a child after a full garbage collection (see heap-probe.ts). */
export function liveHeapBytes(child: Child): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('no heap answer from the server in 10 s')),
      10_000,
    );
    child.proc.once('message', (answer) => {
      clearTimeout(timer);
      resolve((answer as { heapUsed: number }).heapUsed);
    });
    child.proc.send('heap');
  });
}

/**
 * CPU seconds (user + system) a child used so far, as it counts them itself (µs; see
 * heap-probe.ts). One question at a time per child.
 */
export function childCpuSeconds(child: Child): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('no CPU answer from the server in 10 s')),
      10_000,
    );
    const onMessage = (answer: unknown) => {
      const micros = (answer as { cpuMicros?: number }).cpuMicros;
      if (micros === undefined) return;
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      resolve(micros / 1e6);
    };
    child.proc.on('message', onMessage);
    child.proc.send('cpu');
  });
}

/** CPU seconds (user + system) a process used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS;
}

/** Resident memory of a process, in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

export const HERALD_CLI = 'packages/server/src/cli.ts';
export const BASELINE = 'bench/baseline/server.ts';
export const STUB = 'bench/backend-stub.ts';
export const FLOOR = 'bench/floor/server.ts';
