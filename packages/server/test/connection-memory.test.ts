import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { waitFor } from '@herald/testkit';
import type { Socket } from 'socket.io-client';
import { SITE1 } from './helpers/fixtures.js';
import { clientSocket, recorder, type Stack, startStack } from './helpers/stack.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/** The Socket.IO server socket of a client socket. */
const serverSide = (stack: Stack, client: Socket) => {
  const socket = stack.herald.io.of(`/${SITE1}`).sockets.get(client.id!);
  assert.ok(socket, 'the server knows the socket');
  return socket;
};

/** Clients made here (not by the stack): closed after the tests, even after a failure. */
const made: Socket[] = [];
/** A client that reconnects at once when its connection is lost. */
const reconnecting = (client: Socket) => {
  client.io.reconnection(true).reconnectionDelay(50).reconnectionDelayMax(100);
  made.push(client);
  return client;
};

describe('what a connection keeps', () => {
  let stack: Stack;
  before(async () => {
    // Node's polling transport cannot set Host: the site comes from default_site for 127.0.0.1.
    // Every viewer change is told at once (the test follows each step of a recovery).
    stack = await startStack({
      config: { recoveryWindowMs: 60_000, defaultSite: SITE1, viewersIntervalMs: 0 },
    });
  });
  after(async () => {
    for (const client of made) client.disconnect();
    await stack.close();
  });

  test('neither the websocket upgrade request nor the first polling request stays in memory', async () => {
    const http = (stack.herald.io as unknown as { httpServer: import('node:http').Server })
      .httpServer;
    const requests: WeakRef<IncomingMessage>[] = [];
    const onUpgrade = (req: IncomingMessage) => requests.push(new WeakRef(req));
    const onRequest = (req: IncomingMessage) => {
      if (req.url?.includes('transport=polling') && !req.url.includes('sid='))
        requests.push(new WeakRef(req));
    };
    http.prependListener('upgrade', onUpgrade);
    http.prependListener('request', onRequest);
    const websocketFirst = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const pollingFirst = await stack.connect({
      site: SITE1,
      sid: 'sid-bob',
      transports: ['polling', 'websocket'],
      host: null,
      origin: null,
    });
    await waitFor(() => pollingFirst.io.engine.transport.name === 'websocket', {
      what: 'the polling client to upgrade',
    });
    http.off('upgrade', onUpgrade);
    http.off('request', onRequest);
    assert.equal(requests.length, 3, 'two upgrades and one first polling request');

    await waitFor(
      async () => {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
        return requests.every((ref) => ref.deref() === undefined);
      },
      { what: 'the requests to be collected' },
    );

    // The connections work as before: events arrive, and a client leaving is noticed.
    const [ra, rb] = [recorder(websocketFirst), recorder(pollingFirst)];
    await stack.herald.publish({ event: 'hello', message: 1, room: 'all', namespace: SITE1 });
    await waitFor(() => ra.of('hello').length === 1 && rb.of('hello').length === 1, {
      what: 'an event on both connections',
    });
    const sockets = stack.herald.io.of(`/${SITE1}`).sockets;
    const before = sockets.size;
    websocketFirst.disconnect();
    pollingFirst.disconnect();
    await waitFor(() => sockets.size === before - 2, { what: 'the server to see both leave' });
  });

  test('server-to-client acknowledgements and the handshake are as Socket.IO makes them', async () => {
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    client.on('question', (n: number, answer: (reply: number) => void) => answer(n * 2));
    const socket = serverSide(stack, client);
    assert.equal(await socket.timeout(5000).emitWithAck('question', 21), 42);
    assert.equal(await socket.timeout(5000).emitWithAck('question', 5), 10);

    const { handshake } = socket;
    assert.equal(handshake.time, new Date(handshake.issued).toString());
    assert.match(handshake.time, /GMT/);
    assert.equal(handshake.headers.cookie, 'sid=sid-alice');
    const json = JSON.parse(JSON.stringify(handshake)) as Record<string, unknown>;
    assert.equal(json.time, handshake.time);
    assert.equal(json.issued, handshake.issued);
    client.disconnect();
  });

  test('sessions that start together share their first event, and each recovers from it', async () => {
    const url = stack.herald.url;
    const port = stack.herald.port!;
    const clients = Array.from({ length: 30 }, () => {
      return reconnecting(clientSocket(url, port, { site: SITE1, sid: 'sid-alice' }));
    });
    const offsets = new Map<Socket, string>();
    for (const client of clients)
      client.on('herald_session', (payload: { recoveryWindowMs: number }, offset: string) => {
        assert.deepEqual(payload, { recoveryWindowMs: 60_000 });
        offsets.set(client, offset);
      });
    for (const client of clients) client.connect();
    await waitFor(() => offsets.size === clients.length, {
      what: 'every session to get its first event',
    });
    const distinct = new Set(offsets.values()).size;
    assert.ok(distinct < clients.length, `${distinct} first events for ${clients.length} sessions`);

    // Each loses its connection; an event for alice is published meanwhile; each comes back
    // recovered and gets it once.
    const seen = clients.map((client) => recorder(client));
    const sockets = stack.herald.io.of(`/${SITE1}`).sockets;
    const before = sockets.size;
    for (const client of clients) client.io.engine.close();
    await waitFor(() => sockets.size === before - clients.length, { what: 'the server to notice' });
    await stack.herald.publish({
      event: 'missed',
      message: 'x',
      room: `user:${ALICE}`,
      namespace: SITE1,
    });
    await waitFor(() => clients.every((client) => client.connected), { what: 'all back' });
    assert.ok(
      clients.every((client) => client.recovered),
      'every session is recovered',
    );
    await waitFor(() => seen.every((r) => r.of('missed').length === 1), {
      what: 'the missed event on every socket',
    });
    for (const client of clients) client.disconnect();
  });

  test('a recovered session with an open document still tells its viewers when it leaves', async () => {
    const alice = reconnecting(
      clientSocket(stack.herald.url, stack.herald.port!, { site: SITE1, sid: 'sid-alice' }),
    );
    const offset = new Promise((resolve) => alice.once('herald_session', resolve));
    alice.connect();
    await offset;
    const bob = await stack.connect({ site: SITE1, sid: 'sid-bob' });
    const rb = recorder(bob);
    const users = () =>
      rb
        .of('doc_viewers')
        .map(([v]) => (v as { users: string[] }).users)
        .at(-1);
    await alice.timeout(10_000).emitWithAck('doc_open', 'ToDo', 'TD-R');
    await bob.timeout(10_000).emitWithAck('doc_open', 'ToDo', 'TD-R');
    await waitFor(() => users()?.length === 2, { what: 'both viewing' });

    alice.io.engine.close();
    await waitFor(() => users()?.join() === BOB, { what: 'alice gone while cut' });
    await waitFor(() => alice.connected, { what: 'alice back' });
    assert.equal(alice.recovered, true);
    await waitFor(() => users()?.length === 2, { what: 'alice viewing again' });

    alice.disconnect();
    await waitFor(() => users()?.join() === BOB, { what: 'bob told alice left' });
    bob.disconnect();
  });
});
