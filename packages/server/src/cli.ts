#!/usr/bin/env node
import { Command } from 'commander';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerFrappeCommand } from './commands/frappe.js';
import { registerPublishCommand } from './commands/publish.js';
import { registerReloadCommand } from './commands/reload.js';
import { registerServeCommand } from './commands/serve.js';
import { VERSION } from './version.js';

const program = new Command()
  .name('herald')
  .description('Herald: a drop-in realtime server for Frappe-style web apps')
  .version(VERSION);
registerServeCommand(program);
registerDoctorCommand(program);
registerPublishCommand(program);
registerFrappeCommand(program);
registerReloadCommand(program);

await program.parseAsync(process.argv);
