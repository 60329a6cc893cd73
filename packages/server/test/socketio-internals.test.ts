// The layer over Socket.IO, Engine.IO and ws (src/socketio/), patch by patch: each is installed and
// active on a real server, seen through its own count or an effect only the patch has (the end
// behaviour alone would also hold with the patch off). Run this first after changing a pinned
// version (ARCHITECTURE.md, "Upgrading Socket.IO"): a patch whose shape went away is logged and
// left off, and its test here fails.
//
// Each test names the line to flip to turn its patch off; with it flipped, that test fails (each was
// checked so).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { delay, waitFor } from '@herald/testkit';
import { Server } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import { Decoder } from 'socket.io-parser';
import WebSocket from 'ws';
import { privateSessionId } from '../src/socketio/session-id.js';
import { SITE1 } from './helpers/fixtures.js';
import { logSink } from './helpers/log-sink.js';
import { type ClientSocket, type Stack, startStack } from './helpers/stack.js';
import { countWrites } from './helpers/tcp-writes.js';

const ALICE = 'alice@example.com';

const ask = (client: ClientSocket, event: string, ...args: unknown[]) =>
  client.timeout(10_000).emitWithAck(event, ...args);

/** The server side of a client socket. */
const serverSide = (stack: Stack, client: ClientSocket) => {
  const socket = stack.herald.io.of(`/${SITE1}`).sockets.get(client.id!);
  assert.ok(socket, 'the server knows the socket');
  return socket;
};

/** The TCP socket under a socket.io-client websocket connection (Node's `ws`). */
const clientTcp = (client: ClientSocket) =>
  (client.io.engine.transport as unknown as { ws: { _socket: import('node:net').Socket } }).ws
    ._socket;

/** The `ws` socket and the TCP socket of a server-side socket's websocket. */
type ServerTransport = {
  name: string;
  writable: boolean;
  socket: {
    listeners(event: 'error'): { name: string }[];
    _socket: { _write: unknown; _writev: unknown };
  };
};
const transportOf = (socket: { conn: { transport: unknown } }) =>
  socket.conn.transport as ServerTransport;

/** Connected and idle: its first event arrived, and nothing of the connect is being written. */
async function idle(stack: Stack, clients: ClientSocket[]): Promise<void> {
  await waitFor(
    () =>
      clients.every(
        (c) =>
          (c as unknown as { _lastOffset?: string })._lastOffset &&
          transportOf(serverSide(stack, c)).writable,
      ),
    { what: 'idle connections' },
  );
}

