import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nextEvent, waitFor } from '@herald/testkit';
import { pino } from 'pino';
import { SITE1, SITE2 } from './helpers/fixtures.js';
import { recorder, type Stack, startStack } from './helpers/stack.js';

const BENCH = fileURLToPath(new URL('./fixtures/bench', import.meta.url));

describe('legacy app handlers (apps/<app>/realtime/handlers.js)', () => {
  let stack: Stack;
  const logs: { msg: string; app?: string }[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    stack = await startStack({ config: { bench: BENCH }, logger: pino({ level: 'info' }, sink) });
    const sites = stack.backend.behaviour.sites;
    sites[SITE1]!.installedApps = ['frappe', 'chat', 'broken', 'badsetup', 'missing_app'];
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
      installed_apps: ['frappe', 'chat', 'broken', 'badsetup', 'missing_app'],
      has_sid: true,
    });
    const permission = nextEvent(alice, 'chat_permission');
    alice.emit('chat_can_read', 'ToDo', 'TD-1');
    assert.equal((await permission)[0], true);
    const denied = nextEvent(alice, 'chat_permission');
    alice.emit('chat_can_read', 'Salary Slip', 'SS-1');
    assert.equal((await denied)[0], false);
    const info = nextEvent(alice, 'chat_user_info');
    alice.emit('chat_request');
    assert.equal((await info)[0], 'alice@example.com');
    alice.disconnect();
  });

  test('a handler that throws is logged and the socket keeps working', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    alice.emit('chat_throw');
    await waitFor(() => logs.some((l) => l.app === 'chat' && /failed/.test(l.msg)), {
      what: 'the failure log',
    });
    const pong = nextEvent(alice, 'pong');
    alice.emit('ping');
    await pong;
    alice.disconnect();
  });

  test('load and setup errors are logged with the app name, never fatal; frappe is never loaded', async () => {
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    assert.ok(logs.some((l) => l.app === 'broken' && /failed to load/.test(l.msg)));
    assert.ok(logs.some((l) => l.app === 'badsetup' && /failed to set up/.test(l.msg)));
    assert.ok(!logs.some((l) => l.app === 'frappe'));
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
