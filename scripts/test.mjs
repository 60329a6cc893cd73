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

/**
 * Tests that install and build whole copies of the repository (a fresh clone following the
 * README, the packed tarballs in an empty folder) take minutes: they run after the others, one at
 * a time, with a longer timeout (Node's --test-timeout bounds a whole file).
 */
const SLOW = ['readme-commands.test.ts', 'packages-install.test.ts'];
const isSlow = (file) => SLOW.some((name) => file.endsWith(name));

const concurrency = process.env.HERALD_TEST_CONCURRENCY ?? '2';

/** Runs a group of files in one test runner; resolves with its totals and exit code. */
function runGroup(group, { concurrency, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        `--test-concurrency=${concurrency}`,
        `--test-timeout=${timeoutMs}`,
        ...group,
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
      const failed = count('fail') + count('cancelled');
      resolve({ passed: count('pass'), failed, code: code ?? (signal ? 1 : 0) });
    });
  });
}

const groups = [
  [files.filter((file) => !isSlow(file)), { concurrency, timeoutMs: 180_000 }],
  [files.filter(isSlow), { concurrency: 1, timeoutMs: 1_200_000 }],
].filter(([group]) => group.length > 0);
let passed = 0;
let failed = 0;
let code = 0;
for (const [group, options] of groups) {
  const result = await runGroup(group, options);
  passed += result.passed;
  failed += result.failed;
  code ||= result.code;
}
const summary = `${passed} passed, ${failed} failed`;
writeFileSync(join(root, 'test-output.txt'), `${summary}\n`);
console.log(`\n${summary}`);
process.exit(code || (failed > 0 ? 1 : 0));
