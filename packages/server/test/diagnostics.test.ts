import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { SITE1 } from './helpers/fixtures.js';
import { recorder, type Stack, startStack } from './helpers/stack.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    json: () => JSON.parse(text),
  };
}

/** Parses the Prometheus text format strictly enough to catch a malformed line. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(
        line,
      );
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

describe('health, metrics and the admin API', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ redis: true, config: { adminToken: ADMIN_TOKEN } });
    await waitFor(() => stack.herald.broker.status().ready, { what: 'Redis subscribed' });
  });
  after(() => stack.close());

  test('/health/live answers; /health/ready reports Redis and the backend', async () => {
    const live = await get(`${stack.herald.url}/health/live`);
    assert.equal(live.status, 200);
    const ready = await get(`${stack.herald.url}/health/ready`);
    assert.equal(ready.status, 200, ready.text);
    const body = ready.json();
    assert.equal(body.ready, true);
    assert.equal(body.checks.events.ok, true);
    assert.equal(body.checks.backend.ok, true);
  });

  test('/health/ready is 503 with the reason while Redis is down, and recovers', async () => {
    await stack.redis!.kill();
    try {
      const down = await waitFor(
        async () => {
          const answer = await get(`${stack.herald.url}/health/ready`, {
            authorization: `Bearer ${ADMIN_TOKEN}`,
          });
          return answer.status === 503 ? answer : undefined;
        },
        { what: 'not ready' },
      );
      const body = down.json();
      assert.equal(body.ready, false);
      assert.equal(body.checks.events.ok, false);
      assert.ok(body.checks.events.detail.length > 0);
    } finally {
      await stack.redis!.start();
    }
    await waitFor(async () => (await get(`${stack.herald.url}/health/ready`)).status === 200, {
      what: 'ready again',
      timeoutMs: 15_000,
    });
  });

  test('/metrics parses as Prometheus text and moves when events flow', async () => {
    const before = parsePrometheus((await get(`${stack.herald.url}/metrics`)).text);
    const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
    const r = recorder(admin);
    await stack.connectError({ site: SITE1, cookie: 'theme=dark' });
    const publisher = createClient({ url: stack.redis!.url });
    await publisher.connect();
    await publisher.publish(
      'events',
      JSON.stringify({
        event: 'msgprint',
        message: 'hi',
        room: 'user:Administrator',
        namespace: SITE1,
      }),
    );
    await publisher.publish('events', 'not json');
    await waitFor(() => r.of('msgprint').length === 1, { what: 'delivery' });
    await publisher.quit();

    const response = await get(`${stack.herald.url}/metrics`);
    assert.match(response.type, /^text\/plain/);
    const after = parsePrometheus(response.text);
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    assert.equal(delta('herald_events_in_total{source="redis"}'), 2);
    assert.equal(delta('herald_events_out_total{event="msgprint"}'), 1);
    assert.equal(delta('herald_events_skipped_total{kind="malformed_json"}'), 1);
    assert.equal(delta('herald_connections_total{outcome="accepted",reason=""}'), 1);
    assert.equal(
      delta('herald_connections_total{outcome="rejected",reason="HERALD_CONNECT_REJECTED"}'),
      1,
    );
    assert.ok(
      delta('herald_backchannel_requests_total{endpoint="get_user_info",outcome="ok"}') >= 1,
    );
    assert.equal(after.get(`herald_sockets{site="${SITE1}"}`), 1);
    assert.ok((after.get('herald_publish_to_emit_seconds_count') ?? 0) >= 1);
    assert.ok(after.has('herald_process_cpu_user_seconds_total'), 'process metrics');
    assert.ok(after.has('herald_redis_reconnects_total'));
    admin.disconnect();
  });

  test('the admin API refuses without the token, and lists sockets and rooms with it', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    await alice.timeout(10_000).emitWithAck('doctype_subscribe', 'ToDo');
    assert.equal((await get(`${stack.herald.url}/admin/sockets`)).status, 401);
    const wrong = await get(`${stack.herald.url}/admin/sockets`, { authorization: 'Bearer wrong' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().error.code, 'HERALD_ADMIN_UNAUTHORIZED');

    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const sockets = (
      await get(`${stack.herald.url}/admin/sockets?site=${SITE1}&user=alice@example.com`, auth)
    ).json().sockets;
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0].id, alice.id);
    assert.equal(sockets[0].transport, 'websocket');
    assert.deepEqual([...sockets[0].rooms].sort(), [
      'all',
      'doctype:ToDo',
      'user:alice@example.com',
      'website',
    ]);

    const rooms = (await get(`${stack.herald.url}/admin/rooms?site=${SITE1}`, auth)).json()
      .rooms as { room: string; sockets: number }[];
    assert.equal(rooms.find((room) => room.room === 'doctype:ToDo')?.sockets, 1);
    assert.ok(!rooms.some((room) => room.room === alice.id), 'private socket rooms are not listed');
    // A room its last member left is kept a while, empty (rooms/rooms-adapter.ts): not listed.
    await alice.timeout(10_000).emitWithAck('doctype_unsubscribe', 'ToDo');
    const after = (await get(`${stack.herald.url}/admin/rooms?site=${SITE1}`, auth)).json()
      .rooms as { room: string }[];
    assert.ok(!after.some((room) => room.room === 'doctype:ToDo'), 'an emptied room is not listed');
    alice.disconnect();
  });
});

describe('health: a broken backend', () => {
  const operator = { authorization: `Bearer ${ADMIN_TOKEN}` };
  test('unreachable: 503 naming the URL to the operator, and to nobody else', async () => {
    const port = await freePort();
    const stack = await startStack({
      config: { backend: `http://127.0.0.1:${port}`, adminToken: ADMIN_TOKEN },
    });
    try {
      const anyone = await get(`${stack.herald.url}/health/ready`);
      assert.equal(anyone.status, 503);
      assert.deepEqual(anyone.json().checks.backend, { ok: false });
      assert.ok(!anyone.text.includes(String(port)), 'no internal URL for an anonymous probe');
      assert.match(anyone.json().hint, /--admin-token/);
      const wrong = await get(`${stack.herald.url}/health/ready`, { authorization: 'Bearer nope' });
      assert.deepEqual(wrong.json().checks.backend, { ok: false });
      const answer = await get(`${stack.herald.url}/health/ready`, operator);
      assert.equal(answer.status, 503);
      assert.match(
        answer.json().checks.backend.detail,
        new RegExp(
          `backend unreachable at http://127.0.0.1:${port}/api/method/ping \\(ECONNREFUSED\\)`,
        ),
      );
    } finally {
      await stack.close();
    }
  });

  test('redirecting: 503 saying the cookie would be lost', async () => {
    const stack = await startStack({
      behaviour: { redirectTo: 'https://erp.example.com' },
      config: { adminToken: ADMIN_TOKEN },
    });
    try {
      const answer = await get(`${stack.herald.url}/health/ready`, operator);
      assert.equal(answer.status, 503);
      assert.match(
        answer.json().checks.backend.detail,
        /redirected .* to https:\/\/erp\.example\.com\/api\/method\/ping: .*cookie/,
      );
    } finally {
      await stack.close();
    }
  });

  test('the admin API is off without a token', async () => {
    const stack = await startStack();
    try {
      const answer = await get(`${stack.herald.url}/admin/sockets`);
      assert.equal(answer.status, 404);
      assert.equal(answer.json().error.code, 'HERALD_ADMIN_OFF');
    } finally {
      await stack.close();
    }
  });
});

describe('HTTP routes never take the server down', () => {
  test('a route that throws answers 500 HERALD_INTERNAL, logged; the server goes on', async () => {
    const stack = await startStack();
    try {
      stack.herald.addRoute((req) => {
        if (req.url !== '/boom') return false;
        throw new Error('a bug in a route');
      });
      const answer = await get(`${stack.herald.url}/boom`);
      assert.equal(answer.status, 500);
      assert.equal(answer.json().error.code, 'HERALD_INTERNAL');
      assert.equal((await get(`${stack.herald.url}/health/live`)).status, 200);
    } finally {
      await stack.close();
    }
  });
});

describe('the Socket.IO Admin UI (--admin-ui)', () => {
  test('served behind the admin token; its namespace takes the same credentials', async () => {
    const stack = await startStack({ config: { adminToken: ADMIN_TOKEN, adminUi: true } });
    try {
      const ui = `${stack.herald.url}/admin-ui/`;
      const refused = await get(ui);
      assert.equal(refused.status, 401);
      const basic = (password: string) => ({
        authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
      });
      assert.equal((await get(ui, basic('wrong'))).status, 401);
      const page = await get(ui, basic(ADMIN_TOKEN));
      assert.equal(page.status, 200);
      assert.match(page.type, /text\/html/);
      assert.match(page.text, /<script/);
      assert.equal(
        (await get(`${stack.herald.url}/admin-ui/../../package.json`, basic(ADMIN_TOKEN))).status,
        404,
      );
      // A malformed %-escape is the client's error; it took the process down.
      assert.equal(
        (await get(`${stack.herald.url}/admin-ui/%E0%A4%A`, basic(ADMIN_TOKEN))).status,
        400,
      );
      assert.equal((await get(`${stack.herald.url}/health/live`)).status, 200);

      const { io } = await import('socket.io-client');
      const connectAdmin = (password: string) =>
        new Promise<string>((resolve) => {
          const socket = io(`${stack.herald.url}/herald-admin`, {
            auth: { username: 'admin', password },
            transports: ['websocket'],
            forceNew: true,
            reconnection: false,
          });
          socket.on('connect', () => {
            socket.disconnect();
            resolve('connected');
          });
          socket.on('connect_error', (error) => resolve(`refused: ${error.message}`));
        });
      assert.equal(await connectAdmin(ADMIN_TOKEN), 'connected');
      assert.match(await connectAdmin('wrong'), /^refused/);
      // The admin namespace is not a site: it is not in the metrics of sites.
      const metrics = await get(`${stack.herald.url}/metrics`);
      assert.ok(!metrics.text.includes('site="herald-admin"'));
    } finally {
      await stack.close();
    }
  });
});
