#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerServeCommand } from './commands/serve.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command()
  .name('herald')
  .description('Herald: a drop-in realtime server for Frappe-style web apps')
  .version(version);
registerServeCommand(program);

await program.parseAsync(process.argv);
