import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { Server, type Socket as ServerSocket } from 'socket.io';
import { Adapter, SessionAwareAdapter } from 'socket.io-adapter';
import { io as connectClient, type Socket } from 'socket.io-client';
import { lingeringRooms, roomsAdapter } from '../src/rooms/lingering-rooms.js';

/** A Socket.IO server on the lingering-rooms adapter, and a connected client. */
async function serverWithClient(lingerMs: number) {
  const http = createServer();
  const io = new Server(http, { adapter: lingeringRooms(Adapter, lingerMs) });
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

describe('lingering rooms (the adapter)', () => {
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

  test('session-aware when connection state recovery is on, as Socket.IO chooses by default', () => {
    assert.ok(roomsAdapter(true).prototype instanceof SessionAwareAdapter);
    assert.ok(!(roomsAdapter(false).prototype instanceof SessionAwareAdapter));
    assert.ok(roomsAdapter(false).prototype instanceof Adapter);
  });
});
