import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ERRORS, type ErrorCode } from '@herald/server';
import {
  freePort,
  loadVectors,
  startRedis,
  startTestBackend,
  type TestRedis,
  waitFor,
} from '@herald/testkit';
import { createClient } from 'redis';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import { type Stack, startStack } from './helpers/stack.js';

/** The admin token of the stacks whose refusals are also read as the operator reads them. */
const ADMIN_TOKEN = 'operator-token-0123456789';
const operator = { heraldAdminToken: ADMIN_TOKEN };

type Refusal = Error & { data?: Record<string, unknown> };

/**
 * What a client sees of a refusal: a message without any URL, the code, and the catalogue's hint
 * for it; none of `secrets` (addresses, ports, the backend's words), no detail.
 */
function assertNothingLeaked(error: Refusal, ...secrets: string[]) {
  assert.doesNotMatch(error.message, /https?:\/\//);
  assert.equal(error.data?.hint, ERRORS[error.data?.code as ErrorCode].hint);
  const seen = JSON.stringify({ message: error.message, data: error.data });
  for (const secret of secrets) {
    assert.ok(!seen.includes(secret), `the client must not see ${secret}: ${seen}`);
  }
  assert.deepEqual(Object.keys(error.data ?? {}).sort(), ['code', 'hint']);
}

interface ConnectVector {
  name: string;
  namespace: string;
  headers: Record<string, string>;
  error: string | null;
}

describe('connecting: the spec vectors, end to end', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  for (const v of loadVectors<{ connect: ConnectVector[] }>('connect-rules.json').connect) {
    test(v.name, async () => {
      const site = v.namespace.slice(1);
      const options = {
        site,
        host: v.headers.host ?? null,
        origin: v.headers.origin ?? null,
        cookie: v.headers.cookie,
        authorization: v.headers.authorization,
      };
      if (v.error === null) {
        const socket = await stack.connect(options);
        assert.equal(socket.connected, true);
        socket.disconnect();
      } else {
        const error = await stack.connectError(options);
        assert.equal(error.message, v.error);
        assert.ok(error.data?.hint, 'the rejection carries a hint');
      }
    });
  }
});

