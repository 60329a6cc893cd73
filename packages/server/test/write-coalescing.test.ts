import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '@herald/testkit';
import { SITE1 } from './helpers/fixtures.js';
import { recorder, startStack } from './helpers/stack.js';

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
  /** Counts the writes a server-side socket's TCP connection makes from now on. */
  function countWrites(raw: { _write: unknown; _writev: unknown }): () => number {
    let writes = 0;
    for (const method of ['_write', '_writev'] as const) {
      const original = raw[method] as (...args: unknown[]) => unknown;
      raw[method] = function (this: unknown, ...args: unknown[]) {
        writes += 1;
        return original.apply(this, args);
      };
    }
    return () => writes;
  }

  for (const writeCoalescing of [true, false]) {
    test(`a burst of 50 events to one socket in one turn: ${writeCoalescing ? 'the first frame at once, the rest in one write' : 'a write per event'}`, async () => {
      const stack = await startStack({ config: { writeCoalescing } });
      try {
        const client = await stack.connect({ site: SITE1, sid: 'sid-alice' });
        const record = recorder(client);
        const nsp = stack.herald.io.of(`/${SITE1}`);
        const [server] = nsp.sockets.values();
        const transport = server!.conn.transport as unknown as {
          name: string;
          socket: { _socket: { _write: unknown; _writev: unknown } };
        };
        assert.equal(transport.name, 'websocket');
        // Idle: nothing of the connect is still being written.
        await waitFor(() => (server!.conn.transport as unknown as { writable: boolean }).writable, {
          what: 'an idle connection',
        });
        const writes = countWrites(transport.socket._socket);
        nsp.to(server!.id).emit('tick', { i: 0 });
        // The first frame is written at once, in the emit, not at the end of the turn.
        assert.equal(writes(), 1, 'the first frame leaves at once');
        for (let i = 1; i < 50; i += 1) nsp.to(server!.id).emit('tick', { i });
        await waitFor(() => record.of('tick').length >= 50, { what: '50 ticks' });
        assert.deepEqual(
          record.of('tick').map(([m]) => (m as { i: number }).i),
          Array.from({ length: 50 }, (_, i) => i),
        );
        if (writeCoalescing) assert.equal(writes(), 2);
        else assert.ok(writes() >= 25, `${writes()} writes`);
        client.disconnect();
      } finally {
        await stack.close();
      }
    });
  }
});
