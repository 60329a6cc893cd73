/**
 * The packages install like any others: `npm run pack` makes the tarballs of @herald/protocol,
 * publisher, client, server (and the demo its --demo serves), and `npm install ./*.tgz` in an
 * empty folder gives a working `herald` command and importable, typed libraries, in Node and
 * through a bundler. Nothing is published: third-party dependencies come from the registry
 * configured on the machine.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '@herald/testkit';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const SHIPPED = {
  '@herald/protocol': 'packages/protocol',
  '@herald/publisher': 'packages/publisher',
  '@herald/client': 'packages/client',
  '@herald/demo-site': 'examples/demo-site',
  '@herald/server': 'packages/server',
};
const API_KEY = 'installed-copy-key-0123456789';
const LONG = { timeout: 600_000 };

let work: string;
let app: string;
let packs: string;
const servers: ChildProcess[] = [];

/** Runs a command in the installed folder; resolves with its output, rejects with it. */
async function inApp(file: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd: app,
      env: { ...process.env, ...env },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${e.message}\n${e.stdout}\n${e.stderr}`);
  }
}

/** Starts the installed `herald serve` on a free port; resolves with its URL. */
async function serve(
  args: string[],
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(join(app, 'node_modules/.bin/herald'), ['serve', ...args], {
    cwd: app,
    env: { ...process.env, HERALD_PORT: '0', HERALD_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(child);
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const port = await waitFor(() => /Herald listening on port (\d+)/.exec(text)?.[1], {
    timeoutMs: 30_000,
    what: `the installed herald to listen (output: ${text})`,
  });
  return { url: `http://127.0.0.1:${port}`, child, output: () => text };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'herald-install-'));
  packs = join(work, 'packs');
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  await run(process.execPath, [join(ROOT, 'scripts/pack.mjs'), packs], {
    cwd: ROOT,
    timeout: 300_000,
  });
  const tarballs = readdirSync(packs)
    .filter((file) => file.endsWith('.tgz'))
    .map((file) => join(packs, file));
  await inApp('npm', ['install', '--no-audit', '--no-fund', ...tarballs]);
}, LONG);

