// Herald against the upstream-style baseline, scenario by scenario, side by side in one run.
//   node --conditions=source --import tsx bench/run.ts [--smoke | --full] [--cluster] [--repeat N] [--threads N] [--only connect,subscribe,...]
// (npm run bench -- --help lists the options.) Each scenario is a module of bench/scenarios/; they
// record into one Results, which report.ts prints and writes to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRedis } from '@herald/testkit';
import { createClient } from 'redis';
import { closeSharedNodes } from './cluster/nodes.js';
import { Bench } from './harness.js';
import { type Options, parseOptions, USAGE } from './options.js';
import { renderJson, renderReport, renderSvg } from './report.js';
import { Results } from './results.js';
import { SCENARIOS } from './scenarios/index.js';

let options: Options;
try {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed.help) {
    console.log(USAGE);
    process.exit(0);
  }
  options = parsed;
} catch (error) {
  console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const redis = await startRedis();
const publisher = createClient({ url: redis.url });
await publisher.connect();
const generatorCpuStart = process.cpuUsage();
const results = new Results();
const bench = new Bench(options, redis, publisher, results);

try {
  for (const scenario of SCENARIOS)
    if (options.only.includes(scenario.name)) await scenario.run(bench);
} finally {
  await closeSharedNodes();
}

await publisher.quit();
await redis.stop();

const generatorCpu = process.cpuUsage(generatorCpuStart);
const run = {
  results,
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    mode: options.mode,
  },
  threads: options.threads,
  judged: options.judged,
  clusterJudged: options.clusterJudged,
  generatorCpuSeconds: (generatorCpu.user + generatorCpu.system) / 1e6,
};
console.log(renderReport(run));
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(`${ROOT}bench/results/latest.json`, renderJson(run));
if (results.rows.length > 0) {
  writeFileSync(`${ROOT}bench/results/latest.svg`, renderSvg(results.rows, run.judged));
  console.log('wrote bench/results/latest.json and bench/results/latest.svg');
} else {
  // The chart is of ratios to the baseline, which the cluster scenarios do not have.
  console.log('wrote bench/results/latest.json');
}
process.exit(0);