describe('connecting: identity from the backchannel', () => {
  let stack: Stack;
  let redis: TestRedis;
  before(async () => {
    stack = await startStack({ redis: true, config: { adminToken: ADMIN_TOKEN } });
    redis = stack.redis!;
  });
  after(() => stack.close());

  test('the backchannel gets Authorization instead of the cookie, and always the secret and the site', async () => {
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.set('socketio_auth_secret', 'the-secret');
    stack.backend.behaviour = { ...stack.backend.behaviour, secret: 'the-secret' };
    try {
      const before = stack.backend.requests.length;
      const socket = await stack.connect({
        site: SITE1,
        sid: 'sid-alice',
        authorization: 'token key1:secret1',
      });
      const request = stack.backend.requests[before]!;
      assert.equal(request.path, '/api/method/frappe.realtime.get_user_info');
      assert.equal(request.headers.authorization, 'token key1:secret1');
      assert.equal(request.headers.cookie, undefined);
      assert.equal(request.headers['x-frappe-socket-secret'], 'the-secret');
      assert.equal(request.headers['x-frappe-site-name'], SITE1);
      socket.disconnect();

      const cookieOnly = await stack.connect({ site: SITE1, cookie: 'theme=dark; sid=sid-bob' });
      const last = stack.backend.requests.at(-1)!;
      assert.equal(last.headers.cookie, 'sid=sid-bob');
      assert.equal(last.headers.authorization, undefined);
      cookieOnly.disconnect();
    } finally {
      await admin.del('socketio_auth_secret');
      await admin.quit();
      stack.backend.behaviour = { ...stack.backend.behaviour, secret: undefined };
    }
  });

  test('a wrong socket secret gives an empty answer: "Unauthorized"', async () => {
    stack.backend.behaviour = { ...stack.backend.behaviour, secret: 'expected' };
    try {
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      assert.equal(error.message, 'Unauthorized');
      assert.equal(error.data?.code, 'HERALD_UNAUTHORIZED');
    } finally {
      stack.backend.behaviour = { ...stack.backend.behaviour, secret: undefined };
    }
  });

  test('the retry re-reads the secret the first request created', async () => {
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.del('socketio_auth_secret');
    // Like Frappe: the first get_user_info creates the secret, and answers {} since none was sent.
    stack.backend.behaviour = {
      ...stack.backend.behaviour,
      secret: 'fresh-secret',
      onRequest: async () => {
        await admin.set('socketio_auth_secret', 'fresh-secret');
      },
    };
    try {
      const before = stack.backend.requests.length;
      const socket = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      const sent = stack.backend.requests
        .slice(before)
        .map((r) => r.headers['x-frappe-socket-secret']);
      assert.deepEqual(sent, ['', 'fresh-secret']);
      socket.disconnect();
    } finally {
      stack.backend.behaviour = {
        ...stack.backend.behaviour,
        secret: undefined,
        onRequest: undefined,
      };
      await admin.del('socketio_auth_secret');
      await admin.quit();
    }
  });

  test('an unknown session is Guest, and Guest may connect', async () => {
    const socket = await stack.connect({ site: SITE1, sid: 'expired' });
    assert.equal(socket.connected, true);
    socket.disconnect();
  });

  test('an unknown token is refused: the client gets the code, the operator the backend status', async () => {
    const error = await stack.connectError({ site: SITE1, authorization: 'token nope:nope' });
    assert.equal(
      error.message,
      'Unauthorized: the web server answered with an error or with something that is not the expected JSON',
    );
    assert.equal(error.data?.code, 'HERALD_BACKEND_BAD_ANSWER');
    assertNothingLeaked(error, '401');
    const seen = await stack.connectError({
      site: SITE1,
      authorization: 'token nope:nope',
      auth: operator,
    });
    assert.match(
      seen.data!.detail!,
      /^backend answered HTTP 401 for http:\/\/127\.0\.0\.1:\d+\/api\/method\/frappe\.realtime\.get_user_info$/,
    );
    assert.equal(seen.data!.backchannel, stack.backend.url);
  });

  test('a wrong admin token is any client', async () => {
    const error = await stack.connectError({
      site: SITE1,
      authorization: 'token nope:nope',
      auth: { heraldAdminToken: 'not-the-operator-token' },
    });
    assert.equal(error.data?.code, 'HERALD_BACKEND_BAD_ANSWER');
    assertNothingLeaked(error, '401');
  });

  test('a duplicate namespace connect on one connection is tolerated', async () => {
    const { Manager, Socket } = await import('socket.io-client');
    const port = stack.herald.port!;
    const manager = new Manager(stack.herald.url, {
      transports: ['websocket'],
      extraHeaders: {
        host: `${SITE1}:${port}`,
        origin: `http://${SITE1}:${port}`,
        cookie: 'sid=sid-admin',
      },
      reconnection: false,
    });
    const first = new Socket(manager, `/${SITE1}`);
    await waitFor(() => first.connected, { what: 'first connect' });
    // A second CONNECT to the same namespace on the same Engine.IO connection.
    const second = new Socket(manager, `/${SITE1}`);
    await waitFor(() => second.connected, { what: 'second connect' });
    const received: unknown[] = [];
    second.on('hello', (m: unknown) => received.push(m));
    await stack.herald.publish({
      event: 'hello',
      message: 1,
      room: 'user:Administrator',
      namespace: SITE1,
    });
    await stack.herald.publish({
      event: 'hello',
      message: 2,
      room: 'user:Administrator',
      namespace: SITE1,
    });
    await waitFor(() => received.length >= 2, { what: 'events on the second socket' });
    assert.deepEqual(
      received,
      [1, 2],
      'each event arrives once: the older server socket left its rooms',
    );
    assert.equal(manager.engine.readyState, 'open', 'the connection was not closed');
    const nsp = stack.herald.io._nsps.get(`/${SITE1}`)!;
    assert.equal(nsp.sockets.size, 1, 'one server socket remains');
    first.disconnect();
    second.disconnect();
    manager.engine.close();
  });
});

describe('connecting: the site name header only from trusted proxies', () => {
  test('X-Frappe-Site-Name from an untrusted peer is ignored', async () => {
    const stack = await startStack({ config: { trustedProxies: ['10.9.9.0/24'] } });
    try {
      const port = stack.herald.port!;
      // The peer is 127.0.0.1, not a trusted proxy: the header cannot pick site2.
      const error = await stack.connectError({
        site: SITE2,
        host: `${SITE1}:${port}`,
        origin: `http://${SITE1}:${port}`,
        sid: 'sid-site2-admin',
        headers: { 'x-frappe-site-name': SITE2 },
      });
      assert.equal(error.message, 'Invalid namespace');
    } finally {
      await stack.close();
    }
  });

  test('X-Frappe-Site-Name from a trusted proxy picks the site', async () => {
    const stack = await startStack();
    try {
      const port = stack.herald.port!;
      const socket = await stack.connect({
        site: SITE2,
        host: `127.0.0.1:${port}`,
        origin: `http://127.0.0.1:${port}`,
        sid: 'sid-site2-admin',
        headers: { 'x-frappe-site-name': SITE2 },
      });
      socket.disconnect();
    } finally {
      await stack.close();
    }
  });
});

