import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Realtime, RealtimeError } from '@herald/client';
import { nextEvent, SITE1, waitFor } from '@herald/testkit';
import { clientFor, collect, type Stack, startStack } from './helpers.js';

describe('the client API against the server', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  const clients: Realtime[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await stack.close();
  });
  const client = (sid: string) => {
    const c = clientFor(stack.herald.url, stack.herald.port!, SITE1, sid);
    clients.push(c);
    return c;
  };
  const publish = (room: string, event: string, message: unknown) =>
    stack.herald.publish({ event, message, room, namespace: SITE1 });

  test('status goes connecting → connected; emit/on/off work (ping, pong)', async () => {
    const alice = client('sid-alice');
    const seen: string[] = [];
    alice.status.subscribe((s) => seen.push(s));
    await waitFor(() => alice.status.get() === 'connected', { what: 'connected' });
    assert.deepEqual(seen, ['connecting', 'connected']);
    const pong = nextEvent(alice.socket, 'pong');
    alice.emit('ping');
    await pong;
    let count = 0;
    const handler = () => {
      count += 1;
    };
    alice.on('hello', handler);
    await publish('user:alice@example.com', 'hello', 1);
    await waitFor(() => count === 1, { what: 'hello' });
    alice.off('hello', handler);
    await publish('user:alice@example.com', 'hello', 2);
    const after = collect(alice, 'after');
    await publish('user:alice@example.com', 'after', 3);
    await waitFor(() => after.length === 1, { what: 'after' });
    assert.equal(count, 1, 'off removed the handler');
    alice.close();
    assert.equal(alice.status.get(), 'offline');
  });

  test('subscriptions resolve when allowed and reject with the server code when denied', async () => {
    const alice = client('sid-alice');
    await alice.doctypeSubscribe('ToDo');
    await alice.docSubscribe('Note', 'N-1');
    await alice.taskSubscribe('job-1');
    await assert.rejects(alice.docSubscribe('Note', 'N-2'), (error: RealtimeError) => {
      assert.ok(error instanceof RealtimeError);
      assert.equal(error.code, 'HERALD_PERMISSION_DENIED');
      assert.match(error.message, /not permitted to read Note N-2/);
      return true;
    });
    await assert.rejects(
      alice.doctypeSubscribe('Salary Slip'),
      /HERALD_PERMISSION_DENIED|not permitted/,
    );
    const [list, doc, task] = [
      collect(alice, 'list_update'),
      collect(alice, 'doc_update'),
      collect(alice, 'task_progress'),
    ];
    await publish('doctype:ToDo', 'list_update', { doctype: 'ToDo', name: 'TD-1' });
    await publish('doc:Note/N-1', 'doc_update', { doctype: 'Note', name: 'N-1', modified: 'now' });
    await publish('task_progress:job-1', 'task_progress', { percent: 50 });
    await waitFor(() => list.length === 1 && doc.length === 1 && task.length === 1, {
      what: 'three events',
    });
    await alice.doctypeUnsubscribe('ToDo');
    await alice.docUnsubscribe('Note', 'N-1');
    await alice.taskUnsubscribe('job-1');
    await publish('doctype:ToDo', 'list_update', { doctype: 'ToDo', name: 'TD-2' });
    const marker = collect(alice, 'marker');
    await publish('user:alice@example.com', 'marker', 1);
    await waitFor(() => marker.length === 1, { what: 'marker' });
    assert.equal(list.length, 1, 'unsubscribed');
    alice.close();
  });

  test('repeated subscriptions are de-duplicated: one server call', async () => {
    const bob = client('sid-bob');
    const before = stack.backend.requests.filter((r) => r.path.endsWith('has_permission')).length;
    await Promise.all([
      bob.docSubscribe('ToDo', 'TD-3'),
      bob.docSubscribe('ToDo', 'TD-3'),
      bob.docSubscribe('ToDo', 'TD-3'),
    ]);
    await bob.docSubscribe('ToDo', 'TD-3');
    assert.equal(
      stack.backend.requests.filter((r) => r.path.endsWith('has_permission')).length - before,
      1,
    );
    bob.close();
  });

  test('docOpen and docClose drive doc_viewers', async () => {
    const alice = client('sid-alice');
    const bob = client('sid-bob');
    const viewers = collect<{ users: string[] }>(alice, 'doc_viewers');
    await alice.docOpen('ToDo', 'TD-4');
    await bob.docOpen('ToDo', 'TD-4');
    await waitFor(() => viewers.length === 1, { what: 'viewers' });
    assert.deepEqual(viewers[0]!.users, ['alice@example.com', 'bob@example.com']);
    await bob.docClose('ToDo', 'TD-4');
    await waitFor(() => viewers.length === 2, { what: 'viewers after close' });
    assert.deepEqual(viewers[1]!.users, ['alice@example.com']);
    alice.close();
    bob.close();
  });

  test('a permanent connect error ends offline, with the error kept', async () => {
    const wrong = clientFor(stack.herald.url, stack.herald.port!, SITE1, 'sid-alice', {
      headers: { host: `${SITE1}:1`, origin: 'http://evil.example', cookie: 'sid=x' },
    });
    await waitFor(() => wrong.status.get() === 'offline', { what: 'offline' });
    assert.equal(wrong.lastError?.message, 'Invalid origin');
    wrong.close();
  });
});
