import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { Adapter, SessionAwareAdapter } from 'socket.io-adapter';
import { io as connectClient, type Socket } from 'socket.io-client';
import { HeldSessions } from '../src/rooms/held-sessions.js';
import { heraldAdapter, roomsAdapter } from '../src/rooms/rooms-adapter.js';

type BroadcastArgs = Parameters<Adapter['broadcast']>;

/**
 * An adapter that keeps its own members per room, as an engine with topics does (Socket.IO's
 * µWebSockets.js engine subscribes a socket's websocket to a topic per room in `addAll`,
 * unsubscribes it in `del` and `delAll`, and publishes a one-room broadcast to the topic).
 */
class TopicAdapter extends Adapter {
  readonly topics = new Map<string, Set<string>>();
  /** The rooms `del` was called for. */
  readonly dels: string[] = [];

  override addAll(id: string, rooms: Set<string>): void {
    super.addAll(id, rooms);
    for (const room of rooms) {
      const topic = this.topics.get(room) ?? new Set<string>();
      topic.add(id);
      this.topics.set(room, topic);
    }
  }

  override del(id: string, room: string): void {
    this.dels.push(room);
    super.del(id, room);
    this.topics.get(room)?.delete(id);
  }

  override delAll(id: string): void {
    super.delAll(id);
    for (const topic of this.topics.values()) topic.delete(id);
  }

  override broadcast(packet: BroadcastArgs[0], opts: BroadcastArgs[1]): void {
    const [room] = opts.rooms;
    if (opts.rooms.size !== 1 || (opts.except?.size ?? 0) > 0) {
      super.broadcast(packet, opts);
      return;
    }
    const [event, ...args] = packet.data as [string, ...unknown[]];
    for (const id of this.topics.get(room!) ?? []) this.nsp.sockets.get(id)?.emit(event, ...args);
  }
}

