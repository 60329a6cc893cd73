import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort, loadVectors, startRedis, type TestRedis, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { type Stack, startStack } from './helpers/stack.js';

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
    stack = await startStack({ redis: true });
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

  test('an unknown token is refused with the backend status', async () => {
    const error = await stack.connectError({ site: SITE1, authorization: 'token nope:nope' });
    assert.match(
      error.message,
      /^Unauthorized: backend answered HTTP 401 for http:\/\/127\.0\.0\.1:\d+\/api\/method\/frappe\.realtime\.get_user_info$/,
    );
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
    const stack = await startStack({ config: { backend: `http://127.0.0.1:${port}` } });
    try {
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      assert.equal(
        error.message,
        `Unauthorized: backend unreachable at http://127.0.0.1:${port}/api/method/frappe.realtime.get_user_info (ECONNREFUSED)`,
      );
      assert.equal(error.data?.code, 'HERALD_BACKEND_UNREACHABLE');
    } finally {
      await stack.close();
    }
  });

  test('backend slower than the timeout', async () => {
    const stack = await startStack({
      config: { backendTimeoutMs: 300 },
      behaviour: { delayMs: 5000 },
    });
    try {
      const started = Date.now();
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      assert.equal(
        error.message,
        `Unauthorized: backend did not answer within 300 ms (${stack.backend.url}/api/method/frappe.realtime.get_user_info)`,
      );
      assert.ok(
        Date.now() - started < 4000,
        'rejected well before the backend would have answered',
      );
    } finally {
      await stack.close();
    }
  });

  test('backend answering with a redirect: never followed, both URLs named', async () => {
    const stack = await startStack({ behaviour: { redirectTo: 'https://erp.example.com' } });
    try {
      const error = await stack.connectError({ site: SITE1, sid: 'sid-alice' });
      const from = `${stack.backend.url}/api/method/frappe.realtime.get_user_info`;
      assert.ok(error.message.startsWith('Unauthorized: backend redirected'), error.message);
      assert.ok(error.message.includes(from), error.message);
      assert.ok(
        error.message.includes('https://erp.example.com/api/method/frappe.realtime.get_user_info'),
        error.message,
      );
      assert.match(error.message, /cookie/);
      assert.equal(error.data?.code, 'HERALD_BACKEND_REDIRECT');
      assert.equal(stack.backend.requests.length, 1, 'the redirect was not followed');
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
      assert.match(error.message, /^Unauthorized: cannot read socketio_auth_secret from Redis/);
    } finally {
      await stack.close();
    }
  });
});
