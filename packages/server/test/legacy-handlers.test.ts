import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '@herald/server';
import { nextEvent, waitFor } from '@herald/testkit';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import { recorder, type Stack, startStack } from './helpers/stack.js';

const BENCH = fileURLToPath(new URL('./fixtures/bench', import.meta.url));

describe('legacy app handlers (apps/<app>/realtime/handlers.js)', () => {
  let stack: Stack;
  const logs = logSink();
  before(async () => {
    stack = await startStack({ config: { bench: BENCH }, logger: logs.logger });
    const sites = stack.backend.behaviour.sites;
    sites[SITE1]!.installedApps = [
      'frappe',
      'chat',
      'broken',
      'badsetup',
      'missing_app',
      'helpdesk',
    ];
    // HD-0001 is alice's and bob's; mallory, a System User too, is denied it.
    sites[SITE1]!.permissions!['alice@example.com']!.push('HD Ticket/HD-0001');
    sites[SITE1]!.permissions!['bob@example.com']!.push('HD Ticket/HD-0001');
    sites[SITE1]!.sessions!['sid-mallory'] = {
      user: 'mallory@example.com',
      user_type: 'System User',
    };
    sites[SITE2]!.installedApps = ['frappe'];
  });
  after(() => stack.close());

  test("an installed app's handler gets upstream's socket fields", async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const reply = nextEvent(alice, 'chat_reply');
    alice.emit('hello_chat');
    const [body] = await reply;
    assert.deepEqual(body, {
      user: 'alice@example.com',
      user_type: 'System User',
      site_name: SITE1,
      installed_apps: ['frappe', 'chat', 'broken', 'badsetup', 'missing_app', 'helpdesk'],
      has_sid: true,
    });
    const permission = nextEvent(alice, 'chat_permission');
    alice.emit('chat_can_read', 'ToDo', 'TD-1');
    assert.equal((await permission)[0], true);
    // A denial never resolves the promise (upstream's contract): the app's code after it never runs.
    const events = recorder(alice);
    const refused = nextEvent(alice, 'herald_error');
    alice.emit('chat_can_read', 'Salary Slip', 'SS-1');
    const [error] = (await refused) as [{ event: string; error: { code: string } }];
    assert.equal(error.event, 'chat_can_read');
    assert.equal(error.error.code, 'HERALD_PERMISSION_DENIED');
    assert.deepEqual(events.of('chat_permission'), []);
    const info = nextEvent(alice, 'chat_user_info');
    alice.emit('chat_request');
    assert.equal((await info)[0], 'alice@example.com');
    alice.disconnect();
  });

  test("helpdesk's handler: has_permission(...).then(join) joins only when the web server allows", async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const mallory = await stack.connect({ site: SITE1, sid: 'sid-mallory' });
    const seen = { alice: recorder(alice), mallory: recorder(mallory) };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Mallory is denied HD-0001: she is told so, and joins nothing.
      const refused = nextEvent(mallory, 'herald_error');
      mallory.emit('helpdesk:join-ticket-room', { id: 'HD-0001' });
      const [error] = (await refused) as [{ event: string; error: { code: string } }];
      assert.equal(error.event, 'helpdesk:join-ticket-room');
      assert.equal(error.error.code, 'HERALD_PERMISSION_DENIED');
      assert.ok(
        logs.lines.some((l) => /permission refused/.test(l.msg)),
        'the denial is logged',
      );
      // Alice is allowed: she joins, and mallory's earlier attempt told her nothing.
      alice.emit('helpdesk:join-ticket-room', { id: 'HD-0001' });
      await waitFor(
        async () =>
          (await stack.herald.io.of(`/${SITE1}`).in('helpdesk:ticket:HD-0001').fetchSockets())
            .length === 1,
        { what: 'alice in the ticket room' },
      );
      // Bob joins too: alice sees him as a viewer; mallory, who was refused, sees nothing.
      const viewer = nextEvent(alice, 'ticket_viewers');
      bob.emit('helpdesk:join-ticket-room', { id: 'HD-0001' });
      assert.equal(((await viewer)[0] as { user: string }).user, 'bob@example.com');
      // Bob's update reaches alice, and never mallory.
      const update = nextEvent(alice, 'notify_ticket_update');
      bob.emit('helpdesk:notify-ticket-update', { id: 'HD-0001' });
      await update;
      const pong = nextEvent(mallory, 'pong');
      mallory.emit('ping');
      await pong;
      assert.deepEqual(seen.mallory.of('ticket_viewers'), []);
      assert.deepEqual(seen.mallory.of('notify_ticket_update'), []);
      const rooms = await stack.herald.io
        .of(`/${SITE1}`)
        .in('helpdesk:ticket:HD-0001')
        .fetchSockets();
      assert.deepEqual(rooms.map((s) => s.data.user).sort(), [
        'alice@example.com',
        'bob@example.com',
      ]);
      assert.deepEqual(unhandled, []);
      assert.equal(seen.alice.of('herald_error').length, 0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      alice.disconnect();
      bob.disconnect();
      mallory.disconnect();
    }
  });

  test('a handler that throws is logged and the socket keeps working', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    alice.emit('chat_throw');
    await waitFor(() => logs.lines.some((l) => l.app === 'chat' && /failed/.test(l.msg)), {
      what: 'the failure log',
    });
    const pong = nextEvent(alice, 'pong');
    alice.emit('ping');
    await pong;
    alice.disconnect();
  });

  test('load and setup errors are logged with the app name, never fatal; frappe is never loaded', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    assert.ok(logs.lines.some((l) => l.app === 'broken' && /failed to load/.test(l.msg)));
    assert.ok(logs.lines.some((l) => l.app === 'badsetup' && /failed to set up/.test(l.msg)));
    assert.ok(!logs.lines.some((l) => l.app === 'frappe'));
    bob.disconnect();
  });

  test('a load failure is logged with HERALD_HANDLER_LOAD_FAILED and the hint', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const line = logs.lines.find((l) => l.app === 'broken' && /failed to load/.test(l.msg));
    assert.equal(line?.code, 'HERALD_HANDLER_LOAD_FAILED');
    assert.equal(line?.hint, ERRORS.HERALD_HANDLER_LOAD_FAILED.hint);
    bob.disconnect();
  });

  test('a site without the app does not get its handlers', async () => {
    const dave = await stack.connect({ site: SITE2, sid: 'sid-dave' });
    const events = recorder(dave);
    dave.emit('hello_chat');
    // The chat handler answers synchronously: had it run, its reply would precede this pong.
    const pong = nextEvent(dave, 'pong');
    dave.emit('ping');
    await pong;
    assert.deepEqual(events.of('chat_reply'), []);
    dave.disconnect();
  });
});
