import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** A real Redis Cluster of a test file's own: masters on free ports, no replicas, nothing on disk. */
export interface TestRedisCluster {
  readonly ports: number[];
  /** A redis:// URL per master (any of them reaches the whole cluster). */
  readonly urls: string[];
  stop(): Promise<void>;
}

/**
 * Starts `count` (at least 3) `redis-server --cluster-enabled yes` processes and joins them with
 * `redis-cli --cluster create`; resolves once every node says `cluster_state:ok`.
 */
export async function startRedisCluster(count = 3): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      );
      child.once('error', () => undefined);
      children.push(child);
    }
    const cli = (port: number, ...args: string[]) =>
      run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]).then((r) => r.stdout);
    for (const port of ports) {
      await waitFor(async () => (await cli(port, 'PING').catch(() => '')).includes('PONG'), {
        timeoutMs: 10_000,
        what: `redis-server (cluster) on port ${port}`,
      });
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await waitFor(
        async () =>
          (await cli(port, 'CLUSTER', 'INFO').catch(() => '')).includes('cluster_state:ok'),
        { timeoutMs: 20_000, what: `the Redis Cluster's state ok on port ${port}` },
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, urls: ports.map((port) => `redis://127.0.0.1:${port}`), stop };
}