/** A Socket.IO server on Herald's adapter, and a connected client. */
async function serverWithClient(lingerMs: number, Base: typeof Adapter = Adapter) {
  const http = createServer();
  const io = new Server(http, { adapter: heraldAdapter(Base, lingerMs) });
  const connected = new Promise<ServerSocket>((resolve) => io.on('connection', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const client: Socket = connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
  const socket = await connected;
  const deleted: string[] = [];
  io.of('/').adapter.on('delete-room', (room: string) => deleted.push(room));
  const close = async () => {
    client.disconnect();
    await io.close();
  };
  return { io, client, socket, deleted, rooms: io.of('/').adapter.rooms, close };
}

describe("Herald's rooms adapter", () => {
  test('a room its last member leaves stays, empty and silent, then goes; a disconnect empties at once', async () => {
    const { io, client, socket, deleted, rooms, close } = await serverWithClient(100);
    try {
      const received: string[] = [];
      client.on('news', (text: string) => received.push(text));
      socket.join('doc:ToDo/T-1');
      socket.leave('doc:ToDo/T-1');
      assert.equal(rooms.get('doc:ToDo/T-1')?.size, 0, 'kept, empty');
      assert.ok(!socket.rooms.has('doc:ToDo/T-1'), 'the socket is out of it');
      io.to('doc:ToDo/T-1').emit('news', 'to the empty room');
      io.to(socket.id).emit('news', 'to the socket');
      await waitFor(() => received.length > 0, { what: 'the direct event' });
      assert.deepEqual(received, ['to the socket'], 'the empty room delivers nothing');
      assert.deepEqual(deleted, []);
      await waitFor(() => !rooms.has('doc:ToDo/T-1'), { what: 'the sweep' });
      assert.deepEqual(deleted, ['doc:ToDo/T-1']);

      // Joined again before the sweep: the sweep leaves it alone.
      socket.join('doc:ToDo/T-2');
      socket.leave('doc:ToDo/T-2');
      socket.join('doc:ToDo/T-2');
      socket.join('doc:ToDo/T-3');
      socket.leave('doc:ToDo/T-3');
      await waitFor(() => !rooms.has('doc:ToDo/T-3'), { what: 'the second sweep' });
      assert.deepEqual(rooms.get('doc:ToDo/T-2'), new Set([socket.id]));

      // A disconnect removes the socket's rooms as Socket.IO always did.
      client.disconnect();
      await waitFor(() => !rooms.has('doc:ToDo/T-2') && !rooms.has(socket.id), {
        what: 'the rooms of a gone socket',
      });
    } finally {
      await close();
    }
  });

  test('closing the adapter removes the rooms it kept, without waiting for the sweep', async () => {
    const { io, socket, rooms, close } = await serverWithClient(60_000);
    socket.join('doctype:ToDo');
    socket.leave('doctype:ToDo');
    assert.equal(rooms.get('doctype:ToDo')?.size, 0);
    await io.of('/').adapter.close();
    assert.ok(!rooms.has('doctype:ToDo'));
    await close();
  });

  test('broadcasts: one room, several rooms (each socket once), with an exception; fetchSockets', async () => {
    const { io, client: first, socket: s1, close } = await serverWithClient(60_000);
    const { port } = io.httpServer.address() as AddressInfo;
    const more = new Promise<ServerSocket[]>((resolve) => {
      const sockets: ServerSocket[] = [];
      io.on('connection', (socket) => {
        sockets.push(socket);
        if (sockets.length === 2) resolve(sockets);
      });
    });
    const others = [0, 1].map(() =>
      connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] }),
    );
    try {
      const [s2, s3] = await more;
      const clients = [first, ...others];
      // Which client is which server socket: by id.
      const byId = new Map(clients.map((c) => [c, [] as string[]]));
      for (const c of clients) c.on('news', (text: string) => byId.get(c)!.push(text));
      await waitFor(() => clients.every((c) => c.id !== undefined), { what: 'client ids' });
      const heard = (socket: ServerSocket) => byId.get(clients.find((c) => c.id === socket.id)!)!;
      s1.join(['a', 'b']);
      s2!.join('a');
      s3!.join('b');
      io.to('a').emit('news', 'a');
      io.to('a').to('b').emit('news', 'a+b');
      io.to('a').except(s2!.id).emit('news', 'a but not s2');
      io.to('b').emit('news', 'b');
      await waitFor(() => heard(s3!).length === 2 && heard(s1).length === 4, { what: 'news' });
      await waitFor(() => heard(s2!).length === 2, { what: 'news to s2' });
      assert.deepEqual(heard(s1), ['a', 'a+b', 'a but not s2', 'b']);
      assert.deepEqual(heard(s2!), ['a', 'a+b']);
      assert.deepEqual(heard(s3!), ['a+b', 'b']);
      const inA = (await io.in('a').fetchSockets()).map((s) => s.id).sort();
      assert.deepEqual(inA, [s1.id, s2!.id].sort());
    } finally {
      for (const c of others) c.disconnect();
      await close();
    }
  });

  test('session-aware when connection state recovery is on, as Socket.IO chooses by default', () => {
    const held = new HeldSessions(1000, 60_000);
    assert.ok(roomsAdapter(held).prototype instanceof SessionAwareAdapter);
    assert.ok(!(roomsAdapter(undefined).prototype instanceof SessionAwareAdapter));
    assert.ok(roomsAdapter(undefined).prototype instanceof Adapter);
  });

  for (const lingerMs of [60_000, 0]) {
    test(`a socket that leaves a room gets none of its events, under an engine that hooks del (lingering rooms ${lingerMs > 0 ? 'on' : 'off'})`, async () => {
      const { io, client, socket, rooms, close } = await serverWithClient(lingerMs, TopicAdapter);
      try {
        const received: string[] = [];
        client.on('news', (text: string) => received.push(text));
        socket.join('doc:ToDo/T-1');
        io.to('doc:ToDo/T-1').emit('news', 'while in the room');
        await waitFor(() => received.length === 1, { what: 'the event to the room' });
        socket.leave('doc:ToDo/T-1');
        io.to('doc:ToDo/T-1').emit('news', 'after leaving');
        io.to(socket.id).emit('news', 'to the socket');
        await waitFor(() => received.includes('to the socket'), { what: 'the direct event' });
        assert.deepEqual(received, ['while in the room', 'to the socket']);
        assert.equal(rooms.has('doc:ToDo/T-1'), lingerMs > 0, 'kept, empty, only when lingering');
      } finally {
        await close();
      }
    });
  }

  test("del is the base's: a subclass's del sees every leave, and the emptied room stays", async () => {
    const { io, socket, deleted, rooms, close } = await serverWithClient(60_000, TopicAdapter);
    try {
      const adapter = io.of('/').adapter as unknown as TopicAdapter;
      socket.join(['a', 'b']);
      socket.leave('a');
      socket.leave('b');
      socket.leave('never joined');
      assert.deepEqual(adapter.dels, ['a', 'b', 'never joined']);
      assert.equal(rooms.get('a')?.size, 0);
      assert.equal(rooms.get('b')?.size, 0);
      assert.deepEqual(deleted, [], 'no delete-room while they linger');
    } finally {
      await close();
    }
  });
});
