/**
 * The command lines a bench starts its realtime process with (a Procfile entry, supervisor's
 * `command=`, systemd's `ExecStart=`): split into words, told apart (upstream's socketio.js,
 * Herald, something else), and built for Herald.
 */

/** Splits a command line into words as a POSIX shell does (quotes, backslashes); no expansion. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A word as it must be written on a command line: quoted when it has spaces or shell characters. */
export function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** What a bench's socketio process runs. */
export type SocketioRunner =
  | { kind: 'upstream'; command: string }
  | {
      kind: 'herald';
      command: string;
      /** The flags after `serve`, by name without the dashes (`redis`, `bench`), last one wins. */
      flags: Record<string, string | true>;
      /** Variables set on the command line itself (`HERALD_REDIS=... herald serve`). */
      env: Record<string, string>;
    }
  | { kind: 'other'; command: string };

const HERALD_PROGRAM =
  /(^|\/)herald(\.js)?$|(^|\/)@herald\/server\/(bin\/herald|dist\/cli)\.js$|(^|\/)packages\/server\/(bin\/herald|dist\/cli)\.js$/;
const UPSTREAM_PROGRAM = /(^|\/)socketio\.js$/;

/** Tells what a socketio command line runs, and with which flags when it is Herald. */
export function readSocketioCommand(command: string): SocketioRunner {
  const words = splitWords(command);
  const env: Record<string, string> = {};
  let at = 0;
  if (words[at] === 'env') at++;
  while (at < words.length && /^[A-Za-z_]\w*=/.test(words[at]!)) {
    const [name, ...rest] = words[at]!.split('=');
    env[name!] = rest.join('=');
    at++;
  }
  const program = words.findIndex((word, i) => i >= at && HERALD_PROGRAM.test(word));
  const serve = program === -1 ? -1 : words.indexOf('serve', program + 1);
  if (serve !== -1) {
    const flags: Record<string, string | true> = {};
    const rest = words.slice(serve + 1);
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i]!;
      if (!word.startsWith('--')) continue;
      const [name, inline] = word.slice(2).split(/=(.*)/s);
      if (inline !== undefined) flags[name!] = inline;
      else if (i + 1 < rest.length && !rest[i + 1]!.startsWith('--')) flags[name!] = rest[++i]!;
      else flags[name!] = true;
    }
    return { kind: 'herald', command, flags, env };
  }
  if (words.slice(at).some((word) => UPSTREAM_PROGRAM.test(word))) {
    return { kind: 'upstream', command };
  }
  return { kind: 'other', command };
}

/** How to start this Herald: the Node binary and the `herald` launcher it runs. */
export interface HeraldProgram {
  node: string;
  bin: string;
}

/** The command line that runs Herald for a bench: `node herald.js serve --bench DIR ...`. */
export function heraldServeCommand(
  program: HeraldProgram,
  benchDir: string,
  extra: string[] = [],
): string {
  return [program.node, program.bin, 'serve', '--bench', benchDir, ...extra]
    .map(quoteWord)
    .join(' ');
}
