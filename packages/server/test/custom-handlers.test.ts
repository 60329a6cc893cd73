import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '@herald/server';
import { nextEvent, waitFor } from '@herald/testkit';
import { createClient } from 'redis';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import { type ClientSocket, recorder, type Stack, startStack } from './helpers/stack.js';

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));
type Reply = { ok?: boolean; error?: { code: string; message: string } } & Record<string, unknown>;
const ask = (socket: ClientSocket, event: string, ...args: unknown[]) =>
  socket.timeout(10_000).emitWithAck(event, ...args) as Promise<Reply>;

describe('custom handlers: TypeScript apps beside legacy handlers.js', () => {
  let stack: Stack;
  const logs = logSink();
  before(async () => {
    stack = await startStack({
      redis: true,
      logger: logs.logger,
      config: {
        bench: fixture('bench'),
        handlers: [
          `audit=${fixture('handlers/audit.mjs')}`,
          `hijack=${fixture('handlers/shadows-core.mjs')}`,
        ],
      },
    });
    const sites = stack.backend.behaviour.sites;
    sites[SITE1]!.installedApps = ['frappe', 'projects', 'audit', 'chat', 'hijack'];
    sites[SITE1]!.permissions!['alice@example.com'] = ['ToDo', 'Note/N-1', 'Project/PROJ-0001'];
    sites[SITE2]!.installedApps = ['frappe'];
    await waitFor(() => stack.herald.broker.status().ready, { what: 'Redis' });
  });
  after(() => stack.close());

  test('the seed example: project_subscribe joins only with permission, and publish_to_room reaches the socket', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const r = recorder(alice);
    assert.deepEqual(await ask(alice, 'project_subscribe', 'PROJ-0001'), {
      ok: true,
      joined: true,
    });
    assert.deepEqual(await ask(alice, 'project_subscribe', 'PROJ-0002'), {
      ok: false,
      joined: false,
    });
    const publisher = createClient({ url: stack.redis!.url });
    await publisher.connect();
    // What Frappe's publish_to_room("project:PROJ-0001", "project_updated", {...}) puts on Redis.
    for (const project of ['PROJ-0002', 'PROJ-0001']) {
      await publisher.publish(
        'events',
        JSON.stringify({
          event: 'project_updated',
          message: { project, status: 'Open' },
          room: `project:${project}`,
          namespace: SITE1,
        }),
      );
    }
    await waitFor(() => r.of('project_updated').length === 1, { what: 'project_updated' });
    assert.deepEqual(r.of('project_updated'), [[{ project: 'PROJ-0001', status: 'Open' }]]);
    await publisher.quit();
    alice.disconnect();
  });

  test('request/reply through the acknowledgement, with the socket identity and per-socket state', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    assert.deepEqual(await ask(bob, 'project_get', 'P-7'), {
      id: 'P-7',
      user: 'bob@example.com',
      site: SITE1,
      userType: 'System User',
    });
    assert.equal(await ask(bob, 'project_count'), 1);
    assert.equal(await ask(bob, 'project_count'), 2);
    const other = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    assert.equal(await ask(other, 'project_count'), 1, 'state belongs to one socket');
    bob.disconnect();
    other.disconnect();
  });

  test('several handlers of one event run in registration order', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    // --handlers modules load first, then the bench's apps; the last value returned answers.
    assert.deepEqual(await ask(bob, 'project_trail'), ['audit', 'projects']);
    bob.disconnect();
  });

  test('emit to a room and to the caller; participants of a room', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const [ra, rb] = [recorder(alice), recorder(bob)];
    await ask(alice, 'doctype_subscribe', 'ToDo');
    await ask(bob, 'doctype_subscribe', 'ToDo');
    assert.deepEqual(
      ((await ask(alice, 'project_who', 'doctype:ToDo')) as unknown as string[]).sort(),
      ['alice@example.com', 'bob@example.com'],
    );
    await ask(alice, 'project_shout', 'doctype:ToDo', 'hi');
    await waitFor(() => rb.of('shout').length === 1 && ra.of('shouted').length === 1, {
      what: 'shout and shouted',
    });
    assert.deepEqual(rb.of('shout'), [[{ from: 'alice@example.com', text: 'hi' }]]);
    assert.equal(rb.of('shouted').length, 0, 'the reply went to the caller only');
    alice.disconnect();
    bob.disconnect();
  });

  test('a handler runs only on sites that have its app; elsewhere the request is answered as unknown', async () => {
    const dave = await stack.connect({ site: SITE2, sid: 'sid-dave' });
    const reply = await ask(dave, 'project_get', 'P-1');
    assert.equal(reply.error?.code, 'HERALD_UNKNOWN_EVENT');
    assert.match(reply.error!.message, /no handler for "project_get" on site site2\.local/);
    dave.disconnect();
  });

  test('Guest is refused unless the handler allows it', async () => {
    const guest = await stack.connect({ site: SITE1, sid: 'Guest' });
    assert.equal((await ask(guest, 'project_get', 'P-1')).error?.code, 'HERALD_GUEST_NOT_ALLOWED');
    assert.equal(await ask(guest, 'public_hello'), 'hello Guest');
    guest.disconnect();
  });

  test('arguments are validated with the schema given at registration', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const reply = await ask(alice, 'project_subscribe', 42);
    assert.equal(reply.error?.code, 'HERALD_BAD_ARGUMENT');
    assert.match(reply.error!.message, /^project_subscribe: argument 0: /);
    // Too few or too many: the positions that are missing or extra.
    const none = await ask(alice, 'project_subscribe');
    assert.equal(none.error?.code, 'HERALD_BAD_ARGUMENT');
    assert.equal(
      none.error?.message,
      'project_subscribe: argument 0 is missing (expected 1, got 0)',
    );
    const extra = await ask(alice, 'project_subscribe', 'P-1', 'x', 'y');
    assert.equal(
      extra.error?.message,
      'project_subscribe: arguments 1 to 2 are extra (expected at most 1, got 3)',
    );
    alice.disconnect();
  });

  test('a throwing handler answers a coded error, is logged and counted; the server and other sockets go on', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const reply = await ask(alice, 'project_boom');
    assert.equal(reply.error?.code, 'HERALD_HANDLER_FAILED');
    assert.ok(logs.lines.some((l) => l.app === 'projects' && l.event === 'project_boom'));
    assert.equal(stack.herald.handlers.stats.failures.get('projects:project_boom'), 1);
    const pong = nextEvent(bob, 'pong');
    bob.emit('ping');
    await pong;
    assert.equal(await ask(alice, 'project_count'), 1, 'the same socket still works');
    alice.disconnect();
    bob.disconnect();
  });

  test('an app cannot shadow a core event: its module is refused and logged', async () => {
    assert.ok(logs.lines.some((l) => l.app === 'hijack' && /failed to load/.test(String(l.msg))));
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    assert.deepEqual(await ask(alice, 'doc_subscribe', 'Note', 'N-1'), { ok: true });
    alice.disconnect();
  });

  test('a module that fails to load is logged with HERALD_HANDLER_LOAD_FAILED, its file and the hint', () => {
    const line = logs.lines.find((l) => l.app === 'hijack' && /failed to load/.test(String(l.msg)));
    assert.equal(line?.code, 'HERALD_HANDLER_LOAD_FAILED');
    assert.equal(line?.file, fixture('handlers/shadows-core.mjs'));
    assert.equal(line?.hint, ERRORS.HERALD_HANDLER_LOAD_FAILED.hint);
  });

  test('a legacy handlers.js still works beside the new handlers', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const reply = nextEvent<[{ user: string }]>(alice, 'chat_reply');
    alice.emit('hello_chat');
    assert.equal((await reply)[0].user, 'alice@example.com');
    alice.disconnect();
  });
});

