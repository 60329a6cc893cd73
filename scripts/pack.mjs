#!/usr/bin/env node
// `npm run pack [-- DIR]`: the tarballs of every package a user installs (@herald/protocol,
// publisher, client, server and the demo the server's --demo serves), built first, written to DIR
// (default packs/). Install them together: npm install DIR/*.tgz
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspaces that ship, in dependency order. */
export const PACKAGES = [
  'packages/protocol',
  'packages/publisher',
  'packages/client',
  'examples/demo-site',
  'packages/server',
];

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'packs'));
mkdirSync(out, { recursive: true });
for (const file of readdirSync(out)) if (file.endsWith('.tgz')) rmSync(join(out, file));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(
  npm,
  [
    'pack',
    '--loglevel',
    'warn',
    '--pack-destination',
    out,
    ...PACKAGES.flatMap((dir) => ['-w', dir]),
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
);
if (result.status !== 0) process.exit(result.status ?? 1);
const tarballs = readdirSync(out)
  .filter((file) => file.endsWith('.tgz'))
  .sort();
console.log(`${tarballs.length} tarballs in ${out}:\n${tarballs.map((t) => `  ${t}`).join('\n')}`);
console.log(`Install them together, in any folder: npm install ${join(out, '*.tgz')}`);