describe('connecting: a broken backchannel answers promptly and clearly', () => {
  test('backend down', async () => {
    const port = await freePort();
    const stack = await startStack({
      config: { backend: `http://127.0.0.1:${port}`, adminToken: ADMIN_TOKEN },
    });
    try {
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      assert.equal(error.message, 'Unauthorized: the web server could not be reached');
      assert.equal(error.data?.code, 'HERALD_BACKEND_UNREACHABLE');
      assert.match(String(error.data?.hint), /--backend/);
      assertNothingLeaked(error, String(port), 'ECONNREFUSED');
      const seen = await stack.connectError({ site: SITE1, sid: 'sid-alice', auth: operator });
      assert.equal(
        seen.data?.detail,
        `backend unreachable at http://127.0.0.1:${port}/api/method/frappe.realtime.get_user_info (ECONNREFUSED)`,
      );
    } finally {
      await stack.close();
    }
  });

  test('backend slower than the timeout', async () => {
    const stack = await startStack({
      config: { backendTimeoutMs: 300, adminToken: ADMIN_TOKEN },
      behaviour: { delayMs: 5000 },
    });
    try {
      const started = Date.now();
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      assert.equal(error.message, 'Unauthorized: the web server did not answer in time');
      assert.equal(error.data?.code, 'HERALD_BACKEND_TIMEOUT');
      assertNothingLeaked(error, stack.backend.url);
      assert.ok(
        Date.now() - started < 4000,
        'rejected well before the backend would have answered',
      );
      const seen = await stack.connectError({ site: SITE1, sid: 'sid-alice', auth: operator });
      assert.equal(
        seen.data?.detail,
        `backend did not answer within 300 ms (${stack.backend.url}/api/method/frappe.realtime.get_user_info)`,
      );
    } finally {
      await stack.close();
    }
  });

  test('backend answering with a redirect: never followed, both URLs named to the operator', async () => {
    const stack = await startStack({
      config: { adminToken: ADMIN_TOKEN },
      behaviour: { redirectTo: 'https://erp.example.com' },
    });
    try {
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      assert.equal(
        error.message,
        'Unauthorized: the web server answered the backchannel with a redirect',
      );
      assert.equal(error.data?.code, 'HERALD_BACKEND_REDIRECT');
      assert.match(String(error.data?.hint), /cookie/);
      assertNothingLeaked(error, stack.backend.url, 'erp.example.com');
      assert.equal(stack.backend.requests.length, 1, 'the redirect was not followed');

      const seen = await stack.connectError({ site: SITE1, sid: 'sid-alice', auth: operator });
      const detail = seen.data!.detail!;
      const from = `${stack.backend.url}/api/method/frappe.realtime.get_user_info`;
      assert.ok(detail.startsWith('backend redirected'), detail);
      assert.ok(detail.includes(from), detail);
      assert.ok(
        detail.includes('https://erp.example.com/api/method/frappe.realtime.get_user_info'),
        detail,
      );
      assert.match(detail, /cookie/);
      assert.equal(stack.backend.requests.length, 2, 'the redirect was not followed');
    } finally {
      await stack.close();
    }
  });
});

describe('connecting: Redis is not needed to start', () => {
  test('Redis unreachable at start: the server serves anyway', async () => {
    const redis = await startRedis();
    await redis.stop();
    const stack = await startStack({ config: { redis: redis.url } });
    try {
      // No secret can be read, so the connection is refused with that reason, promptly.
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      assert.equal(error.message, 'Unauthorized: the socket secret could not be read from Redis');
      assert.equal(error.data?.code, 'HERALD_SECRET_UNAVAILABLE');
      assertNothingLeaked(error, String(redis.port), 'ECONNREFUSED');
    } finally {
      await stack.close();
    }
  });
});

