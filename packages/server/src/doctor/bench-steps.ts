/**
 * `herald doctor --bench DIR`: the bench's files read offline, each fault that breaks the
 * realtime chain named with its fix, and one local probe (does a web server answer on
 * webserver_port). Unlike the network chain, every check runs: each fault is listed.
 */
import { request } from 'node:http';
import { HeraldError } from '../errors.js';
import { checkBench, webserverPortOf } from '../frappe/bench-checks.js';
import { type BenchFiles, readBackup, readBenchFiles } from '../frappe/bench-files.js';
import { heraldConfigOf } from '../frappe/herald-config.js';
import { type SocketioSlot, socketioSlots } from '../frappe/socketio-slots.js';
import type { Report, StepResult } from './report.js';

/** What the bench steps need. */
export interface BenchStepOptions {
  timeoutMs: number;
  onStep?: ((name: string, result?: StepResult) => void) | undefined;
}

type Result = Omit<StepResult, 'ms'>;

function swapSteps(bench: BenchFiles, slots: SocketioSlot[]): Result[] {
  const setup = `run herald frappe setup --bench ${bench.dir} --apply`;
  if (!slots.length) {
    return [
      {
        name: 'swap',
        status: 'fail',
        detail:
          'no socketio process found: neither Procfile nor config/supervisor.conf nor config/systemd starts a realtime server',
        fix: `bench setup procfile (and bench setup supervisor in production), then ${setup}`,
      },
    ];
  }
  return slots.map((slot): Result => {
    if (slot.runner.kind === 'herald') {
      return { name: 'swap', status: 'ok', detail: `${slot.label} runs Herald` };
    }
    if (slot.runner.kind === 'other') {
      return {
        name: 'swap',
        status: 'warn',
        detail: `${slot.label} runs neither Herald nor upstream's socketio.js: ${slot.runner.command}`,
        fix: setup,
      };
    }
    const again = readBackup(bench, slot.file.rel) !== undefined;
    return {
      name: 'swap',
      status: 'fail',
      detail: again
        ? `${slot.label}: the bench runs upstream's socketio.js again (\`${slot.regenerate}\` rewrote ${slot.file.rel} from bench's template)`
        : `${slot.label}: the bench runs upstream's socketio.js (${slot.runner.command})`,
      fix: setup,
    };
  });
}

/** Where Herald's backchannel goes for this bench: --backend, webserver_host, else loopback. */
function backchannelTarget(bench: BenchFiles, slots: SocketioSlot[]): string {
  for (const slot of slots) {
    const loaded = slot.runner.kind === 'herald' ? heraldConfigOf(slot) : undefined;
    if (loaded?.ok && loaded.config.backend) return loaded.config.backend;
    if (loaded?.ok && loaded.config.webserverHost) {
      const host = loaded.config.webserverHost;
      const base = /^https?:\/\//.test(host) ? host : `http://${host}`;
      return new URL(base).port
        ? base
        : `${base}:${loaded.config.webserverPort ?? webserverPortOf(bench)}`;
    }
  }
  const host = bench.siteConfig.webserver_host;
  const base =
    typeof host === 'string'
      ? /^https?:\/\//.test(host)
        ? host
        : `http://${host}`
      : 'http://127.0.0.1';
  return `${base}:${webserverPortOf(bench)}`;
}

function probe(url: string, timeoutMs: number): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const target = new URL('/api/method/ping', url);
    const req = request(target, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    );
    req.end();
  });
}

async function webserverProbe(
  bench: BenchFiles,
  slots: SocketioSlot[],
  timeoutMs: number,
): Promise<Result> {
  const target = backchannelTarget(bench, slots);
  const answer = await probe(target, timeoutMs);
  if (answer.status !== undefined) {
    return {
      name: 'webserver',
      status: 'ok',
      detail: `a web server answers at ${target} (HTTP ${answer.status} to /api/method/ping)`,
    };
  }
  return {
    name: 'webserver',
    status: 'fail',
    detail: `no web server answers at ${target} (${answer.error}), where Herald's backchannel asks who each socket is: every connection would be refused`,
    cause: `webserver_port is ${webserverPortOf(bench)} in sites/common_site_config.json`,
    fix: 'start the web server (bench start; in production sudo supervisorctl start all), or set webserver_port to the port it listens on: bench set-config -g webserver_port PORT',
  };
}

/** Runs every bench check; reports each through onStep as it ends. */
export async function runBenchSteps(dir: string, options: BenchStepOptions): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const report = (result: Result, started: number) => {
    const step = { ...result, ms: Date.now() - started };
    results.push(step);
    options.onStep?.(step.name, step);
  };
  let started = Date.now();
  options.onStep?.('bench');
  let bench: BenchFiles;
  try {
    bench = readBenchFiles(dir);
  } catch (error) {
    report(
      {
        name: 'bench',
        status: 'fail',
        detail: (error as Error).message,
        fix: error instanceof HeraldError ? error.hint : 'see the detail',
      },
      started,
    );
    return results;
  }
  const slots = socketioSlots(bench);
  for (const result of swapSteps(bench, slots)) report(result, started);
  for (const check of checkBench(bench, slots)) {
    started = Date.now();
    if (check.skipped) report({ name: check.name, status: 'skip', detail: check.skipped }, started);
    else if (check.findings.length) {
      for (const finding of check.findings) {
        report(
          {
            name: check.name,
            status: 'fail',
            detail: `${finding.file}: ${finding.problem}`,
            fix: finding.fix,
          },
          started,
        );
      }
    } else if (check.name === 'webserver') {
      options.onStep?.('webserver');
      report(await webserverProbe(bench, slots, options.timeoutMs), started);
    } else report({ name: check.name, status: 'ok', detail: check.passed }, started);
  }
  return results;
}

/** The outcome of the bench steps, for the report the network steps continue. */
export function benchOutcome(steps: StepResult[]): Pick<Report, 'steps' | 'ok' | 'brokenAt'> {
  const failed = steps.find((step) => step.status === 'fail');
  return { steps: [...steps], ok: !failed, ...(failed ? { brokenAt: failed.name } : {}) };
}