describe('the Socket.IO layer on a real server, patch by patch', () => {
  let stack: Stack;
  const logs = logSink();
  before(async () => {
    // Node's polling transport cannot set Host: the site comes from default_site for 127.0.0.1.
    stack = await startStack({
      config: { recoveryWindowMs: 60_000, defaultSite: SITE1 },
      logger: logs.logger,
    });
  });
  after(() => stack.close());
  const counts = () => stack.herald.socketIo.counts;

  test('with the pinned versions every patch is applied: nothing is missing, nothing logged', () => {
    assert.deepEqual([...stack.herald.socketIo.missing], []);
    assert.deepEqual(
      logs.lines.filter((l) => /not laid out as this Herald expects/.test(l.msg)),
      [],
    );
  });

  // Off: in src/socketio/event-dispatch.ts, `if (layer !== undefined)` -> `if (false)`.
  test('the dispatch skip: a core request that goes through Socket.IO is not dispatched to the socket', async () => {
    // A polling connection: its requests go through Socket.IO's packet path (not direct).
    const client = await stack.connect({
      site: SITE1,
      sid: 'sid-alice',
      transports: ['polling'],
      host: null,
      origin: null,
    });
    const before = counts().dispatchSkipped;
    assert.deepEqual(await ask(client, 'doctype_subscribe', 'ToDo'), { ok: true });
    assert.equal(counts().dispatchSkipped, before + 1);
    client.disconnect();
  });

  // Off: in src/socketio/connection-memory.ts, makeAcksOnFirstUse's setter: `if (layer === undefined)` -> `if (true)`.
  test('the acks trim: a socket has no acknowledgements Map of its own until it sends one', async () => {
    const before = counts().acksDeferred;
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const socket = serverSide(stack, client);
    assert.equal(Object.hasOwn(socket, 'acks'), false);
    assert.ok(counts().acksDeferred > before);
    client.on('question', (n: number, answer: (reply: number) => void) => answer(n * 2));
    assert.equal(await socket.timeout(5000).emitWithAck('question', 21), 42);
    assert.equal(Object.hasOwn(socket, 'acks'), true, 'made on first use');
    client.disconnect();
  });

  // Off: in src/socketio/connection-memory.ts, keepHandshakeTimeAsNumber: `if (layer === undefined) return built;` -> `return built;`.
  test('the handshake trim: its time is made from `issued` when read, not kept', async () => {
    const before = counts().handshakesTrimmed;
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const { handshake } = serverSide(stack, client);
    assert.equal(Object.getOwnPropertyDescriptor(handshake, 'time'), undefined);
    assert.equal(handshake.time, new Date(handshake.issued).toString());
    assert.ok(counts().handshakesTrimmed > before);
    client.disconnect();
  });

  // Off: in src/socketio/connection-memory.ts, leanParser: `if (missing.length > 0)` -> `if (true)`.
  test("the decoder: a connection's decoder is the lean one", async () => {
    const before = counts().leanDecoders;
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const socket = serverSide(stack, client);
    const decoder = (socket.client as unknown as { decoder: object }).decoder;
    assert.ok(decoder instanceof Decoder);
    assert.notEqual(
      Object.getPrototypeOf(decoder),
      Decoder.prototype,
      "a subclass of socket.io-parser's",
    );
    assert.ok(counts().leanDecoders > before);
    client.disconnect();
  });

  // Off: in src/socketio/connection-memory.ts, dropUpgradeErrorListener: `ws.removeListener('error', early);` -> deleted.
  test("the upgrade-error hook: a websocket-first connection loses Engine.IO's early error listener", async () => {
    const before = counts().upgradeErrorListenersDropped;
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const names = transportOf(serverSide(stack, client))
      .socket.listeners('error')
      .map((l) => l.name);
    assert.ok(!names.includes('onUpgradeError'), names.join());
    assert.equal(counts().upgradeErrorListenersDropped, before + 1);
    client.disconnect();
  });

  // Off: in src/socketio/connection-memory.ts, keepRequestFacts: `if (request?.socket && ...)` -> `if (false)`.
  test("the request trim: a connection keeps its request's facts, not the request", async () => {
    const before = counts().requestsReleased;
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const request = serverSide(stack, client).conn.request as object;
    assert.equal(request.constructor.name, 'RequestFacts');
    assert.equal(counts().requestsReleased, before + 1);
    client.disconnect();
  });

  // Off: in src/socketio/adapter.ts, broadcastOneRoomAsIs: `if (opts.rooms.size !== 1 || ...)` -> `if (true)`.
  test('the one-room broadcast: an event to one room goes through its members as they are', async () => {
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const got = new Promise((resolve) => client.once('hello', resolve));
    const before = counts().oneRoomBroadcasts;
    await stack.herald.publish({
      event: 'hello',
      message: 1,
      room: `user:${ALICE}`,
      namespace: SITE1,
    });
    assert.equal(await got, 1);
    assert.ok(counts().oneRoomBroadcasts > before);
    client.disconnect();
  });

  // Off: in src/socketio/adapter.ts, captureIntervals: `intervals.push(interval);` -> deleted.
  test("the adapter's interval capture: the session-aware adapter's sweep is captured (to be stopped on close)", async () => {
    const before = counts().adapterIntervalsCaptured;
    stack.herald.io.of('/interval-capture.local');
    assert.equal(counts().adapterIntervalsCaptured, before + 1);
    // Removed as an idle site namespace: its adapter closes, and the captured interval with it.
    stack.herald.namespaces.sweep(0);
    stack.herald.namespaces.sweep(Number.MAX_SAFE_INTEGER);
  });

  // Off: in src/socketio/write-coalescing.ts, WriteCoalescing.coalesce: `transport.send = coalescedSend;` -> deleted.
  test('write coalescing: a burst to one socket is held in its corked TCP socket and written once', async () => {
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    await idle(stack, [client]);
    const socket = serverSide(stack, client);
    const coalescing = stack.herald.socketIo.coalescing;
    assert.ok(coalescing);
    const held = coalescing.held;
    const writes = countWrites(transportOf(socket).socket._socket);
    for (let i = 0; i < 10; i += 1) socket.emit('tick', i);
    assert.equal(coalescing.held, held + 1);
    assert.equal(writes(), 0, 'held until the end of the turn');
    await waitFor(() => writes() === 1, { what: 'the one write' });
    client.disconnect();
  });

  // Off: in src/socketio/direct-requests.ts, offerFrames: `takeFrame(engine, this, data)` -> `false`.
  test('direct requests: a core request on a websocket is taken from the transport', async () => {
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const direct = stack.herald.socketIo.direct;
    assert.ok(direct);
    const before = direct.taken;
    const dispatched = counts().dispatchSkipped;
    assert.deepEqual(await ask(client, 'doctype_subscribe', 'ToDo'), { ok: true });
    assert.equal(direct.taken, before + 1);
    assert.equal(counts().dispatchSkipped, dispatched, 'not through Socket.IO');
    client.disconnect();
  });

  // Off: in src/socketio/duplicate-connect.ts, closeReplaced: `if (!layer?.duplicateConnects) return;` -> `return;`.
  test('duplicate CONNECT: a second CONNECT to a namespace replaces the socket, the connection stays', async () => {
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
    let closed = false;
    raw.once('close', () => {
      closed = true;
    });
    try {
      await waitFor(() => frames.some((f) => f.startsWith('0{')), { what: 'the open packet' });
      const connects = () => frames.filter((f) => f.startsWith(`40/${SITE1},{`)).length;
      raw.send(`40/${SITE1},`);
      await waitFor(() => connects() === 1, { what: 'the first CONNECT' });
      const before = counts().duplicateConnectsReplaced;
      raw.send(`40/${SITE1},`);
      await waitFor(() => connects() === 2 || closed, { what: 'the second CONNECT' });
      assert.equal(closed, false);
      assert.equal(counts().duplicateConnectsReplaced, before + 1);
    } finally {
      raw.close();
    }
  });

  // Off: in src/socketio/layer.ts, the constructor: `encoder.length > 0` -> `true` (no guard).
  test('the encode guard: a packet that cannot be encoded is counted and sent to nobody', async () => {
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const socket = serverSide(stack, client);
    const before = counts().encodeFailures;
    socket.emit('bad', { n: 10n });
    assert.equal(counts().encodeFailures, before + 1);
    assert.deepEqual(await ask(client, 'ping'), { ok: true }, 'the connection goes on');
    client.disconnect();
  });

  // Not a patch but a private field read (src/socketio/session-id.ts): cluster mode's socket records
  // are keyed by it. Off: privateSessionId returns undefined.
  test("the private session id: Socket.IO's socket.pid, the id the client presents on reconnect", async () => {
    const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
    const pid = privateSessionId(serverSide(stack, client));
    assert.ok(pid);
    assert.equal(pid, (client as unknown as { _pid?: string })._pid);
    client.disconnect();
  });
});

