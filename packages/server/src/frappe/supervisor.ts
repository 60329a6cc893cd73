/**
 * A bench's `config/supervisor.conf` (what `bench setup supervisor` writes): INI sections, the
 * `[program:<bench>-node-socketio]` one running the realtime server.
 */

/** One `[program:...]` section. */
export interface SupervisorProgram {
  name: string;
  /** The `key=value` lines of the section, by key. */
  values: Record<string, string>;
  /** The line of each key, from 0. */
  lines: Record<string, number>;
}

/** Every `[program:NAME]` section, in order. */
export function supervisorPrograms(text: string): SupervisorProgram[] {
  const programs: SupervisorProgram[] = [];
  let current: SupervisorProgram | undefined;
  text.split('\n').forEach((raw, line) => {
    const trimmed = raw.trim();
    const section = /^\[([^\]]+)\]/.exec(trimmed);
    if (section) {
      const name = /^program:(.+)$/.exec(section[1]!.trim())?.[1]?.trim();
      current = name ? { name, values: {}, lines: {} } : undefined;
      if (current) programs.push(current);
      return;
    }
    if (!current || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(trimmed);
    if (pair) {
      current.values[pair[1]!] = pair[2]!;
      current.lines[pair[1]!] = line;
    }
  });
  return programs;
}

/** The realtime program: `<bench>-node-socketio` (bench's name), else any `*-node-socketio`. */
export function supervisorSocketio(text: string, benchName: string): SupervisorProgram | undefined {
  const programs = supervisorPrograms(text);
  return (
    programs.find((program) => program.name === `${benchName}-node-socketio`) ??
    programs.find((program) => program.name.endsWith('-node-socketio'))
  );
}

/** The variables of supervisor's `environment=A="x",B="y"` value. */
export function supervisorEnvironment(value: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of (value ?? '').matchAll(/([A-Za-z_]\w*)=("([^"]*)"|'([^']*)'|[^,]*)/g)) {
    env[match[1]!] = match[3] ?? match[4] ?? match[2]!.trim();
  }
  return env;
}

/** The text with the `command=` of program `name` replaced; unchanged when there is none. */
export function replaceSupervisorCommand(text: string, name: string, command: string): string {
  const program = supervisorPrograms(text).find((candidate) => candidate.name === name);
  const line = program?.lines.command;
  if (line === undefined) return text;
  const lines = text.split('\n');
  lines[line] = `command=${command}`;
  return lines.join('\n');
}
