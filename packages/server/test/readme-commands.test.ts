/**
 * The READMEs can be followed from top to bottom on a fresh clone. Every command of their `sh`
 * blocks runs in a clone of this repository's HEAD, in the order written, with the README's own
 * placeholders filled in as a reader would (a bench folder, an install folder, the API key) and
 * the well-known ports (9000, 6379, 11311, 8000) moved to free ones so the test can run beside
 * others. The commands that start a server are started, asked /health/live and stopped at the
 * next one. The Node examples of packages/client/README.md run against the server started with
 * the flags that README names. A command added to a README without a line in PLAN below fails
 * this test, and so does a line of PLAN no README has any more.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  freePort,
  startRedis,
  startTestBackend,
  type TestBackend,
  type TestRedis,
  waitFor,
} from '@herald/testkit';
import { makeBench } from './helpers/bench-fixture.js';

const run = promisify(execFile);
/** The environment of a reader's terminal: not that of this test runner (a nested runner reads it). */
const { NODE_TEST_CONTEXT: _, ...TERMINAL } = process.env;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const READMES = ['README.md', 'packages/server/README.md', 'packages/client/README.md'];
const API_KEY = 'readme-commands-key-0123456789';
const TOKEN = 'token apikey:apisecret';
const SID = 'readme-session-id';

/** How each README command is run. */
type Step =
  /** Runs to the end; exit code 0 and, when given, output matching `expect`. */
  | { kind: 'run'; expect?: RegExp; where?: 'install' }
  /** Starts a server: waits for it to answer /health/live; it runs until the next server. */
  | { kind: 'serve'; where?: 'install'; example?: 'client-token' | 'client-cookie' }
  /** Not run here, and why. */
  | { kind: 'elsewhere'; why: string };

/** Every command of the READMEs, as written there (a trailing comment left out). */
const PLAN: Record<string, Step> = {
  // README.md: the top
  'npm ci && npm start': { kind: 'serve' },
  'npm ci && npm test': {
    kind: 'elsewhere',
    why: 'npm test is the suite this test is part of: .ci/run runs it',
  },
  // Running it
  'npm ci && npm run build': { kind: 'run' },
  'npx herald serve': { kind: 'serve' },
  'npx herald serve --redis redis://127.0.0.1:6379 --backend http://127.0.0.1:8000': {
    kind: 'serve',
  },
  'npx herald serve --help': { kind: 'run', expect: /Usage: herald serve \[options\]/ },
  // Running a cluster
  'npx herald serve --cluster --redis redis://127.0.0.1:6379 --node-id web1 --backend http://127.0.0.1:8000':
    { kind: 'serve' },
  // Several processes on one machine
  'npx herald serve --workers auto --cluster --redis redis://127.0.0.1:6379 --pid-file /tmp/herald.pid':
    { kind: 'serve' },
  'npx herald reload --pid-file /tmp/herald.pid': {
    kind: 'run',
    expect: /sent SIGHUP to Herald \(process \d+, from .*herald\.pid\)/,
  },
  // Installing it elsewhere
  'npm run pack': { kind: 'run', expect: /5 tarballs in / },
  'npm install --prefix /opt/herald ./packs/*.tgz': { kind: 'run' },
  '/opt/herald/node_modules/.bin/herald serve --help': { kind: 'run', expect: /--bench <dir>/ },
  // When realtime breaks
  'npx herald doctor --url https://erp.example.com --login alice@example.com --password ... --redis redis://127.0.0.1:11311 --admin-token ...':
    {
      kind: 'elsewhere',
      why: "a site of the reader's own; the doctor's network steps are tested in doctor.test.ts",
    },
  // With a Frappe bench
  'npx herald frappe setup --bench /home/frappe/frappe-bench': {
    kind: 'run',
    expect: /a dry run: nothing is written without --apply[\s\S]*^\+socketio: /m,
  },
  'npx herald frappe setup --bench /home/frappe/frappe-bench --apply': {
    kind: 'run',
    expect: /Wrote Procfile \(backup: config\/herald-backup\/Procfile\)/,
  },
  'npx herald doctor --bench /home/frappe/frappe-bench': { kind: 'run', expect: /All green/ },
  'npx herald frappe restore --bench /home/frappe/frappe-bench': {
    kind: 'run',
    expect: /Restored Procfile/,
  },
  // Publishing (the HTTP API needs a Herald started with --api-key: see API_SERVER)
  'curl -X POST http://127.0.0.1:9000/api/v1/publish -H \'Authorization: Bearer <key>\' -H \'Content-Type: application/json\' -d \'{"site": "erp.example.com", "event": "msgprint", "message": {"message": "Hello!"}, "user": "Administrator"}\'':
    { kind: 'run', expect: /\{"accepted":1\}/ },
  'npx herald publish --site erp.example.com --user Administrator --event msgprint --message \'{"message": "Hello!"}\' --redis redis://127.0.0.1:11311':
    { kind: 'run' },
  'npx herald publish --site erp.example.com --doctype ToDo --docname TD-0001 --event doc_update --http http://127.0.0.1:9000 --api-key <key>':
    { kind: 'run' },
  // Development
  'npm ci': { kind: 'run' },
  'npm run build': { kind: 'run' },
  'npm run lint': { kind: 'run' },
  'npm test': { kind: 'elsewhere', why: 'the suite this test is part of: .ci/run runs it' },
  'node scripts/test.mjs packages/server/test/viewers': {
    kind: 'run',
    expect: /^[1-9]\d* passed, 0 failed$/m,
  },
  // packages/server/README.md, in the folder the tarballs were installed into
  'npx herald serve --demo': { kind: 'serve', where: 'install' },
  'npx herald serve --bench /home/frappe/frappe-bench': { kind: 'serve', where: 'install' },
  // packages/client/README.md: the servers its Node examples need
  'npx herald serve --default-site erp.example.com --backend http://127.0.0.1:8000': {
    kind: 'serve',
    example: 'client-token',
  },
  'npx herald serve --default-site erp.example.com --backend http://127.0.0.1:8000 --allowed-origin https://erp.example.com':
    { kind: 'serve', example: 'client-cookie' },
};
/** What the README means by "start Herald with --api-key" before the HTTP publish examples. */
const API_SERVER = 'npx herald serve --api-key <key> --redis redis://127.0.0.1:11311';