// Off: in src/socketio/outgoing-limit.ts, limitOutgoing's 'connection' listener: `socket[LIMIT] = limit;` -> deleted.
describe('the outgoing limit on a real server', () => {
  test('a client that stops reading has its reads paused, then is dropped past --max-outgoing-bytes', async () => {
    const stack = await startStack({
      config: { maxOutgoingBytes: 1024 * 1024, maxMessageBytes: 64 * 1024, recoveryWindowMs: 0 },
    });
    try {
      const slow = await stack.connect({ site: SITE1, sid: 'sid-alice' });
      const outgoing = stack.herald.socketIo.outgoing;
      assert.ok(outgoing);
      clientTcp(slow).pause();
      const body = 'x'.repeat(10_000);
      const nsp = stack.herald.io.of(`/${SITE1}`);
      const id = slow.id!;
      for (let sent = 0; nsp.sockets.has(id) && sent < 6000; sent += 1) {
        await stack.herald.publish({
          event: 'bulk',
          message: { body },
          room: `user:${ALICE}`,
          namespace: SITE1,
        });
        if (sent % 20 === 0) await delay(1);
      }
      assert.ok(outgoing.paused >= 1, 'its reads were paused');
      assert.equal(outgoing.dropped, 1);
    } finally {
      await stack.close();
    }
  });
});

