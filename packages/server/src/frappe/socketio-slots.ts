/**
 * Where a bench starts its realtime server: the `socketio:` process of the Procfile (`bench
 * start`), the `<bench>-node-socketio` program of supervisor.conf and the systemd unit
 * (production). Each one is read as what it runs, and can be rewritten to run another command.
 */
import { resolve } from 'node:path';
import type { BenchFile, BenchFiles } from './bench-files.js';
import { readSocketioCommand, type SocketioRunner } from './command-line.js';
import { procfileSocketio, replaceProcfileCommand } from './procfile.js';
import {
  replaceSupervisorCommand,
  supervisorEnvironment,
  supervisorSocketio,
} from './supervisor.js';
import { replaceSystemdExecStart, systemdEnvironment, systemdExecStart } from './systemd.js';

/** One place that starts the realtime server. */
export interface SocketioSlot {
  file: BenchFile;
  /** For messages: `the socketio process of Procfile`. */
  label: string;
  /** What `bench setup ...` regenerates this file with. */
  regenerate: string;
  runner: SocketioRunner;
  /** The variables the file gives the process (supervisor's environment=, systemd's Environment=). */
  env: Record<string, string>;
  /** The folder the process runs in. */
  cwd: string;
  /** The file's text with this process running `command` instead. */
  withCommand(command: string): string;
}

/** Every place of the bench that starts a realtime server, Procfile first. */
export function socketioSlots(bench: BenchFiles): SocketioSlot[] {
  const slots: SocketioSlot[] = [];
  const { procfile, supervisor, systemd } = bench;
  const entry = procfile && procfileSocketio(procfile.text);
  if (procfile && entry) {
    slots.push({
      file: procfile,
      label: 'the socketio process of Procfile',
      regenerate: 'bench setup procfile',
      runner: readSocketioCommand(entry.command),
      env: {},
      cwd: bench.dir,
      withCommand: (command) => replaceProcfileCommand(procfile.text, 'socketio', command),
    });
  }
  const program = supervisor && supervisorSocketio(supervisor.text, bench.name);
  if (supervisor && program?.values.command !== undefined) {
    slots.push({
      file: supervisor,
      label: `the ${program.name} program of config/supervisor.conf`,
      regenerate: 'bench setup supervisor',
      runner: readSocketioCommand(program.values.command),
      env: supervisorEnvironment(program.values.environment),
      cwd: resolve(bench.dir, program.values.directory ?? '.'),
      withCommand: (command) => replaceSupervisorCommand(supervisor.text, program.name, command),
    });
  }
  const exec = systemd && systemdExecStart(systemd.text);
  if (systemd && exec) {
    const directory = /^\s*WorkingDirectory\s*=\s*(.+)$/m.exec(systemd.text)?.[1]?.trim();
    slots.push({
      file: systemd,
      label: `the unit ${systemd.rel}`,
      regenerate: 'bench setup systemd',
      runner: readSocketioCommand(exec.command),
      env: systemdEnvironment(systemd.text),
      cwd: resolve(bench.dir, directory ?? '.'),
      withCommand: (command) => replaceSystemdExecStart(systemd.text, command),
    });
  }
  return slots;
}
