/**
 * A bench's systemd unit of the realtime server (`bench setup systemd` writes
 * `config/systemd/<bench>-node-socketio.service`): its `ExecStart=` and `Environment=` lines.
 */

import { splitWords } from './command-line.js';

/** The `ExecStart=` command of a unit and its line (from 0). */
export function systemdExecStart(text: string): { command: string; line: number } | undefined {
  const lines = text.split('\n');
  const line = lines.findIndex((raw) => /^\s*ExecStart\s*=/.test(raw));
  if (line === -1) return undefined;
  return { command: lines[line]!.replace(/^\s*ExecStart\s*=\s*/, '').trim(), line };
}

/** The variables of the unit's `Environment=` lines. */
export function systemdEnvironment(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const match = /^\s*Environment\s*=\s*(.*)$/.exec(raw);
    if (!match) continue;
    for (const word of splitWords(match[1]!)) {
      const [name, ...rest] = word.split('=');
      if (name && rest.length) env[name] = rest.join('=');
    }
  }
  return env;
}

/** The text with the `ExecStart=` replaced; unchanged when there is none. */
export function replaceSystemdExecStart(text: string, command: string): string {
  const found = systemdExecStart(text);
  if (!found) return text;
  const lines = text.split('\n');
  lines[found.line] = `ExecStart=${command}`;
  return lines.join('\n');
}
