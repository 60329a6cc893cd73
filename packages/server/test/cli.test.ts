import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ConfigKey, configSchema, SETTINGS } from '@herald/server';
import {
  freePort,
  nextEvent,
  startRedis,
  startTestBackend,
  type TestBackend,
  type TestRedis,
  waitFor,
} from '@herald/testkit';
import { createClient } from 'redis';
import { runHerald } from './helpers/cli.js';
import { fixtureSites, SITE1 } from './helpers/fixtures.js';
import { clientSocket } from './helpers/stack.js';

const SCHEMA_KEYS = Object.keys(configSchema.shape) as ConfigKey[];
/** What a server started with nothing set uses. */
const DEFAULTS: Record<string, unknown> = configSchema.parse({});

/** A setting's default as --help and the README show it: the schema's value, then the note. */
function schemaDefault(key: ConfigKey): string {
  const value = DEFAULTS[key];
  const shown =
    value === undefined || (Array.isArray(value) && value.length === 0)
      ? 'none'
      : Array.isArray(value)
        ? value.join(' ')
        : String(value);
  const note = SETTINGS[key].defaultNote;
  return note ? `${shown} (${note})` : shown;
}

describe('the herald command', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend({ sites: fixtureSites() });
  });
  after(() => backend.close());

  test('--help lists the commands; serve --help lists every setting with its default', async () => {
    const top = runHerald(['--help']);
    assert.equal(await top.exited, 0);
    assert.match(top.output(), /serve/);
    const serve = runHerald(['serve', '--help']);
    assert.equal(await serve.exited, 0);
    const help = serve.output().replace(/\s+/g, ' ');
    assert.deepEqual(Object.keys(SETTINGS).sort(), SCHEMA_KEYS.slice().sort(), 'one setting a key');
    for (const key of SCHEMA_KEYS) {
      const setting = SETTINGS[key];
      assert.ok(help.includes(setting.flag.split(' ')[0]!), `${setting.flag} is listed`);
      assert.ok(
        help.includes(`default: ${schemaDefault(key).replace(/\s+/g, ' ')}`),
        `the default of ${setting.flag} is listed`,
      );
    }
  });

  test('the README documents every setting, with the default of the schema', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    // The configuration table: | flag | environment | bench key | default | meaning |
    const rows = new Map(
      readme
        .split('\n')
        .filter((line) => line.startsWith('| `--'))
        .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, '').trim()))
        .map((cells) => [cells[0]!, cells] as const),
    );
    for (const key of SCHEMA_KEYS) {
      const setting = SETTINGS[key];
      assert.ok(readme.includes(`\`${setting.flag}\``), `README lists ${setting.flag}`);
      for (const name of setting.env) assert.ok(readme.includes(name), `README names ${name}`);
      const row = rows.get(`\`${setting.flag}\``);
      assert.ok(row, `the configuration table has a row for ${setting.flag}`);
      // The cell as it reads once rendered: without the backticks of code spans.
      assert.equal(
        row[3]!.replaceAll('`', ''),
        schemaDefault(key),
        `the default of ${setting.flag}`,
      );
    }
    const flags = new Set(Object.values(SETTINGS).map((setting) => `\`${setting.flag}\``));
    for (const flag of rows.keys())
      assert.ok(flags.has(flag), `${flag} of the README is a setting`);
  });

  test('a bad setting stops the server with exit code 2 and says what is wrong', async () => {
    const proc = runHerald(['serve', '--port', 'nine']);
    assert.equal(await proc.exited, 2);
    assert.match(
      proc.output(),
      /port = "nine" \(from flag --port\): expected a whole number from 0 to 65535/,
    );
  });

  test('a port in use is a clear error with exit code 1', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, resolve));
    try {
      const proc = runHerald(['serve', '--port', String(port)]);
      assert.equal(await proc.exited, 1);
      assert.match(
        proc.output(),
        new RegExp(`cannot listen on port ${port}: port ${port} is in use`),
      );
    } finally {
      blocker.close();
    }
  });

  test('embedded defaults: the in-memory broker, said at start; SIGTERM closes sockets and exits 0', async () => {
    const port = await freePort();
    const proc = runHerald(['serve', '--port', String(port), '--backend', backend.url]);
    try {
      await proc.waitForOutput(/Herald listening on port/);
      assert.match(proc.output(), /in-memory broker/);
      const socket = clientSocket(`http://127.0.0.1:${port}`, port, {
        site: SITE1,
        sid: 'sid-alice',
      });
      const connected = nextEvent(socket, 'connect');
      socket.connect();
      await connected;
      const disconnected = nextEvent<[string]>(socket, 'disconnect');
      const started = Date.now();
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exited, 0);
      assert.ok(Date.now() - started < 10_000, 'stopped within 10 s');
      // A transport close, not a namespace disconnect: clients reconnect by themselves afterwards.
      assert.equal((await disconnected)[0], 'transport close');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  test('with Redis, SIGINT quits Redis too and exits 0', async () => {
    const redis: TestRedis = await startRedis();
    const port = await freePort();
    const proc = runHerald([
      'serve',
      '--port',
      String(port),
      '--redis',
      redis.url,
      '--backend',
      backend.url,
    ]);
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await proc.waitForOutput(/Redis connected/);
      await waitFor(
        async () => ((await admin.pubSubNumSub('events')) as Record<string, number>).events === 1,
        { what: 'Herald subscribed' },
      );
      proc.child.kill('SIGINT');
      assert.equal(await proc.exited, 0);
      await waitFor(
        async () => ((await admin.pubSubNumSub('events')) as Record<string, number>).events === 0,
        { what: 'the subscription gone' },
      );
    } finally {
      proc.child.kill('SIGKILL');
      await admin.quit();
      await redis.stop();
    }
  });

  test('--uds listens on a unix socket, replacing a stale one', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'herald-uds-')), 'herald.sock');
    const first = runHerald(['serve', '--uds', path]);
    await first.waitForOutput(/Herald listening on/);
    first.child.kill('SIGKILL'); // leaves the socket file behind
    await first.exited;
    assert.ok(existsSync(path), 'a stale socket file is left');
    const second = runHerald(['serve', '--uds', path]);
    try {
      await second.waitForOutput(/Herald listening on/);
      const status = await new Promise<number>((resolve, reject) => {
        get({ socketPath: path, path: '/socket.io/?EIO=4&transport=polling' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      assert.equal(status, 200);
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});