after(() => {
  for (const child of servers) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('the tarballs', () => {
  test('hold what each package needs and say what it is', async () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const [name, dir] of Object.entries(SHIPPED)) {
      const installed = join(app, 'node_modules', name);
      const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
      assert.equal(manifest.name, name);
      assert.ok(manifest.description?.length > 20, `${name} has a description`);
      assert.equal(manifest.license, 'MIT');
      assert.deepEqual(manifest.repository, { ...root.repository, directory: dir });
      assert.equal(manifest.engines?.node, root.engines.node, `${name} says which Node it needs`);
      assert.equal(manifest.type, 'module');
      assert.equal(manifest.private, undefined, `${name} is not private`);
      for (const file of ['README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
        assert.ok(existsSync(join(installed, file)), `${name} ships ${file}`);
      }
      assert.ok(!existsSync(join(installed, 'dist/.tsbuildinfo')), `${name} ships no build info`);
      assert.ok(!existsSync(join(installed, 'test')), `${name} ships no tests`);
      const readme = readFileSync(join(installed, 'README.md'), 'utf8');
      assert.match(
        readme,
        new RegExp(`^# ${name.replace('/', '\\/')}`),
        `${name}'s README is its own`,
      );
      // Every file the exports name is in the tarball.
      const targets = (value: unknown): string[] =>
        typeof value === 'string' ? [value] : Object.values(value as object).flatMap(targets);
      for (const path of targets(manifest.exports)) {
        assert.ok(existsSync(join(installed, path)), `${name} exports ${path}, which it ships`);
      }
    }
    assert.ok(existsSync(join(app, 'node_modules/@herald/client/dist/herald-client.min.js')));
  });

  test('the lockfile keeps no download addresses', () => {
    const lock = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
    // Workspaces are linked by path ("resolved": "packages/client"); nothing names a registry.
    assert.doesNotMatch(lock, /"resolved": "[a-z+]+:/);
  });
});

describe('the installed copy', () => {
  test('npx herald serve --help', async () => {
    const help = await inApp('npx', ['herald', 'serve', '--help']);
    assert.match(help, /Usage: herald serve \[options\]/);
    assert.match(help, /--bench <dir>/);
  });

  test(
    'herald serve --demo starts, answers /health/live, and Node code using @herald/client and @herald/publisher talks to it',
    LONG,
    async () => {
      const { url } = await serve([
        '--demo',
        '--api-key',
        API_KEY,
        '--demo-data',
        join(work, 'demo-data'),
      ]);
      const live = await fetch(`${url}/health/live`);
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'ok' });
      assert.equal(
        (await fetch(`${url}/assets/herald-client.min.js`)).status,
        200,
        'the demo pages get the client build',
      );
      writeFileSync(
        join(app, 'talk.mjs'),
        `import { createRealtime } from '@herald/client';
import { createPublisher } from '@herald/publisher';
const [url, apiKey] = process.argv.slice(2);
const login = await fetch(url + '/api/method/login', { method: 'POST', body: new URLSearchParams({ usr: 'alice@example.com', pwd: 'demo' }) });
const sid = /sid=([^;]+)/.exec(login.headers.get('set-cookie'))[1];
const realtime = createRealtime({ url, site: 'site1.localhost', headers: { cookie: 'sid=' + sid } });
const got = new Promise((resolve) => realtime.on('msgprint', resolve));
await new Promise((resolve) => realtime.status.subscribe((s) => s === 'connected' && resolve()));
const publisher = createPublisher({ site: 'site1.localhost', http: { url, apiKey } });
await publisher.publishToUser('alice@example.com', 'msgprint', { message: 'from the installed packages' });
console.log(JSON.stringify(await got));
realtime.close();
await publisher.close();
`,
      );
      const output = await inApp(process.execPath, ['talk.mjs', url, API_KEY]);
      assert.match(output, /"message":"from the installed packages"/);
    },
  );

  test('@herald/client bundles for the browser with esbuild', async () => {
    writeFileSync(
      join(app, 'page.js'),
      "import { createRealtime } from '@herald/client';\nwindow.rt = createRealtime({ url: location.origin, site: 'erp.example.com', withCredentials: true });\n",
    );
    const { build } = await import('esbuild');
    const result = await build({
      absWorkingDir: app,
      entryPoints: ['page.js'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    assert.deepEqual(result.errors, []);
    const code = result.outputFiles[0]!.text;
    assert.ok(code.length > 30_000, 'socket.io-client is bundled in');
    assert.doesNotMatch(code, /from "node:|require\("node:/, 'nothing of Node is left in');
  });

  for (const [resolution, module] of [
    ['node16', 'node16'],
    ['bundler', 'esnext'],
  ] as const) {
    test(
      `the types resolve under tsc --strict with moduleResolution ${resolution}`,
      LONG,
      async () => {
        writeFileSync(
          join(app, `types-${resolution}.mts`),
          `import { createRealtime, type Realtime, RealtimeError } from '@herald/client';
import { createPublisher, PublishError, type Publisher } from '@herald/publisher';
import { resolvePublish, type EventMessage } from '@herald/protocol';
import { startHerald, loadConfig, type Realtime as HandlerApi, type Config } from '@herald/server';
const realtime: Realtime = createRealtime({ url: 'http://127.0.0.1:9000', site: 'erp.example.com', token: 'key:secret' });
realtime.on('doc_update', (data) => data);
const publisher: Publisher = createPublisher({ site: 'erp.example.com', redis: 'redis://127.0.0.1:11311' });
const handlers = (api: HandlerApi) => api.on('ping_me', async (socket) => socket.user);
export { realtime, publisher, handlers, resolvePublish, startHerald, loadConfig, RealtimeError, PublishError };
export type { EventMessage, Config };
`,
        );
        writeFileSync(
          join(app, `tsconfig.${resolution}.json`),
          JSON.stringify({
            compilerOptions: {
              strict: true,
              noEmit: true,
              target: 'es2022',
              module,
              moduleResolution: resolution,
              lib: ['es2023', 'dom'],
              typeRoots: [join(ROOT, 'node_modules/@types')],
              types: ['node'],
            },
            files: [`types-${resolution}.mts`],
          }),
        );
        await inApp(process.execPath, [TSC, '-p', `tsconfig.${resolution}.json`]);
      },
    );
  }

  test('the browser client types need nothing of Node', async () => {
    writeFileSync(
      join(app, 'browser.ts'),
      "import { createRealtime } from '@herald/client';\nexport const rt = createRealtime({ url: location.origin, site: 'erp.example.com', withCredentials: true });\n",
    );
    writeFileSync(
      join(app, 'tsconfig.browser.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2022',
          module: 'esnext',
          moduleResolution: 'bundler',
          lib: ['es2023', 'dom'],
          types: [],
        },
        files: ['browser.ts'],
      }),
    );
    await inApp(process.execPath, [TSC, '-p', 'tsconfig.browser.json']);
  });

  test('--demo without @herald/demo-site installed stops with a clear message', async () => {
    rmSync(join(app, 'node_modules/@herald/demo-site'), { recursive: true });
    const child = spawn(join(app, 'node_modules/.bin/herald'), ['serve', '--demo'], {
      cwd: app,
      env: { ...process.env, HERALD_PORT: '0', HERALD_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    servers.push(child);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 2, text);
    assert.match(
      text,
      /the demo site \(@herald\/demo-site\) is not installed beside @herald\/server/,
    );
    assert.match(text, /npm install \.\/herald-demo-site-\*\.tgz/);
  });
});