/** The connect-refusal counter of /metrics for one reason. */
async function refusals(url: string, reason: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`herald_connections_total{outcome="rejected",reason="${reason}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('connecting: a site name must be a host name', () => {
  let stack: Stack;
  const logs = logSink();
  before(async () => {
    stack = await startStack({ logger: logs.logger });
  });
  after(() => stack.close());

  // Real sockets: Node's HTTP client sends these Host headers as they are (a control character
  // other than a tab it refuses to send at all).
  const badHosts: [string, string, RegExp][] = [
    ['path-like', '../../etc', /"\.\.\/\.\.\/etc", which contains "\/"/],
    ['a path', 'a/b:9000', /"a\/b:9000", which contains "\/"/],
    ['10 KB', 'a'.repeat(10_240), /which is 10240 characters long \(at most 253\)/],
    ['a tab', 'a\tb', /which contains the control character U\+0009/],
    ['an empty label', 'a..b', /which has an empty label/],
    ['a leading dot', '.example.com', /which has an empty label/],
    ['a leading hyphen', '-a.example.com', /which has a label that starts or ends with a hyphen/],
  ];
  for (const [what, host, problem] of badHosts) {
    test(`a bad Host (${what}) is refused with what is wrong and what to do`, async () => {
      const before = stack.backend.requests.length;
      const counted = await refusals(stack.herald.url, 'HERALD_SITE_NAME_INVALID');
      const error = await stack.connectError({
        site: SITE1,
        namespace: `/${SITE1}`,
        host,
        origin: null,
        sid: 'sid-alice',
      });
      assert.ok(error.message.startsWith('Invalid site name: the Host header is "'), error.message);
      assert.match(error.message, problem);
      assert.match(error.message, /a site name is a host name such as erp\.example\.com$/);
      assert.ok(error.message.length < 300, 'a long name is cut in the message');
      assert.equal(error.data?.code, 'HERALD_SITE_NAME_INVALID');
      assert.match(String(error.data?.hint), /letters, digits, hyphens, underscores and dots/);
      assert.equal(stack.backend.requests.length, before, 'the backchannel was not asked');
      assert.equal(await refusals(stack.herald.url, 'HERALD_SITE_NAME_INVALID'), counted + 1);
      const logged = logs.lines.filter(
        (l) => l.code === 'HERALD_SITE_NAME_INVALID' && l.reason === error.message,
      );
      assert.equal(logged.length, 1, 'the refusal is logged');
      assert.match(String(logged[0]!.msg), /^connection rejected: Invalid site name/);
    });
  }

  test('a bad X-Frappe-Site-Name from a trusted proxy is refused, not cut to a good one', async () => {
    const port = stack.herald.port!;
    // The peer is 127.0.0.1: a trusted proxy by default.
    for (const name of ['a/b', '../../etc', 'a b', 'site2.local/../site1.local']) {
      const error = await stack.connectError({
        site: 'a',
        host: `127.0.0.1:${port}`,
        origin: `http://127.0.0.1:${port}`,
        sid: 'sid-alice',
        headers: { 'x-frappe-site-name': name },
      });
      assert.ok(
        error.message.startsWith(
          `Invalid site name: the X-Frappe-Site-Name header is ${JSON.stringify(name)}, which`,
        ),
        error.message,
      );
      assert.equal(error.data?.code, 'HERALD_SITE_NAME_INVALID');
    }
  });

  test('good names still connect: a port is dropped, underscores are allowed', async () => {
    const port = stack.herald.port!;
    const socket = await stack.connect({ site: SITE1, host: `${SITE1}:${port}`, sid: 'sid-alice' });
    socket.disconnect();
    const proxied = await stack.connect({
      site: SITE2,
      host: `127.0.0.1:${port}`,
      origin: `http://127.0.0.1:${port}`,
      sid: 'sid-site2-admin',
      headers: { 'x-frappe-site-name': `${SITE2}:443` },
    });
    proxied.disconnect();
    const error = await stack.connectError({ site: 'my_site.local', sid: 'x', origin: null });
    // Past the name check: the namespace and the backchannel are reached.
    assert.notEqual(error.data?.code, 'HERALD_SITE_NAME_INVALID', error.message);
  });
});

