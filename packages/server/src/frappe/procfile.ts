/** A bench's Procfile (what `bench start` runs through honcho): `name: command` lines. */

const ENTRY = /^([A-Za-z0-9_-]+):[ \t]*(.*)$/;

/** One process of a Procfile. */
export interface ProcfileEntry {
  name: string;
  command: string;
  /** Its line, from 0. */
  line: number;
}

/** The processes of a Procfile, in order. */
export function procfileEntries(text: string): ProcfileEntry[] {
  const entries: ProcfileEntry[] = [];
  text.split('\n').forEach((raw, line) => {
    const match = ENTRY.exec(raw.trimEnd());
    if (match) entries.push({ name: match[1]!, command: match[2]!.trim(), line });
  });
  return entries;
}

/** The `socketio:` process (upstream: `socketio: /usr/bin/node apps/frappe/socketio.js`). */
export function procfileSocketio(text: string): ProcfileEntry | undefined {
  return procfileEntries(text).find((entry) => entry.name === 'socketio');
}

/** The text with the command of process `name` replaced; unchanged when there is none. */
export function replaceProcfileCommand(text: string, name: string, command: string): string {
  const entry = procfileEntries(text).find((candidate) => candidate.name === name);
  if (!entry) return text;
  const lines = text.split('\n');
  lines[entry.line] = `${name}: ${command}`;
  return lines.join('\n');
}
