#!/usr/bin/env node
// The `herald` command. npm links a package's bin when it installs it, before a clone has built
// anything, so this committed launcher is what gets linked: it runs the built CLI, or says how to
// build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    `herald: the command is not built yet (${fileURLToPath(cli)} is missing): run \`npm run build\` first, in the Herald folder\n`,
  );
  process.exit(1);
}
await import(cli.href);
