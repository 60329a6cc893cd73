import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { recorder, startStack } from './helpers/stack.js';
import { countWrites } from './helpers/tcp-writes.js';

for (const writeCoalescing of [true, false]) {
  describe(`a burst of events with write coalescing ${writeCoalescing ? 'on' : 'off'}`, () => {
    test('every socket gets every event once, in order, over websocket and polling', async () => {
      // Node's polling transport cannot set Host: the site comes from default_site for 127.0.0.1.
      const stack = await startStack({ config: { writeCoalescing, defaultSite: SITE1 } });
      try {
        const sockets = await Promise.all([
          stack.connect({ site: SITE1, sid: 'sid-admin' }),
          stack.connect({ site: SITE1, sid: 'sid-alice' }),
          stack.connect({
            site: SITE1,
            sid: 'sid-bob',
            transports: ['polling'],
            host: null,
            origin: null,
          }),
        ]);
        const records = sockets.map(recorder);
        const total = 500;
        for (let i = 0; i < total; i += 1) {
          void stack.herald.publish({
            event: 'tick',
            message: { i },
            room: 'all',
            namespace: SITE1,
          });
        }
        await waitFor(() => records.every((r) => r.of('tick').length >= total), {
          what: `${total} ticks on every socket`,
          timeoutMs: 20_000,
        });
        for (const r of records) {
          assert.deepEqual(
            r.of('tick').map(([m]) => (m as { i: number }).i),
            Array.from({ length: total }, (_, i) => i),
          );
        }
        for (const s of sockets) s.disconnect();
      } finally {
        await stack.close();
      }
    });
  });
}

describe('write coalescing: what reaches the TCP socket', () => {
  type ServerTransport = {
    name: string;
    writable: boolean;
    socket: { _socket: { _write: unknown; _writev: unknown } };
  };
  const transportOf = (socket: { conn: { transport: unknown } }) =>
    socket.conn.transport as ServerTransport;

  for (const writeCoalescing of [true, false]) {
    test(`a burst of 50 events to one socket in one turn: ${writeCoalescing ? 'one write, at the end of the turn' : 'a write per event'}`, async () => {
      const stack = await startStack({ config: { writeCoalescing } });
      try {
        const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
        const record = recorder(client);
        const nsp = stack.herald.io.of(`/${SITE1}`);
        const [server] = nsp.sockets.values();
        const transport = transportOf(server!);
        assert.equal(transport.name, 'websocket');
        // Idle: the client has its session's first event, and nothing of the connect is still
        // being written.
        await waitFor(
          () =>
            Boolean((client as unknown as { _lastOffset?: string })._lastOffset) &&
            transportOf(server!).writable,
          { what: 'an idle connection' },
        );
        const writes = countWrites(transport.socket._socket);
        for (let i = 0; i < 50; i += 1) nsp.to(server!.id).emit('tick', { i });
        if (writeCoalescing) assert.equal(writes(), 0, 'held until the end of the turn');
        else assert.equal(writes(), 1, 'the first frame leaves in the emit');
        await waitFor(() => record.of('tick').length >= 50, { what: '50 ticks' });
        assert.deepEqual(
          record.of('tick').map(([m]) => (m as { i: number }).i),
          Array.from({ length: 50 }, (_, i) => i),
        );
        if (writeCoalescing) assert.equal(writes(), 1);
        else assert.ok(writes() >= 25, `${writes()} writes`);
        client.disconnect();
      } finally {
        await stack.close();
      }
    });
  }

  test('an event to 20 sockets in one turn: the first 16 are written together before the turn ends, the other 4 at its end', async () => {
    const stack = await startStack({ config: { writeCoalescing: true } });
    try {
      const clients = await Promise.all(
        Array.from({ length: 20 }, () => stack.connect({ site: SITE1, sid: 'sid-alice' })),
      );
      const records = clients.map(recorder);
      const nsp = stack.herald.io.of(`/${SITE1}`);
      const servers = [...nsp.sockets.values()];
      assert.equal(servers.length, 20);
      // Idle: each client has its session's first event (its recovery offset), and nothing of
      // the connect is still being written.
      await waitFor(
        () =>
          clients.every((c) => (c as unknown as { _lastOffset?: string })._lastOffset) &&
          servers.every((s) => transportOf(s).writable),
        { what: 'idle connections' },
      );
      const writes = servers.map((s) => countWrites(transportOf(s).socket._socket));
      for (const [i, s] of servers.entries()) nsp.to(s.id).emit('tick', { i });
      assert.deepEqual(
        writes.map((w) => w()),
        [...Array(16).fill(1), ...Array(4).fill(0)],
        'the first group is written in the turn, the rest is held',
      );
      await waitFor(() => records.every((r) => r.of('tick').length === 1), {
        what: 'a tick on every socket',
      });
      assert.deepEqual(
        writes.map((w) => w()),
        Array(20).fill(1),
      );
      for (const client of clients) client.disconnect();
    } finally {
      await stack.close();
    }
  });
});
