#!/usr/bin/env node
// Runs every test file of every package with Node's test runner (TypeScript through tsx, the
// `source` export condition so no build is needed) and ends with one line: "N passed, N failed".
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const roots = ['packages', 'examples'].map((dir) => join(root, dir));
const files = roots
  .flatMap((dir) => {
    try {
      return readdirSync(dir, { recursive: true }).map((file) => join(dir, String(file)));
    } catch {
      return [];
    }
  })
  .filter(
    (file) =>
      file.endsWith('.test.ts') &&
      !file.includes('node_modules') &&
      !file.includes(`${join('dist', '')}`),
  )
  .filter((file) => filters.length === 0 || filters.some((f) => relative(root, file).includes(f)))
  .sort();

if (files.length === 0) {
  console.error(`no test files found${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

const concurrency = process.env.HERALD_TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=180000',
    ...files,
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);

// The runner's totals ("ℹ pass 12"), the last of each kind seen.
const totals = {};
let pending = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const match = /^ℹ (pass|fail|cancelled) (\d+)\s*$/.exec(line);
    if (match) totals[match[1]] = Number(match[2]);
  }
});
child.on('exit', (code, signal) => {
  const count = (name) => totals[name] ?? 0;
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const summary = `${passed} passed, ${failed} failed`;
  writeFileSync(join(root, 'test-output.txt'), `${summary}\n`);
  console.log(`\n${summary}`);
  process.exit(code ?? ((signal ? 1 : 0) || (failed > 0 ? 1 : 0)));
});
