import { benchOutcome, runBenchSteps } from './bench-steps.js';
import type { DoctorOptions } from './options.js';
import type { Report, StepResult } from './report.js';
import { backendStep } from './steps/backend.js';
import { clusterStep } from './steps/cluster.js';
import { connectStep } from './steps/connect.js';
import type { StepContext } from './steps/context.js';
import { dnsStep } from './steps/dns.js';
import { handshakeStep } from './steps/handshake.js';
import { identityStep } from './steps/identity.js';
import { pingStep } from './steps/ping.js';
import { redisStep } from './steps/redis.js';
import { type DoctorStep, StepFailure } from './steps/step.js';
import { tcpStep } from './steps/tcp.js';
import { tlsStep } from './steps/tls.js';
import { websocketStep } from './steps/websocket.js';

export type { DoctorOptions } from './options.js';

/** The realtime chain, link by link: each step needs the ones before it to have passed. */
const CHAIN: readonly DoctorStep[] = [
  dnsStep,
  tcpStep,
  tlsStep,
  handshakeStep,
  websocketStep,
  connectStep,
  pingStep,
  identityStep,
  backendStep,
  // Before redis: a cluster fault (no lease holder, say) is named, not just an undelivered msgprint.
  clusterStep,
  redisStep,
];

/** Runs the chain step by step; stops at the first broken link. Never throws. */
export async function runDoctor(options: DoctorOptions): Promise<Report> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const benchSteps = options.bench
    ? await runBenchSteps(options.bench, { timeoutMs, onStep: options.onStep })
    : [];
  if (options.url === undefined) {
    return { url: '', site: '', bench: options.bench, ...benchOutcome(benchSteps) };
  }
  let url: URL;
  try {
    url = new URL(options.url);
    if (!['http:', 'https:'].includes(url.protocol)) throw new Error('not http(s)');
  } catch {
    const step: StepResult = {
      name: 'url',
      status: 'fail',
      detail: `"${options.url}" is not an http:// or https:// URL`,
      ms: 0,
      fix: 'pass --url https://your-site.example.com',
    };
    const outcome = benchOutcome([...benchSteps, step]);
    return { url: options.url, site: options.site ?? '', bench: options.bench, ...outcome };
  }
  const context: StepContext = {
    options,
    url,
    base: url.origin,
    site: options.site ?? url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    timeoutMs,
  };
  const report: Report = {
    url: context.base,
    site: context.site,
    bench: options.bench,
    ...benchOutcome(benchSteps),
  };
  try {
    for (const step of CHAIN) {
      if (!(await runStep(step, context, report))) break;
    }
  } finally {
    context.socket?.disconnect();
  }
  return report;
}

/** Runs one step, timed, into the report (a throw becomes a failed step); false when it failed. */
async function runStep(step: DoctorStep, context: StepContext, report: Report): Promise<boolean> {
  const { name } = step;
  const { onStep } = context.options;
  onStep?.(name);
  const started = Date.now();
  let result: StepResult;
  try {
    result = { name, ms: 0, ...(await step.run(context)) };
  } catch (error) {
    result =
      error instanceof StepFailure
        ? { name, ms: 0, status: 'fail', detail: error.detail, cause: error.cause2, fix: error.fix }
        : { name, ms: 0, status: 'fail', detail: (error as Error).message, fix: 'see the detail' };
  }
  result.ms = Date.now() - started;
  report.steps.push(result);
  onStep?.(name, result);
  if (result.status === 'fail') {
    report.ok = false;
    report.brokenAt ??= name;
    return false;
  }
  return true;
}