describe('custom handlers: events forwarded to the web backend', () => {
  let stack: Stack;
  const logs = logSink();
  before(async () => {
    stack = await startStack({
      logger: logs.logger,
      config: {
        backendTimeoutMs: 500,
        forward: [
          'project_join=/api/method/projects.realtime.join',
          'project_slow=/api/method/projects.realtime.slow',
          'project_broken=/api/method/projects.realtime.broken',
        ],
      },
      behaviour: {
        routes: {
          // A Frappe whitelisted method answers inside "message".
          '/api/method/projects.realtime.join': ({ body }) => {
            const { args, socket } = body as { args: string[]; socket: { user: string } };
            return {
              body: {
                message: {
                  join: [`project:${args[0]}`],
                  emit: [{ event: 'joined', data: { project: args[0], user: socket.user } }],
                  reply: { ok: true, joined: args[0] },
                },
              },
            };
          },
          '/api/method/projects.realtime.slow': () => ({ body: {}, delayMs: 3000 }),
          '/api/method/projects.realtime.broken': () => ({
            status: 500,
            body: { exc_type: 'ValidationError' },
          }),
        },
      },
    });
  });
  after(() => stack.close());

  test('a round trip: the backend gets the event with the credentials, and its actions are applied', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const r = recorder(alice);
    assert.deepEqual(await ask(alice, 'project_join', 'PROJ-9'), { ok: true, joined: 'PROJ-9' });
    const request = stack.backend.requests.find(
      (q) => q.path === '/api/method/projects.realtime.join',
    )!;
    assert.equal(request.method, 'POST');
    assert.equal(request.headers.cookie, 'sid=sid-alice');
    assert.equal(request.headers['x-frappe-site-name'], SITE1);
    assert.ok('x-frappe-socket-secret' in request.headers);
    const body = request.body as {
      event: string;
      args: unknown[];
      socket: { id: string; user: string; userType: string; rooms: string[] };
    };
    assert.equal(body.event, 'project_join');
    assert.deepEqual(body.args, ['PROJ-9']);
    assert.equal(body.socket.user, 'alice@example.com');
    assert.equal(body.socket.userType, 'System User');
    assert.ok(body.socket.rooms.includes('user:alice@example.com'));
    await waitFor(() => r.of('joined').length === 1, { what: 'the emit action' });
    assert.deepEqual(r.of('joined'), [[{ project: 'PROJ-9', user: 'alice@example.com' }]]);
    await stack.herald.publish({
      event: 'project_updated',
      message: 1,
      room: 'project:PROJ-9',
      namespace: SITE1,
    });
    await waitFor(() => r.of('project_updated').length === 1, {
      what: 'an event to the joined room',
    });
    alice.disconnect();
  });

  test('a backend slower than the timeout answers the client with a coded error', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const started = Date.now();
    const reply = await ask(alice, 'project_slow');
    assert.equal(reply.error?.code, 'HERALD_BACKEND_TIMEOUT');
    assert.equal(reply.error!.message, 'project_slow: the web server did not answer in time');
    assert.ok(Date.now() - started < 2500);
    alice.disconnect();
  });

  test('a backend error answers the client with a coded error naming the event; the log names the endpoint', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const reply = await ask(alice, 'project_broken');
    assert.equal(reply.error?.code, 'HERALD_FORWARD_FAILED');
    assert.equal(
      reply.error!.message,
      'project_broken: the web server did not handle the forwarded event',
    );
    assert.doesNotMatch(JSON.stringify(reply), /HTTP 500|127\.0\.0\.1|projects\.realtime/);
    const logged = logs.lines.find((l) =>
      /^forwarded event refused by the backend/.test(String(l.msg)),
    );
    assert.match(
      String(logged?.msg),
      /HTTP 500 for http:\/\/127\.0\.0\.1:\d+\/api\/method\/projects\.realtime\.broken/,
    );
    alice.disconnect();
  });
});

describe('custom handlers: --dev reloads a changed handler file', () => {
  test('the next event on the same socket runs the new code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-dev-'));
    const file = join(dir, 'live.mjs');
    const write = (version: number) =>
      writeFileSync(
        file,
        `export default (realtime) => { realtime.on('live_version', () => ${version}); };\n`,
      );
    write(1);
    copyFileSync(file, join(dir, 'copy.mjs'));
    const stack = await startStack({ config: { handlers: [`live=${file}`], dev: true } });
    try {
      stack.backend.behaviour.sites[SITE1]!.installedApps = ['frappe', 'live'];
      const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      assert.equal(await ask(alice, 'live_version'), 1);
      write(2);
      await waitFor(async () => ((await ask(alice, 'live_version')) as unknown) === 2, {
        what: 'the reloaded handler',
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      assert.equal(alice.connected, true, 'the socket was not dropped');
      alice.disconnect();
    } finally {
      await stack.close();
    }
  });
});