describe("connecting: the backchannel goes only where the operator allows, whatever the client's Origin", () => {
  test('an Origin (or Host) on an address the operator did not allow is refused, and that address is never called', async () => {
    // A real HTTP server that records every request: where a crafted Origin points.
    const target = await startTestBackend({ sites: {} });
    const logs = logSink();
    // No --backend: the backchannel would be derived from each connection.
    const stack = await startStack({
      config: { backend: undefined, adminToken: ADMIN_TOKEN },
      logger: logs.logger,
    });
    try {
      const port = new URL(target.url).port;
      // 0.0.0.0 is no loopback address, though Linux connects it to this machine's listener.
      const crafted = `http://0.0.0.0:${port}`;
      const counted = await refusals(stack.herald.url, 'HERALD_BACKEND_NOT_ALLOWED');
      const error = await stack.connectError({
        site: '0.0.0.0',
        host: `0.0.0.0:${port}`,
        origin: crafted,
        sid: 'the-attackers-own-sid',
      });
      assert.equal(
        error.message,
        "Unauthorized: the backchannel may not be derived from this connection's Origin",
      );
      assert.equal(error.data?.code, 'HERALD_BACKEND_NOT_ALLOWED');
      assert.match(String(error.data?.hint), /--backend/);
      assertNothingLeaked(error, port);
      // The Host alone (no Origin) is no way round it.
      const byHost = await stack.connectError({
        site: '0.0.0.0',
        host: `0.0.0.0:${port}`,
        origin: null,
        sid: 'the-attackers-own-sid',
      });
      assert.equal(byHost.data?.code, 'HERALD_BACKEND_NOT_ALLOWED');
      // Nor an internal name or address.
      for (const origin of ['http://169.254.169.254', 'http://10.0.0.5:8000']) {
        const host = new URL(origin).host;
        const other = await stack.connectError({
          site: new URL(origin).hostname,
          host,
          origin,
          sid: 'x',
        });
        assert.equal(other.data?.code, 'HERALD_BACKEND_NOT_ALLOWED', origin);
      }
      assert.equal(target.requests.length, 0, 'Herald never called the crafted address');
      assert.equal(await refusals(stack.herald.url, 'HERALD_BACKEND_NOT_ALLOWED'), counted + 4);
      const logged = logs.lines.find((l) => l.code === 'HERALD_BACKEND_NOT_ALLOWED');
      assert.match(String(logged?.detail), new RegExp(`would go to ${crafted}`));
      // The operator's socket is told where it would have gone.
      const seen = await stack.connectError({
        site: '0.0.0.0',
        host: `0.0.0.0:${port}`,
        origin: crafted,
        sid: 'x',
        auth: operator,
      });
      assert.equal(seen.data?.backchannel, crafted);
      assert.match(
        String(seen.data?.detail),
        /not a loopback host and not listed with --backend-origin-host/,
      );
      assert.equal(target.requests.length, 0);
    } finally {
      await stack.close();
      await target.close();
    }
  });

  test('a loopback Origin is allowed by default (bench start), and the hosts the operator lists', async () => {
    const target = await startTestBackend({ sites: { '127.0.0.1': {}, '0.0.0.0': {} } });
    const stack = await startStack({ config: { backend: undefined } });
    const listed = await startStack({
      config: { backend: undefined, backendOriginHosts: ['0.0.0.0'] },
    });
    try {
      const port = new URL(target.url).port;
      await stack.connect({
        site: '127.0.0.1',
        host: `127.0.0.1:${port}`,
        origin: `http://127.0.0.1:${port}`,
        sid: 'a-developer',
      });
      await waitFor(() => target.requests.length === 1, { what: 'the loopback backchannel' });
      assert.equal(target.requests[0]!.path, '/api/method/frappe.realtime.get_user_info');
      // The same crafted address as above reaches the server once the operator lists it.
      await listed.connect({
        site: '0.0.0.0',
        host: `0.0.0.0:${port}`,
        origin: `http://0.0.0.0:${port}`,
        sid: 'x',
      });
      await waitFor(() => target.requests.length === 2, { what: 'the listed host called' });
    } finally {
      await listed.close();
      await stack.close();
      await target.close();
    }
  });

  test('the start log says how the backchannel is chosen', async () => {
    const logs = logSink();
    const stack = await startStack({ config: { backend: undefined }, logger: logs.logger });
    const fixed = logSink();
    const withBackend = await startStack({ logger: fixed.logger });
    try {
      assert.ok(
        logs.lines.some((l) =>
          /^backchannel: derived from each connection's Origin \(or Host\), for loopback origins only .*set --backend/.test(
            String(l.msg),
          ),
        ),
        JSON.stringify(logs.lines.map((l) => l.msg)),
      );
      assert.ok(
        fixed.lines.some((l) => l.msg === `backchannel: ${withBackend.backend.url} (--backend)`),
      );
    } finally {
      await stack.close();
      await withBackend.close();
    }
  });
});