interface Command {
  readme: string;
  text: string;
}

/** The command lines of a README's sh blocks: continuation lines joined, comments dropped. */
function commandsOf(readme: string): Command[] {
  const text = readFileSync(join(ROOT, readme), 'utf8');
  const commands: Command[] = [];
  for (const block of text.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const joined = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/\s+#\s.*$/, '').trim();
      if (line && !line.startsWith('#')) commands.push({ readme, text: line.replace(/\s+/g, ' ') });
    }
  }
  return commands;
}

let work: string;
let clone: string;
let install: string;
let bench: string;
let redis: TestRedis;
let backend: TestBackend;
let web: Server;
let current:
  | { command: string; child: ChildProcess; port: number; output: () => string }
  | undefined;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'herald-readme-'));
  clone = join(work, 'herald');
  install = join(work, 'opt-herald');
  // The layout of CI: the clone, and the spec (shared/) beside it.
  const shared = join(dirname(ROOT.replace(/\/$/, '')), 'shared');
  if (existsSync(shared)) symlinkSync(shared, join(work, 'shared'));
  await run('git', ['clone', '--quiet', ROOT, clone]);
  redis = await startRedis();
  backend = await startTestBackend({
    sites: {
      'erp.example.com': {
        tokens: { [TOKEN]: { user: 'bot@example.com', user_type: 'System User' } },
        sessions: { [SID]: { user: 'alice@example.com', user_type: 'System User' } },
      },
    },
  });
  // The bench's web server: answers /api/method/ping as Frappe does.
  web = createServer((_req, res) => res.end('{"message":"pong"}'));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  bench = makeBench({
    name: 'frappe-bench',
    sites: ['site1.local', 'site2.local'],
    socketioPort: await freePort(),
    webserverPort: (web.address() as AddressInfo).port,
    redisQueue: redis.url,
  });
});