describe('two servers in one process', () => {
  // Failed before each server had its own held list: 10 sockets of one and 10 of the other made
  // one group of 16, written before the turn ended.
  test('each holds its own writes: 10 sockets on each, an event to all 20 in one turn, all held to the end of the turn', async () => {
    const one = await startStack({ config: { writeCoalescing: true } });
    const two = await startStack({ config: { writeCoalescing: true } });
    try {
      const clients = await Promise.all(
        [one, two].map((stack) =>
          Promise.all(
            Array.from({ length: 10 }, () => stack.connect({ site: SITE1, sid: 'sid-alice' })),
          ),
        ),
      );
      await idle(one, clients[0]!);
      await idle(two, clients[1]!);
      const sockets = [one, two].flatMap((stack, i) =>
        clients[i]!.map((c) => serverSide(stack, c)),
      );
      const writes = sockets.map((s) => countWrites(transportOf(s).socket._socket));
      for (const s of sockets) s.emit('tick', 1);
      assert.deepEqual(
        writes.map((w) => w()),
        Array(20).fill(0),
        'no server held 16',
      );
      await waitFor(() => writes.every((w) => w() === 1), { what: 'every socket written once' });
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('one with write coalescing and direct requests off, one with them on: each behaves as configured', async () => {
    const on = await startStack();
    const off = await startStack({ config: { writeCoalescing: false, directRequests: false } });
    try {
      assert.equal(off.herald.socketIo.coalescing, undefined);
      assert.equal(off.herald.socketIo.direct, undefined);
      const [a, b] = await Promise.all([
        on.connect({ site: SITE1, sid: 'sid-alice' }),
        off.connect({ site: SITE1, sid: 'sid-alice' }),
      ]);
      await idle(on, [a!]);
      await idle(off, [b!]);
      assert.deepEqual(await ask(a!, 'doctype_subscribe', 'ToDo'), { ok: true });
      assert.deepEqual(await ask(b!, 'doctype_subscribe', 'ToDo'), { ok: true });
      assert.equal(on.herald.socketIo.direct?.taken, 1);
      assert.equal(off.herald.socketIo.counts.dispatchSkipped, 1, 'through Socket.IO');
      assert.equal(on.herald.socketIo.counts.dispatchSkipped, 0);

      const [sa, sb] = [serverSide(on, a!), serverSide(off, b!)];
      const [wa, wb] = [sa, sb].map((s) => countWrites(transportOf(s).socket._socket));
      for (let i = 0; i < 10; i += 1) {
        sa.emit('tick', i);
        sb.emit('tick', i);
      }
      assert.equal(wa!(), 0, 'held by the server with write coalescing');
      assert.equal(wb!(), 1, 'written in the emit by the other');
    } finally {
      await on.close();
      await off.close();
    }
  });

  test('a plain Socket.IO server beside Herald is left as Socket.IO made it', async () => {
    const herald = await startStack();
    const http = createServer();
    const io = new Server(http);
    const connected = new Promise<import('socket.io').Socket>((resolve) =>
      io.on('connection', resolve),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    const client = connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    try {
      const socket = await connected;
      assert.equal(Object.hasOwn(socket, 'acks'), true);
      assert.equal(
        typeof Object.getOwnPropertyDescriptor(socket.handshake, 'time')?.value,
        'string',
      );
      const heard = new Promise((resolve) => socket.on('probe', resolve));
      client.emit('probe', 1);
      assert.equal(await heard, 1);
    } finally {
      client.disconnect();
      await io.close();
      await herald.close();
    }
  });
});
