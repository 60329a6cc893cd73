import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, startRedis } from '@herald/testkit';
import { runDoctor } from '../src/doctor/run.js';
import { runHerald } from './helpers/cli.js';
import { SITE1 } from './helpers/fixtures.js';
import { startProxy } from './helpers/http-proxy.js';
import { type Stack, startStack } from './helpers/stack.js';

/** The realtime server's admin token, which the operator gives the doctor. */
const ADMIN_TOKEN = 'operator-token-0123456789';

/** Herald as a dev bench runs it: the site is the default site of 127.0.0.1. */
const devStack = (options: Parameters<typeof startStack>[0] = {}) =>
  startStack({
    ...options,
    config: { defaultSite: SITE1, adminToken: ADMIN_TOKEN, ...options.config },
  });

const stepOf = (report: Awaited<ReturnType<typeof runDoctor>>, name: string) =>
  report.steps.find((s) => s.name === name);

describe('herald doctor', () => {
  test('a healthy setup passes every step, and the command exits 0 with "All green"', async () => {
    const stack = await devStack({ redis: true });
    try {
      const report = await runDoctor({
        url: stack.herald.url,
        site: SITE1,
        sid: 'sid-alice',
        redis: stack.redis!.url,
      });
      assert.equal(report.ok, true, JSON.stringify(report.steps, null, 1));
      assert.deepEqual(
        report.steps.map((s) => [s.name, s.status]),
        [
          ['dns', 'ok'],
          ['tcp', 'ok'],
          ['tls', 'skip'],
          ['handshake', 'ok'],
          ['websocket', 'ok'],
          ['connect', 'ok'],
          ['ping', 'ok'],
          ['identity', 'ok'],
          ['backend', 'ok'],
          ['cluster', 'skip'],
          ['redis', 'ok'],
        ],
      );
      assert.match(
        stepOf(report, 'identity')!.detail,
        /^alice@example\.com \(System User\), rooms: .*user:alice@example\.com/,
      );
      assert.match(
        stepOf(report, 'redis')!.detail,
        /1 realtime server\(s\) listening; a msgprint to user:alice@example\.com arrived/,
      );
      // Herald names its backchannel URL only to the operator's doctor.
      assert.match(
        stepOf(report, 'backend')!.detail,
        /^the realtime server reaches the web server \(\d+ ms\); give --admin-token for its URL$/,
      );
      const operator = await runDoctor({
        url: stack.herald.url,
        site: SITE1,
        sid: 'sid-alice',
        adminToken: ADMIN_TOKEN,
      });
      assert.equal(
        stepOf(operator, 'backend')!.detail.replace(/\(\d+ ms\)/, '(N ms)'),
        `the realtime server reaches the web server at ${stack.backend.url} (N ms)`,
      );

      const cli = runHerald([
        'doctor',
        '--url',
        stack.herald.url,
        '--site',
        SITE1,
        '--sid',
        'sid-alice',
        '--redis',
        stack.redis!.url,
      ]);
      assert.equal(await cli.exited, 0, cli.output());
      assert.match(cli.output(), /All green/);
      const json = runHerald([
        'doctor',
        '--url',
        stack.herald.url,
        '--site',
        SITE1,
        '--sid',
        'sid-alice',
        '--json',
      ]);
      assert.equal(await json.exited, 0);
      assert.equal(JSON.parse(json.output()).ok, true);
    } finally {
      await stack.close();
    }
  });

  test('Redis down: named, with the fix, and a non-zero exit', async () => {
    const stack = await devStack({ redis: true });
    try {
      await stack.redis!.kill();
      const cli = runHerald([
        'doctor',
        '--url',
        stack.herald.url,
        '--site',
        SITE1,
        '--sid',
        'sid-alice',
        '--redis',
        stack.redis!.url,
        '--admin-token',
        ADMIN_TOKEN,
      ]);
      const code = await cli.exited;
      assert.notEqual(code, 0);
      // With Redis gone, Herald cannot read the socket secret: the connect step names it, and
      // the operator's doctor gets Redis's own words.
      assert.match(
        cli.output(),
        /the socket secret could not be read from Redis: cannot read socketio_auth_secret from Redis \(/,
      );
      assert.match(cli.output(), /fix: /);
    } finally {
      await stack.close();
    }
  });

  test('Herald not subscribed to events (NUMSUB 0)', async () => {
    const stack = await devStack();
    const redis = await startRedis();
    try {
      const report = await runDoctor({
        url: stack.herald.url,
        site: SITE1,
        sid: 'sid-alice',
        redis: redis.url,
      });
      assert.equal(report.brokenAt, 'redis');
      assert.match(stepOf(report, 'redis')!.detail, /no realtime server is subscribed to "events"/);
      assert.match(stepOf(report, 'redis')!.fix!, /--redis/);
    } finally {
      await stack.close();
      await redis.stop();
    }
  });

  test('wrong site in the URL: Invalid namespace, explained', async () => {
    const stack = await devStack();
    try {
      const report = await runDoctor({
        url: stack.herald.url,
        site: 'other.site',
        sid: 'sid-alice',
      });
      assert.equal(report.brokenAt, 'connect');
      assert.equal(stepOf(report, 'connect')!.detail, 'Invalid namespace');
      assert.match(stepOf(report, 'connect')!.cause!, /another site than "other\.site"/);
    } finally {
      await stack.close();
    }
  });

  test('a proxy that does not forward Host: Invalid origin, explained', async () => {
    const stack = await devStack();
    const proxy = await startProxy(stack.herald.port!, { host: 'realtime.internal:9000' });
    try {
      const report = await runDoctor({ url: proxy.url, site: SITE1, sid: 'sid-alice' });
      assert.equal(report.brokenAt, 'connect');
      assert.equal(stepOf(report, 'connect')!.detail, 'Invalid origin');
      assert.match(stepOf(report, 'connect')!.fix!, /proxy_set_header Origin .* Host/);
    } finally {
      await proxy.close();
      await stack.close();
    }
  });

  test('websocket upgrade blocked by a proxy: polling only, named as such', async () => {
    const stack = await devStack();
    const proxy = await startProxy(stack.herald.port!, { blockUpgrade: true });
    try {
      const report = await runDoctor({ url: proxy.url, site: SITE1, sid: 'sid-alice' });
      assert.equal(stepOf(report, 'handshake')!.status, 'ok', 'polling works');
      assert.equal(report.brokenAt, 'websocket');
      assert.match(stepOf(report, 'websocket')!.cause!, /proxy without upgrade headers/);
      assert.match(stepOf(report, 'websocket')!.fix!, /proxy_set_header Upgrade/);
    } finally {
      await proxy.close();
      await stack.close();
    }
  });

  test('the backend unreachable from the server', async () => {
    const dead = await freePort();
    const stack = await devStack({ config: { backend: `http://127.0.0.1:${dead}` } });
    try {
      const report = await runDoctor({
        url: stack.herald.url,
        site: SITE1,
        sid: 'sid-alice',
        adminToken: ADMIN_TOKEN,
      });
      assert.equal(report.brokenAt, 'connect');
      assert.equal(
        stepOf(report, 'connect')!.detail,
        `Unauthorized: the web server could not be reached: backend unreachable at http://127.0.0.1:${dead}/api/method/frappe.realtime.get_user_info (ECONNREFUSED)`,
      );
      assert.match(stepOf(report, 'connect')!.fix!, /--backend/);
      // Without the token: the same cause and fix, and how to see the rest.
      const anyone = await runDoctor({ url: stack.herald.url, site: SITE1, sid: 'sid-alice' });
      assert.equal(
        stepOf(anyone, 'connect')!.detail,
        'Unauthorized: the web server could not be reached (HERALD_BACKEND_UNREACHABLE; give --admin-token for the details: the URL and the error)',
      );
      assert.equal(stepOf(anyone, 'connect')!.fix, stepOf(report, 'connect')!.fix);
    } finally {
      await stack.close();
    }
  });

  test("the backend redirecting the backchannel: the field report's root cause, named", async () => {
    const stack = await devStack({ behaviour: { redirectTo: 'https://erp.example.com' } });
    try {
      const report = await runDoctor({
        url: stack.herald.url,
        site: SITE1,
        sid: 'sid-alice',
        adminToken: ADMIN_TOKEN,
      });
      assert.equal(report.brokenAt, 'connect');
      assert.match(
        stepOf(report, 'connect')!.detail,
        /redirected .* to https:\/\/erp\.example\.com/,
      );
      assert.match(stepOf(report, 'connect')!.cause!, /drops the cookie/);
      const anyone = await runDoctor({ url: stack.herald.url, site: SITE1, sid: 'sid-alice' });
      assert.doesNotMatch(stepOf(anyone, 'connect')!.detail, /erp\.example\.com|127\.0\.0\.1/);
      assert.match(stepOf(anyone, 'connect')!.cause!, /drops the cookie/);
    } finally {
      await stack.close();
    }
  });

  test('valid-looking credentials that come out as Guest: a loud failure', async () => {
    const stack = await devStack();
    try {
      const report = await runDoctor({
        url: stack.herald.url,
        site: SITE1,
        sid: 'sid-that-expired',
      });
      assert.equal(report.brokenAt, 'identity');
      assert.match(
        stepOf(report, 'identity')!.detail,
        /credentials were given, but the server sees this socket as Guest/,
      );
    } finally {
      await stack.close();
    }
  });

  test('nothing listening: the tcp step says so', async () => {
    const port = await freePort();
    const report = await runDoctor({ url: `http://127.0.0.1:${port}`, sid: 'x', timeoutMs: 2000 });
    assert.equal(report.brokenAt, 'tcp');
    assert.match(stepOf(report, 'tcp')!.detail, /ECONNREFUSED/);
  });

  test('a bad URL is refused with what to pass', async () => {
    const report = await runDoctor({ url: 'erp.example.com' });
    assert.equal(report.brokenAt, 'url');
    assert.match(report.steps[0]!.fix!, /--url https:\/\//);
  });
});

export type { Stack };