after(async () => {
  await stopServer();
  await redis?.stop();
  await backend?.close();
  await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The command as the reader runs it here: their folders, the key, free ports. */
function fillIn(command: string): string {
  const port = current?.port;
  return command
    .replaceAll('/home/frappe/frappe-bench', bench)
    .replaceAll('/opt/herald', install)
    .replaceAll('/tmp/herald.pid', join(work, 'herald.pid'))
    .replaceAll('/usr/bin/node', process.execPath)
    .replaceAll('<key>', API_KEY)
    .replaceAll('127.0.0.1:6379', `127.0.0.1:${redis.port}`)
    .replaceAll('127.0.0.1:11311', `127.0.0.1:${redis.port}`)
    .replaceAll('127.0.0.1:8000', `127.0.0.1:${backend.port}`)
    .replaceAll('127.0.0.1:9000', `127.0.0.1:${port ?? 9000}`);
}

async function stopServer(): Promise<void> {
  if (!current) return;
  const { child } = current;
  current = undefined;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

/** Starts a server command; by default on a free port (HERALD_PORT=0 in place of 9000). */
async function serve(
  command: string,
  cwd: string,
  env: Record<string, string> = { HERALD_PORT: '0' },
): Promise<void> {
  await stopServer();
  const child = spawn('bash', ['-c', fillIn(command)], {
    cwd,
    detached: true,
    env: {
      ...TERMINAL,
      ...env,
      HERALD_LOG_FORMAT: 'json',
      HERALD_DEMO_DATA: join(work, 'demo'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await Promise.race([
    waitFor(() => /Herald listening on port (\d+)/.exec(text)?.[1], {
      timeoutMs: 180_000,
      what: `${command} to listen`,
    }),
    exited.then(() => {
      throw new Error(`${command} exited before listening:\n${text}`);
    }),
  ]);
  current = { command, child, port: Number(port), output: () => text };
  const live = await fetch(`http://127.0.0.1:${port}/health/live`);
  assert.equal(live.status, 200, `${command}: /health/live`);
}

async function runToEnd(command: string, cwd: string, expect?: RegExp): Promise<void> {
  let output: string;
  try {
    const { stdout, stderr } = await run('bash', ['-c', fillIn(command)], {
      cwd,
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...TERMINAL, HERALD_LOG_FORMAT: 'json' },
    });
    output = stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    assert.fail(`${command} failed (exit ${e.code}):\n${e.stdout}\n${e.stderr}`);
  }
  if (expect) assert.match(output, expect, `${command}:\n${output}`);
}

/** The Node examples of packages/client/README.md, run against the server just started. */
async function clientExample(kind: 'client-token' | 'client-cookie'): Promise<void> {
  const readme = readFileSync(join(ROOT, 'packages/client/README.md'), 'utf8');
  const call =
    /^const realtime = (createRealtime\(\{ url: 'http:\/\/127\.0\.0\.1:9000'.*\}\));$/m.exec(
      readme,
    )?.[1];
  const headers = /^\/\/ or (headers: \{ cookie: 'sid=\.\.\.', origin: '[^']+' \})$/m.exec(
    readme,
  )?.[1];
  assert.ok(call && headers, "the client README's Node examples are where this test reads them");
  const expression =
    kind === 'client-token'
      ? call
      : call.replace(/token: '[^']*'/, headers.replace('sid=...', `sid=${SID}`));
  const script = `import { createRealtime } from '@herald/client';
const realtime = ${fillIn(expression)};
const status = await new Promise((resolve) => realtime.status.subscribe((s) => (s === 'connected' || s === 'offline') && resolve(s)));
console.log(status, realtime.lastError?.message ?? '');
realtime.close();
`;
  const file = join(clone, `readme-${kind}.mjs`);
  writeFileSync(file, script);
  const { stdout } = await run(process.execPath, [file], { cwd: clone, timeout: 30_000 });
  assert.match(stdout, /^connected/, `the example ${expression} connects:\n${stdout}`);
}

test('every command of the READMEs works as written, in order, on a fresh clone', {
  timeout: 1_500_000,
}, async (t) => {
  const commands = READMES.flatMap(commandsOf);
  const listed = new Set(commands.map((command) => command.text));
  for (const command of commands) {
    assert.ok(
      PLAN[command.text],
      `${command.readme} has a command this test does not know: ${command.text}`,
    );
  }
  for (const text of Object.keys(PLAN)) {
    assert.ok(listed.has(text), `no README has this command any more: ${text}`);
  }
  const done = new Set<string>();
  mkdirSync(install, { recursive: true });
  for (const command of commands) {
    const step = PLAN[command.text]!;
    const inInstall =
      command.readme === 'packages/server/README.md' ||
      ('where' in step && step.where === 'install');
    const cwd = inInstall ? install : clone;
    const parts = command.text.split(' && ');
    // A reader runs `npm ci` or the build again; here what already ran in this folder is not repeated.
    const todo = parts.filter((part) => !done.has(`${cwd} ${part}`)).join(' && ');
    await t.test(`${command.readme}: ${command.text}`, async (st) => {
      if (step.kind === 'elsewhere') return st.skip(step.why);
      if (step.kind === 'serve') {
        await serve(todo || command.text, cwd);
        if (step.example) await clientExample(step.example);
        return;
      }
      if (!todo) return st.skip('ran above, in the same folder');
      if (
        command.text.startsWith('curl ') ||
        command.text.includes('--http http://127.0.0.1:9000')
      ) {
        if (current?.command !== API_SERVER) await serve(API_SERVER, clone);
      }
      await runToEnd(todo, cwd, step.expect);
    });
    // What ran before a server started (npm ci && npm start) ran too.
    const ran = step.kind === 'run' ? parts : step.kind === 'serve' ? parts.slice(0, -1) : [];
    for (const part of ran) done.add(`${cwd} ${part}`);
  }
  await stopServer();
});

test("the manual lines of the README's Frappe bench section start Herald on the bench", {
  timeout: 300_000,
}, async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const procfile = /^socketio: (.+)$/m.exec(readme)?.[1];
  const supervisor = /^\[program:frappe-bench-node-socketio\]\ncommand=(.+)$/m.exec(readme)?.[1];
  assert.ok(procfile && supervisor, 'the README has the Procfile line and the supervisor program');
  // The install folder of the first test; its own install when this runs alone.
  if (!existsSync(join(install, 'node_modules/.bin/herald'))) {
    await runToEnd('npm ci && npm run build && npm run pack', clone);
    await runToEnd(`npm install --prefix ${install} ./packs/*.tgz`, clone);
  }
  const port = JSON.parse(
    readFileSync(join(bench, 'sites/common_site_config.json'), 'utf8'),
  ).socketio_port;
  for (const line of [procfile, supervisor]) {
    // As the Procfile and supervisor run it: in the bench, on the bench's socketio_port.
    await serve(line, bench, {});
    assert.equal(current!.port, port, `${line} listens on socketio_port`);
    await stopServer();
  }
});
