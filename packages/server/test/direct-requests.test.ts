import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import WebSocket from 'ws';
import { SITE1 } from './helpers/fixtures.js';
import { type ClientSocket, type Stack, startStack } from './helpers/stack.js';

/** What /metrics says of the requests taken straight from the websocket. */
async function directCount(stack: Stack): Promise<number> {
  const text = await (await fetch(`${stack.herald.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('herald_direct_requests_total '));
  assert.ok(line, 'herald_direct_requests_total is in /metrics');
  return Number(line.split(' ')[1]);
}

const ask = (client: ClientSocket, event: string, ...args: unknown[]) =>
  client.timeout(10_000).emitWithAck(event, ...args);

/** A desk page's requests, a denial and bad arguments among them, and what a viewer is told. */
async function deskRequests(stack: Stack): Promise<unknown[]> {
  const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
  const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
  const told: unknown[] = [];
  alice.on('doc_viewers', (viewers) => told.push(viewers));
  let pongs = 0;
  alice.on('pong', () => {
    pongs += 1;
  });
  const answers = [
    await ask(alice, 'doctype_subscribe', 'ToDo'),
    await ask(alice, 'doc_subscribe', 'ToDo', 'T-1'),
    await ask(alice, 'doc_open', 'ToDo', 'T-1'),
    await ask(bob, 'doc_subscribe', 'ToDo', 'T-1'),
    await ask(bob, 'doc_open', 'ToDo', 'T-1'),
    await ask(alice, 'doc_subscribe', 'Note', 'N-2'),
    await ask(alice, 'doc_open', 'ToDo'),
    await ask(alice, 'task_subscribe', 'task-1'),
    await ask(alice, 'ping'),
    await ask(bob, 'doc_close', 'ToDo', 'T-1'),
  ];
  await waitFor(() => told.length === 2 && pongs === 1, { what: 'the viewers and the pong' });
  alice.disconnect();
  bob.disconnect();
  return [...answers, ...told];
}

describe('core requests taken straight from the websocket', () => {
  test('are answered as through Socket.IO: successes, a denial, bad arguments, viewers and pong alike', async () => {
    const results: Record<string, { answers: unknown[]; taken: number }> = {};
    for (const directRequests of [true, false]) {
      const stack = await startStack({ config: { directRequests } });
      try {
        const answers = await deskRequests(stack);
        results[String(directRequests)] = { answers, taken: await directCount(stack) };
      } finally {
        await stack.close();
      }
    }
    const direct = results.true!;
    const through = results.false!;
    assert.deepEqual(direct.answers, through.answers);
    assert.deepEqual(direct.answers.slice(0, 5), [
      { ok: true },
      { ok: true },
      { ok: true },
      { ok: true },
      { ok: true },
    ]);
    assert.equal(
      (direct.answers[5] as { error: { code: string } }).error.code,
      'HERALD_PERMISSION_DENIED',
    );
    assert.equal(
      (direct.answers[6] as { error: { code: string } }).error.code,
      'HERALD_BAD_ARGUMENT',
    );
    assert.deepEqual(direct.answers.slice(10), [
      { doctype: 'ToDo', docname: 'T-1', users: ['alice@example.com', 'bob@example.com'] },
      { doctype: 'ToDo', docname: 'T-1', users: ['alice@example.com'] },
    ]);
    assert.equal(direct.taken, 10);
    assert.equal(through.taken, 0);
  });

  test('go through Socket.IO when a middleware, another catch-all listener or a listener of the event could see them', async () => {
    const stack = await startStack();
    try {
      const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      const socket = stack.herald.io.of(`/${SITE1}`).sockets.get(client.id!)!;
      assert.deepEqual(await ask(client, 'doctype_subscribe', 'ToDo'), { ok: true });
      assert.equal(await directCount(stack), 1);

      const seen: string[] = [];
      const middleware = ([event]: unknown[], next: (err?: Error) => void) => {
        seen.push(`middleware ${event}`);
        next();
      };
      socket.use(middleware);
      assert.deepEqual(await ask(client, 'doc_subscribe', 'ToDo', 'T-1'), { ok: true });
      (socket as unknown as { fns: unknown[] }).fns = [];

      const catchAll = (event: string) => seen.push(`catch-all ${event}`);
      socket.onAny(catchAll);
      assert.deepEqual(await ask(client, 'doc_subscribe', 'ToDo', 'T-2'), { ok: true });
      socket.offAny(catchAll);

      const listener = () => seen.push('listener doc_subscribe');
      socket.on('doc_subscribe', listener);
      assert.deepEqual(await ask(client, 'doc_subscribe', 'ToDo', 'T-3'), { ok: true });
      socket.off('doc_subscribe', listener);

      assert.deepEqual(seen, [
        'middleware doc_subscribe',
        'catch-all doc_subscribe',
        'listener doc_subscribe',
      ]);
      assert.equal(await directCount(stack), 1, 'none of the three was taken directly');
      assert.deepEqual(await ask(client, 'doc_subscribe', 'ToDo', 'T-4'), { ok: true });
      assert.equal(await directCount(stack), 2, 'taken directly again once they are gone');
      client.disconnect();
    } finally {
      await stack.close();
    }
  });

  test('keep their place among requests that go through Socket.IO (binary arguments), and polling goes through it', async () => {
    // Node's polling transport cannot set Host: the site comes from default_site for 127.0.0.1.
    const stack = await startStack({ config: { defaultSite: SITE1 } });
    try {
      const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      const order: string[] = [];
      const sent = [
        ask(client, 'doc_subscribe', 'ToDo', Buffer.from('T-1')).then(() => order.push('binary 1')),
        ask(client, 'doctype_subscribe', 'ToDo').then(() => order.push('text 2')),
        ask(client, 'doc_subscribe', Buffer.from('ToDo'), 'T-3').then(() => order.push('binary 3')),
        ask(client, 'doc_subscribe', 'ToDo', 'T-4').then(() => order.push('text 4')),
      ];
      const answers = await Promise.all(sent);
      assert.equal(answers.length, 4);
      assert.deepEqual(order, ['binary 1', 'text 2', 'binary 3', 'text 4']);
      assert.equal(await directCount(stack), 2, 'the two text requests were taken directly');

      const polling = await stack.connect({
        site: SITE1,
        sid: 'sid-bob',
        transports: ['polling'],
        host: null,
        origin: null,
      });
      assert.deepEqual(await ask(polling, 'doctype_subscribe', 'ToDo'), { ok: true });
      assert.equal(await directCount(stack), 2, 'a polling request went through Socket.IO');

      // A desk client starts with polling and upgrades: its requests are taken directly after.
      const upgrading = await stack.connect({
        site: SITE1,
        sid: 'sid-bob',
        transports: ['polling', 'websocket'],
        host: null,
        origin: null,
      });
      await waitFor(() => upgrading.io.engine.transport.name === 'websocket', {
        what: 'the upgrade to websocket',
      });
      assert.deepEqual(await ask(upgrading, 'doctype_subscribe', 'ToDo'), { ok: true });
      assert.equal(await directCount(stack), 3);
      client.disconnect();
      polling.disconnect();
      upgrading.disconnect();
    } finally {
      await stack.close();
    }
  });

  test('a frame that does not parse is refused by Socket.IO as before, and the server goes on', async () => {
    const stack = await startStack();
    try {
      const port = stack.herald.port!;
      const raw = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
        headers: {
          host: `${SITE1}:${port}`,
          origin: `http://${SITE1}:${port}`,
          cookie: 'sid=sid-alice',
        },
      });
      const frames: string[] = [];
      raw.on('message', (data) => frames.push(String(data)));
      const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
      await waitFor(() => frames.some((f) => f.startsWith('0{')), { what: 'the open packet' });
      raw.send(`40/${SITE1},`);
      await waitFor(() => frames.some((f) => f.startsWith(`40/${SITE1},{`)), {
        what: 'the namespace connect',
      });
      // One request that parses, then one that does not.
      raw.send(`42/${SITE1},7["doctype_subscribe","ToDo"]`);
      await waitFor(() => frames.includes(`43/${SITE1},7[{"ok":true}]`), {
        what: 'the answer, encoded as Socket.IO encodes it',
      });
      raw.send(`42/${SITE1},8["doctype_subscribe","ToDo"`);
      await closed;
      assert.equal(await directCount(stack), 1);
      const client = await stack.connect({ site: SITE1, sid: 'sid-bob' });
      assert.deepEqual(await ask(client, 'doctype_subscribe', 'ToDo'), { ok: true });
      client.disconnect();
    } finally {
      await stack.close();
    }
  });
});
