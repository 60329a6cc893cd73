import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { nextEvent, waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import {
  type ClientSocket,
  clientSocket,
  recorder,
  type Stack,
  startStack,
} from './helpers/stack.js';

type Answer = { ok: boolean; error?: { code: string; message: string } };
const ask = (socket: ClientSocket, event: string, ...args: unknown[]) =>
  socket.timeout(10_000).emitWithAck(event, ...args) as Promise<Answer>;

// What one socket may do: small limits, so each test reaches them quickly.
describe('per-socket limits: what one client may send and hold', () => {
  let stack: Stack;
  const logs = logSink();
  before(async () => {
    stack = await startStack({
      config: {
        rateLimit: 50,
        rateBurst: 40,
        maxRooms: 20,
        maxOpenDocs: 5,
        recoveryWindowMs: 60_000,
        maxHeldRooms: 1000,
      },
      logger: logs.logger,
    });
    stack.backend.behaviour.sites[SITE1]!.permissions!['alice@example.com']!.push('Note');
  });
  after(() => stack.close());

  const metric = async (pattern: RegExp) => {
    const text = await (await fetch(`${stack.herald.url}/metrics`)).text();
    return Number(pattern.exec(text)?.[1] ?? 0);
  };

  test('a Guest flooding ping is answered HERALD_RATE_LIMITED, then disconnected; others are served', async () => {
    const guest = await stack.connect({ site: SITE1, sid: 'guest' });
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const seen = recorder(guest);
    const gone = nextEvent<[string]>(guest, 'disconnect');
    for (let i = 0; i < 1000 && guest.connected; i += 1) guest.emit('ping');
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
    const pongs = seen.of('pong').length;
    assert.ok(pongs >= 40 && pongs < 1000, `${pongs} pongs: the burst, not the flood`);
    const refused = seen.of('herald_error') as [{ event: string; error: { code: string } }][];
    assert.ok(refused.length > 0);
    assert.equal(refused[0]![0].error.code, 'HERALD_RATE_LIMITED');
    assert.equal(refused[0]![0].event, 'ping');
    assert.ok(logs.lines.some((l) => /kept sending past its rate limit/.test(l.msg)));
    assert.equal(await metric(/herald_sockets_dropped_total\{reason="rate_limited"\} (\d+)/), 1);
    // Meanwhile another socket is answered as ever.
    assert.deepEqual(await ask(alice, 'ping'), { ok: true });
    alice.disconnect();
  });

  test('a socket within its burst is never limited, and its budget comes back with time', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const answers = await Promise.all(Array.from({ length: 30 }, () => ask(alice, 'ping')));
    assert.ok(answers.every((a) => a.ok));
    // 30 more right away: about 10 fit in what is left of the burst; the rest are refused.
    const more = await Promise.all(Array.from({ length: 30 }, () => ask(alice, 'ping')));
    const limited = more.filter((a) => a.error?.code === 'HERALD_RATE_LIMITED').length;
    assert.ok(limited > 0 && limited <= 20, `${limited} limited`);
    assert.match(more.find((a) => !a.ok)!.error!.message, /more than 50 events a second/);
    // At 50 a second the budget refills: a request is answered again.
    await waitFor(async () => (await ask(alice, 'ping')).ok, { what: 'the budget back' });
    assert.ok(alice.connected, 'limited but not dropped: it did not keep going');
    alice.disconnect();
  });

  test('rooms: past --max-rooms a subscribe joins nothing and is answered HERALD_LIMIT_REACHED', async () => {
    const guest = await stack.connect({ site: SITE1, sid: 'guest' });
    const server = stack.herald.io.of(`/${SITE1}`).sockets.get(guest.id!)!;
    // Its own room and its automatic rooms (user:Guest, website) count too.
    const automatic = server.rooms.size;
    assert.equal(automatic, 3);
    const answers: Answer[] = [];
    for (let i = 0; i < 25; i += 1) answers.push(await ask(guest, 'task_subscribe', `task-${i}`));
    assert.equal(answers.filter((a) => a.ok).length, 20 - automatic);
    const refused = answers.find((a) => !a.ok)!;
    assert.equal(refused.error!.code, 'HERALD_LIMIT_REACHED');
    assert.match(refused.error!.message, /already holds 20 rooms.*--max-rooms.*nothing was joined/);
    const [socket] = await stack.herald.io
      .of(`/${SITE1}`)
      .in(`task_progress:task-0`)
      .fetchSockets();
    assert.equal(socket!.rooms.size, 20);
    assert.ok(!socket!.rooms.has('task_progress:task-24'));
    // A room it already has is no new room: still fine; leaving one makes room for another.
    assert.deepEqual(await ask(guest, 'task_subscribe', 'task-0'), { ok: true });
    assert.deepEqual(await ask(guest, 'task_unsubscribe', 'task-0'), { ok: true });
    assert.deepEqual(await ask(guest, 'task_subscribe', 'task-24'), { ok: true });
    guest.disconnect();
  });

  test('open documents: past --max-open-docs a doc_open is refused and joins nothing', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    for (let i = 0; i < 5; i += 1) assert.ok((await ask(alice, 'doc_open', 'Note', `N-${i}`)).ok);
    const sixth = await ask(alice, 'doc_open', 'Note', 'N-5');
    assert.equal(sixth.error?.code, 'HERALD_LIMIT_REACHED');
    assert.match(sixth.error!.message, /doc_open: this socket already holds 5 open documents/);
    const viewing = await stack.herald.io.of(`/${SITE1}`).in('open_doc:Note/N-5').fetchSockets();
    assert.equal(viewing.length, 0);
    // Opening one it has open again is fine; closing one makes room.
    assert.ok((await ask(alice, 'doc_open', 'Note', 'N-0')).ok);
    assert.ok((await ask(alice, 'doc_close', 'Note', 'N-0')).ok);
    assert.ok((await ask(alice, 'doc_open', 'Note', 'N-5')).ok);
    alice.disconnect();
  });

  test('names longer than --max-name-length (140) are refused', async () => {
    const alice = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const long = await ask(alice, 'doc_subscribe', 'Note', 'x'.repeat(141));
    assert.equal(long.error?.code, 'HERALD_BAD_ARGUMENT');
    assert.match(
      long.error!.message,
      /docname must be a non-empty string of at most 140 characters/,
    );
    const task = await ask(alice, 'task_subscribe', 't'.repeat(1000));
    assert.equal(task.error?.code, 'HERALD_BAD_ARGUMENT');
    assert.ok((await ask(alice, 'doc_subscribe', 'Note', 'x'.repeat(140))).ok);
    alice.disconnect();
  });

  test('sessions held for recovery are bounded in all: past --max-held-rooms the oldest is forgotten', async () => {
    const { url, port } = { url: stack.herald.url, port: stack.herald.port! };
    // Each fills its rooms (20 with its own), then loses its connection without a goodbye.
    const dropOut = async () => {
      const client = clientSocket(url, port, { site: SITE1, sid: 'guest' });
      const session = new Promise((resolve) => client.once('herald_session', resolve));
      client.connect();
      await session;
      for (let i = 0; i < 17; i += 1) await ask(client, 'task_subscribe', `held-${i}`);
      const id = client.id!;
      client.io.engine.close();
      await waitFor(() => !stack.herald.io.of(`/${SITE1}`).sockets.has(id), {
        what: 'the server to see it gone',
      });
      return client;
    };
    // 1,000 rooms in all hold 50 sessions of 20: the first of 60 is forgotten, the last is kept.
    const clients: ClientSocket[] = [];
    for (let i = 0; i < 60; i += 1) clients.push(await dropOut());
    const back = (client: ClientSocket) =>
      new Promise<boolean>((resolve) => {
        client.once('connect', () => resolve(client.recovered));
        client.connect();
      });
    assert.equal(await back(clients.at(-1)!), true, 'the newest session is recovered');
    assert.equal(await back(clients[0]!), false, 'the oldest was forgotten');
    for (const client of clients) client.disconnect();
  });
});
