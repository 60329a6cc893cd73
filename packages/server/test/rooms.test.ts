import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nextEvent, waitFor } from '@herald/testkit';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { type ClientSocket, recorder, type Stack, startStack } from './helpers/stack.js';

/** Emits with an acknowledgement and resolves with the server's answer. */
const ask = (socket: ClientSocket, event: string, ...args: unknown[]) =>
  socket.timeout(10_000).emitWithAck(event, ...args) as Promise<{
    ok: boolean;
    error?: { code: string; message: string };
  }>;

describe('rooms and client events', () => {
  let stack: Stack;
  const publish = (room: string, event: string, message: unknown, site = SITE1) =>
    stack.herald.publish({ event, message, room, namespace: site });
  /** Publishes to each socket's own user room after everything else: the order makes absence observable. */
  const flush = async (sockets: [ClientSocket, ReturnType<typeof recorder>, string][]) => {
    for (const [, , user] of sockets) await publish(`user:${user}`, 'flush', user);
    await waitFor(() => sockets.every(([, r]) => r.of('flush').length > 0), {
      what: 'flush events',
    });
  };

  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  test('ping gets pong', async () => {
    const socket = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const pong = nextEvent(socket, 'pong');
    socket.emit('ping');
    const args = await pong;
    // No payload; with connection state recovery on, Socket.IO adds its offset (a string).
    assert.ok(
      args.length === 0 || (args.length === 1 && typeof args[0] === 'string'),
      `pong args: ${JSON.stringify(args)}`,
    );
    socket.disconnect();
  });

  test('automatic rooms by user type: System User, Website User, Guest', async () => {
    const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
    const carol = await stack.connect({ site: SITE1, sid: 'sid-carol' });
    const guest = await stack.connect({ site: SITE1, sid: 'Guest' });
    const [ra, rc, rg] = [recorder(admin), recorder(carol), recorder(guest)];
    await publish('all', 'to_all', 1);
    await publish('website', 'to_website', 2);
    await publish('user:Guest', 'to_guests', 3);
    await flush([
      [admin, ra, 'Administrator'],
      [carol, rc, 'carol@example.com'],
      [guest, rg, 'Guest'],
    ]);
    assert.deepEqual(
      ra.events.map((e) => e.event),
      ['to_all', 'to_website', 'flush'],
    );
    assert.deepEqual(
      rc.events.map((e) => e.event),
      ['to_website', 'flush'],
      'a Website User is not in "all"',
    );
    assert.deepEqual(
      rg.events.map((e) => e.event),
      ['to_website', 'to_guests', 'flush'],
    );
    for (const s of [admin, carol, guest]) s.disconnect();
  });

  test('doctype_subscribe: allowed joins the room, denied answers through the ack', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const r = recorder(alice);
    assert.deepEqual(await ask(alice, 'doctype_subscribe', 'ToDo'), { ok: true });
    const denied = await ask(alice, 'doctype_subscribe', 'Salary Slip');
    assert.equal(denied.ok, false);
    assert.equal(denied.error?.code, 'HERALD_PERMISSION_DENIED');
    assert.match(denied.error!.message, /alice@example\.com is not permitted to read Salary Slip/);
    await publish('doctype:ToDo', 'list_update', { doctype: 'ToDo', name: 'TD-1' });
    await publish('doctype:Salary Slip', 'list_update', { doctype: 'Salary Slip', name: 'SS-1' });
    await flush([[alice, r, 'alice@example.com']]);
    assert.deepEqual(r.of('list_update'), [[{ doctype: 'ToDo', name: 'TD-1' }]]);

    assert.deepEqual(await ask(alice, 'doctype_unsubscribe', 'ToDo'), { ok: true });
    await publish('doctype:ToDo', 'list_update', { doctype: 'ToDo', name: 'TD-2' });
    await publish('user:alice@example.com', 'flush2', 1);
    await waitFor(() => r.of('flush2').length === 1, { what: 'flush2' });
    assert.equal(r.of('list_update').length, 1, 'nothing after unsubscribing');
    alice.disconnect();
  });

  test('a denied subscribe without an ack callback is answered with herald_error', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const error = nextEvent<[{ ok: boolean; event: string; error: { code: string } }]>(
      bob,
      'herald_error',
    );
    bob.emit('doc_subscribe', 'Note', 'N-1');
    const [body] = await error;
    assert.equal(body.ok, false);
    assert.equal(body.event, 'doc_subscribe');
    assert.equal(body.error.code, 'HERALD_PERMISSION_DENIED');
    bob.disconnect();
  });

  test('doc_subscribe: allowed per document, and a numeric docname', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const admin = await stack.connect({ site: SITE1, sid: 'sid-admin' });
    const [ra, rb] = [recorder(alice), recorder(admin)];
    assert.deepEqual(await ask(alice, 'doc_subscribe', 'Note', 'N-1'), { ok: true });
    assert.equal(
      (await ask(alice, 'doc_subscribe', 'Note', 'N-2')).error?.code,
      'HERALD_PERMISSION_DENIED',
    );
    assert.deepEqual(await ask(admin, 'doc_subscribe', 'Item', 42), { ok: true });
    await publish('doc:Note/N-1', 'doc_update', { doctype: 'Note', name: 'N-1' });
    await publish('doc:Note/N-2', 'doc_update', { doctype: 'Note', name: 'N-2' });
    await publish('doc:Item/42', 'doc_update', { doctype: 'Item', name: 42 });
    await flush([
      [alice, ra, 'alice@example.com'],
      [admin, rb, 'Administrator'],
    ]);
    assert.deepEqual(ra.of('doc_update'), [[{ doctype: 'Note', name: 'N-1' }]]);
    assert.deepEqual(rb.of('doc_update'), [[{ doctype: 'Item', name: 42 }]]);
    assert.deepEqual(await ask(alice, 'doc_unsubscribe', 'Note', 'N-1'), { ok: true });
    alice.disconnect();
    admin.disconnect();
  });

  test("one socket's permission checks overlap, while its answers and room changes keep the order it sent them in", async () => {
    const socket = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const asked = (name: string) =>
      stack.backend.requests.some(
        (r) => r.path === '/api/method/frappe.realtime.has_permission' && r.query.name === name,
      );
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The web server holds its answer for the first document until released.
    stack.backend.behaviour = {
      ...stack.backend.behaviour,
      onRequest: (request) => (request.query.name === 'TD-SLOW' ? held : undefined),
    };
    try {
      const answered: string[] = [];
      const send = (event: string, docname: string) =>
        (
          socket.timeout(10_000).emitWithAck(event, 'ToDo', docname) as Promise<{ ok: boolean }>
        ).then((reply) => {
          answered.push(`${event} ${docname}`);
          return reply;
        });
      const replies = Promise.all([
        send('doc_subscribe', 'TD-SLOW'),
        send('doc_subscribe', 'TD-FAST'),
        send('doc_unsubscribe', 'TD-SLOW'),
      ]);
      // The second check reaches the web server while the first is still unanswered.
      await waitFor(() => asked('TD-FAST'), { what: 'the second check, before the first answer' });
      assert.deepEqual(answered, []);
      release();
      assert.deepEqual(await replies, [{ ok: true }, { ok: true }, { ok: true }]);
      assert.deepEqual(answered, [
        'doc_subscribe TD-SLOW',
        'doc_subscribe TD-FAST',
        'doc_unsubscribe TD-SLOW',
      ]);
      // The unsubscribe came after the subscribe it follows: only TD-FAST's room is kept.
      const whoami = (await socket.timeout(10_000).emitWithAck('herald_whoami')) as {
        rooms: string[];
      };
      assert.ok(whoami.rooms.includes('doc:ToDo/TD-FAST'), whoami.rooms.join(', '));
      assert.ok(!whoami.rooms.includes('doc:ToDo/TD-SLOW'), whoami.rooms.join(', '));
    } finally {
      release();
      stack.backend.behaviour = { ...stack.backend.behaviour, onRequest: undefined };
      socket.disconnect();
    }
  });

  test('a failed permission check is an error, never an allow', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    stack.backend.behaviour = { ...stack.backend.behaviour, failPermission: true };
    try {
      const answer = await ask(alice, 'doctype_subscribe', 'ToDo');
      assert.equal(answer.error?.code, 'HERALD_PERMISSION_CHECK_FAILED');
      // The client is told what failed, not the backend's address or answer (those are logged).
      assert.equal(
        answer.error!.message,
        'could not check read permission on ToDo: the permission check could not be completed',
      );
    } finally {
      stack.backend.behaviour = { ...stack.backend.behaviour, failPermission: false };
    }
    alice.disconnect();
  });

  test('bad arguments are refused with a specific error', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const noDoctype = await ask(alice, 'doctype_subscribe');
    assert.equal(noDoctype.error?.code, 'HERALD_BAD_ARGUMENT');
    assert.equal(
      noDoctype.error?.message,
      'doctype_subscribe: doctype must be a non-empty string of at most 140 characters (got nothing)',
    );
    const objectName = await ask(alice, 'doc_subscribe', 'ToDo', { name: 'x' });
    assert.match(objectName.error!.message, /doc_subscribe: docname must be .* \(got a object\)/);
    const pong = nextEvent(alice, 'pong');
    alice.emit('ping');
    await pong;
    alice.disconnect();
  });

  test('task rooms: task_subscribe and progress_subscribe join, task_unsubscribe leaves', async () => {
    const carol = await stack.connect({ site: SITE1, sid: 'sid-carol' });
    const r = recorder(carol);
    assert.deepEqual(await ask(carol, 'task_subscribe', 'job-1'), { ok: true });
    assert.deepEqual(await ask(carol, 'progress_subscribe', 'job-2'), { ok: true });
    await publish('task_progress:job-1', 'task_progress', { percent: 10 });
    await publish('task_progress:job-2', 'progress', { percent: 20 });
    await flush([[carol, r, 'carol@example.com']]);
    assert.deepEqual(r.of('task_progress'), [[{ percent: 10 }]]);
    assert.deepEqual(r.of('progress'), [[{ percent: 20 }]]);
    assert.deepEqual(await ask(carol, 'task_unsubscribe', 'job-1'), { ok: true });
    await publish('task_progress:job-1', 'task_progress', { percent: 99 });
    await publish('user:carol@example.com', 'flush2', 1);
    await waitFor(() => r.of('flush2').length === 1, { what: 'flush2' });
    assert.equal(r.of('task_progress').length, 1);
    carol.disconnect();
  });

  test("a cookie valid on site A gets none of site B's events", async () => {
    // sid-admin is a session of site1; presented to site2 it is unknown there, hence Guest.
    const port = stack.herald.port!;
    const onSite2 = await stack.connect({
      site: SITE2,
      sid: 'sid-admin',
      host: `${SITE2}:${port}`,
    });
    const r = recorder(onSite2);
    await publish('user:Administrator', 'secret', 'site2 admin only', SITE2);
    await publish('all', 'secret', 'site2 desk only', SITE2);
    await publish('user:Guest', 'flush', 1, SITE2);
    await waitFor(() => r.of('flush').length === 1, { what: 'flush' });
    assert.equal(r.of('secret').length, 0);
    onSite2.disconnect();
  });
});
